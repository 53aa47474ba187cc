//! A local ApsaraMQ for MQTT management API: every operation of `onsmqtt` 2020-04-20 with
//! state, authentication like the real service, and optional persistence, for tests and offline
//! use.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! let local = onsmqtt_local::start(onsmqtt_local::Config::demo()).await?;
//! let client = local.client().map_err(|e| e.to_string())?;
//! let out = client.list_group_id().instance_id(&local.instance_ids()[0]).send().await;
//! assert!(out.is_ok());
//! local.stop().await;
//! # Ok(()) }
//! ```
//!
//! The request handling is the server side the generator writes from the same spec as the client
//! ([`generated`]); this crate adds the state and rules ([`service`]), the HTTP front ([`http`]),
//! authentication ([`auth`]) and the store ([`store`]).

#![forbid(unsafe_code)]

pub mod auth;
pub mod broker;
pub mod certs;
#[rustfmt::skip]
#[allow(missing_docs, clippy::all)]
pub mod generated;
pub mod http;
pub mod mqtt;
pub mod server;
pub mod service;
pub mod state;
pub mod store;

pub use auth::Account;
pub use broker::{Broker, NoBroker};

use auth::Verifier;
use server::{ApiError, Context, Reply, error_reply, new_request_id};
use service::Local;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// An instance to create at start (if the store does not have it already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceConfig {
    /// Instance ID.
    pub id: String,
    /// Name of the owning [`Account`].
    pub owner: String,
    /// Region ID.
    pub region: String,
}

/// How to run the service.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Accounts allowed to call.
    pub accounts: Vec<Account>,
    /// Instances.
    pub instances: Vec<InstanceConfig>,
    /// Where to persist; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// The broker answering for live clients when [`Config::mqtt`] is off.
    pub broker: Arc<dyn Broker>,
    /// Start an embedded MQTT broker per instance (on by default); it then answers for live
    /// clients instead of [`Config::broker`].
    pub mqtt: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("accounts", &self.accounts)
            .field("instances", &self.instances)
            .field("data_dir", &self.data_dir)
            .field("mqtt", &self.mqtt)
            .finish_non_exhaustive()
    }
}

/// The demo account's AccessKey ID.
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tLocalDemoAccessKey";
/// The demo account's AccessKey secret: public, for a local service only.
pub const DEMO_ACCESS_KEY_SECRET: &str = "local-demo-secret-not-for-production";
/// The demo instance.
pub const DEMO_INSTANCE_ID: &str = "mqtt-cn-local0001";

impl Config {
    /// One demo account owning one instance in `cn-hangzhou`, in memory, on a free port of
    /// 127.0.0.1, with an embedded MQTT broker on another free port.
    pub fn demo() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            accounts: vec![Account {
                name: "demo".into(),
                access_key_id: DEMO_ACCESS_KEY_ID.into(),
                access_key_secret: DEMO_ACCESS_KEY_SECRET.into(),
                security_token: None,
            }],
            instances: vec![InstanceConfig {
                id: DEMO_INSTANCE_ID.into(),
                owner: "demo".into(),
                region: "cn-hangzhou".into(),
            }],
            data_dir: None,
            broker: Arc::new(NoBroker),
            mqtt: true,
        }
    }
}

/// A running service.
pub struct Running {
    addr: SocketAddr,
    accounts: Vec<Account>,
    instance_ids: Vec<String>,
    service: Arc<App>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    brokers: Vec<onsmqtt_local_mqtt::MqttBroker>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Running {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first account (the demo account with [`Config::demo`]).
    pub fn account(&self) -> &Account {
        &self.accounts[0]
    }

    /// Every account.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The configured instances.
    pub fn instance_ids(&self) -> &[String] {
        &self.instance_ids
    }

    /// Credentials of the first account.
    pub fn credentials(&self) -> alibabacloud_onsmqtt::Credentials {
        let a = self.account();
        let c = alibabacloud_onsmqtt::Credentials::new(a.access_key_id.clone(), a.access_key_secret.clone());
        match &a.security_token {
            Some(t) => c.with_security_token(t.clone()),
            None => c,
        }
    }

    /// A client configuration for the first account and this endpoint.
    pub fn config(&self) -> alibabacloud_onsmqtt::ConfigBuilder {
        alibabacloud_onsmqtt::Config::builder().endpoint(self.endpoint()).credentials(self.credentials())
    }

    /// A client for the first account.
    pub fn client(&self) -> Result<alibabacloud_onsmqtt::Client, alibabacloud_onsmqtt::ConfigError> {
        self.config().build().map(alibabacloud_onsmqtt::Client::new)
    }

    /// The MQTT address of each instance's embedded broker (empty when [`Config::mqtt`] is off).
    pub fn mqtt_addrs(&self) -> Vec<(String, SocketAddr)> {
        self.brokers.iter().map(|b| (b.handle().instance_id().to_owned(), b.local_addr())).collect()
    }

    /// The MQTT address of `instance_id`'s broker.
    pub fn mqtt_addr(&self, instance_id: &str) -> Option<SocketAddr> {
        self.brokers.iter().find(|b| b.handle().instance_id() == instance_id).map(|b| b.local_addr())
    }

    /// The broker of `instance_id`, for tests.
    pub fn mqtt_broker(&self, instance_id: &str) -> Option<onsmqtt_local_mqtt::BrokerHandle> {
        self.brokers.iter().map(|b| b.handle()).find(|h| h.instance_id() == instance_id)
    }

    /// The service's state and rules, for tests and for a broker.
    pub fn service(&self) -> &Local {
        &self.service.local
    }

    /// Stops listening and waits for the accept loop to end.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        for b in self.brokers {
            b.shutdown().await;
        }
    }
}

/// The HTTP responder: authentication, routing, the generated dispatcher over [`Local`].
pub struct App {
    verifier: Verifier,
    local: Local,
}

impl App {
    async fn answer(&self, req: http::RawRequest) -> Result<Reply, ApiError> {
        let pairs = req.pairs()?;
        let (account, scheme) = self.verifier.verify(&req)?;
        let params = server::Params::from_pairs(pairs);
        let (action, version) = match scheme {
            auth::Scheme::V3 => (req.header("x-acs-action"), req.header("x-acs-version")),
            auth::Scheme::V1 => (params.get("Action"), params.get("Version")),
        };
        let action = action.unwrap_or_default();
        if version != Some(generated::API_VERSION) {
            return Err(ApiError::new(400, "InvalidVersion", "Specified parameter Version is not valid."));
        }
        let ctx = Context {
            request_id: new_request_id(),
            access_key_id: account.access_key_id.clone(),
            account: account.name.clone(),
        };
        generated::dispatch(&self.local, &ctx, action, &params).await.ok_or_else(|| {
            ApiError::new(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        })
    }
}

impl http::Respond for App {
    async fn respond(&self, req: http::RawRequest) -> Reply {
        match self.answer(req).await {
            Ok(reply) => reply,
            Err(e) => {
                let ctx = Context {
                    request_id: new_request_id(),
                    access_key_id: String::new(),
                    account: String::new(),
                };
                error_reply(&ctx, e, false)
            }
        }
    }
}

/// Builds the state (from the store when there is one, with the configured instances added) and
/// the responder, without listening.
pub fn build(config: &Config) -> Result<App, String> {
    build_with(config, config.broker.clone())
}

fn build_with(config: &Config, broker: Arc<dyn Broker>) -> Result<App, String> {
    let store = match &config.data_dir {
        Some(dir) => Some(store::Store::open(dir)?),
        None => None,
    };
    let mut st = match &store {
        Some(s) => s.load()?.unwrap_or_default(),
        None => state::State::default(),
    };
    let now = state::now_ms();
    for i in &config.instances {
        if !config.accounts.iter().any(|a| a.name == i.owner) {
            return Err(format!("instance {} names the account {}, which is not configured", i.id, i.owner));
        }
        st.instances.entry(i.id.clone()).or_insert_with(|| state::Instance {
            id: i.id.clone(),
            owner: i.owner.clone(),
            name: i.id.clone(),
            region: i.region.clone(),
            instance_type: 3,
            status: 2,
            create_time: now,
            expire_time: now + 365 * 86_400_000,
            register_code: state::random_hex(16),
            ..state::Instance::default()
        });
    }
    if let Some(s) = &store {
        s.save(&st)?;
    }
    if config.accounts.is_empty() {
        return Err("at least one account is needed".into());
    }
    Ok(App { verifier: Verifier::new(&config.accounts), local: Local::new(st, store, broker) })
}

/// Starts the service on `config.bind` (port 0: a free port) and returns once it listens.
pub async fn start(config: Config) -> Result<Running, String> {
    let (app, brokers) = if config.mqtt {
        let slot = Arc::new(std::sync::OnceLock::new());
        let source: Arc<dyn onsmqtt_local_mqtt::AuthSource> =
            Arc::new(mqtt::StateSource::new(&config.accounts, slot.clone()));
        let mut brokers = Vec::new();
        let mut handles = std::collections::HashMap::new();
        for i in &config.instances {
            let b = onsmqtt_local_mqtt::MqttBroker::start(
                onsmqtt_local_mqtt::BrokerConfig::new(&i.id),
                source.clone(),
            )
            .await
            .map_err(|e| format!("cannot start the MQTT broker of {}: {e}", i.id))?;
            handles.insert(i.id.clone(), b.handle());
            brokers.push(b);
        }
        let app = Arc::new(build_with(&config, Arc::new(mqtt::MqttBrokers::new(handles)))?);
        // The source holds the service weakly: the brokers' handles live in the service.
        let _ = slot.set(Arc::downgrade(&app));
        (app, brokers)
    } else {
        (Arc::new(build(&config)?), Vec::new())
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(http::serve(listener, app.clone(), rx));
    Ok(Running {
        addr,
        accounts: config.accounts.clone(),
        instance_ids: config.instances.iter().map(|i| i.id.clone()).collect(),
        service: app,
        shutdown: tx,
        task,
        brokers,
    })
}
