//! The embedded broker: rmqtt with our hooks, and the handle the API side uses.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rmqtt::codec::types::QoS;
use rmqtt::codec::v5::{PublishProperties, SubscribeAckReason};
use rmqtt::context::ServerContext;
use rmqtt::hook::{Handler, HookResult, Parameter, Register, ReturnType, Type};
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;
use rmqtt::session::{Session, SessionState};
use rmqtt::types::{
    AuthResult, ClientId, CodecPublish, From as MsgFrom, Id, Publish, PublishAclResult, SubscribeAclResult,
};
use tokio::task::JoinHandle;

use crate::auth::{self, Grant, Refusal};
use crate::source::{Action, AuthSource};
use crate::trace::{MsgIdGenerator, TraceEvent, TraceKind, TraceLog, now_ms};

/// The MQTT 5 user property that carries a message's ID through the broker (MQTT 3.1.1
/// subscribers never see it).
pub const MSG_ID_PROPERTY: &str = "mqtt-msg-id";

/// How to run a broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// The instance this broker serves; every client must name it (or belong to it, for custom
    /// authentication). One broker per instance, as each ApsaraMQ instance has its own endpoint.
    pub instance_id: String,
    /// Where to listen; the default `127.0.0.1:0` picks a free port.
    pub bind: SocketAddr,
    /// Largest MQTT packet accepted, in bytes; bigger ones close the connection. Default
    /// 64 KiB plus headers (ApsaraMQ's message size limit is 64 KB).
    pub max_packet_size: u32,
    /// Most simultaneous connections. Default 10 000.
    pub max_connections: usize,
    /// Most CONNECTs being processed at once; more wait. Default 200.
    pub max_handshaking: usize,
    /// How long a new connection may take to send CONNECT. Default 5 s.
    pub handshake_timeout: Duration,
    /// Messages queued for one subscriber beyond its in-flight window; more are dropped (and
    /// not traced as delivered). Default 1000.
    pub max_queued_messages: usize,
    /// Events kept in the trace log. Default 100 000.
    pub trace_capacity: usize,
    /// Skip ApsaraMQ authentication and permissions entirely (anonymous clients accepted,
    /// every topic allowed); traces and sessions still work. For benchmarks against the bare
    /// broker only.
    pub disable_auth: bool,
}

impl BrokerConfig {
    /// Defaults for `instance_id`.
    pub fn new(instance_id: impl Into<String>) -> Self {
        Self {
            instance_id: instance_id.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_packet_size: 64 * 1024 + 1024,
            max_connections: 10_000,
            max_handshaking: 200,
            handshake_timeout: Duration::from_secs(5),
            max_queued_messages: 1000,
            trace_capacity: 100_000,
            disable_auth: false,
        }
    }
}

/// Errors starting a broker or using its handle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The listener could not be set up (address in use, ...).
    #[error("cannot listen on {addr}: {message}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What went wrong.
        message: String,
    },
    /// A publish was refused: bad topic or QoS.
    #[error("invalid publish: {0}")]
    InvalidPublish(&'static str),
    /// The broker failed to route a message.
    #[error("routing failed: {0}")]
    Routing(String),
}

/// An online client, as [`BrokerHandle::online_sessions`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The client ID.
    pub client_id: String,
    /// How it authenticated.
    pub mode: auth::AuthMode,
    /// Its address.
    pub remote_addr: Option<SocketAddr>,
    /// When it connected, milliseconds since the Unix epoch.
    pub connected_at_ms: i64,
    /// An ID of the network connection.
    pub channel_id: String,
}

struct Connection {
    grant: Grant,
    info: SessionInfo,
}

/// A connection: client ID and remote address.
type ConnectionKey = (String, Option<SocketAddr>);

/// State the hooks share with the handle (never the rmqtt context, so no reference cycle).
struct Shared {
    instance_id: String,
    source: Arc<dyn AuthSource>,
    disable_auth: bool,
    trace: TraceLog,
    ids: MsgIdGenerator,
    /// Accepted by the authenticate hook, not yet connected (with when, to forget handshakes
    /// that failed after authentication).
    pending: Mutex<HashMap<ConnectionKey, (Grant, std::time::Instant)>>,
    /// Connected clients by client ID.
    online: Mutex<HashMap<String, Connection>>,
    /// Client IDs being closed through the API, for the disconnect reason.
    closing: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn channel_id(id: &Id) -> String {
    match id.remote_addr {
        Some(addr) => format!("{}-{}", id.client_id, addr),
        None => id.client_id.to_string(),
    }
}

impl Shared {
    fn trace(&self, client_id: &str, channel_id: String, kind: TraceKind) {
        self.trace.push(TraceEvent {
            time_ms: now_ms(),
            instance_id: self.instance_id.clone(),
            client_id: client_id.to_owned(),
            channel_id,
            kind,
        });
    }

    fn grant_of(&self, session: &Session) -> Option<Grant> {
        let online = lock(&self.online);
        let conn = online.get(&*session.id.client_id)?;
        (conn.info.remote_addr == session.id.remote_addr).then(|| conn.grant.clone())
    }

    fn allowed(&self, session: &Session, action: Action, topic: &str) -> bool {
        if self.disable_auth {
            return true;
        }
        match self.grant_of(session) {
            Some(grant) => auth::authorize(self.source.as_ref(), &grant, action, topic, now_ms()),
            None => false,
        }
    }
}

fn msg_id_of(publish: &Publish) -> Option<String> {
    let props = publish.inner.properties.as_ref()?;
    props.user_properties.iter().find(|(k, _)| k == MSG_ID_PROPERTY).map(|(_, v)| v.to_string())
}

fn with_msg_id(publish: &Publish, msg_id: &str) -> Publish {
    let mut p = publish.clone();
    let props = p.inner.properties.get_or_insert_with(PublishProperties::default);
    props.user_properties.retain(|(k, _)| k != MSG_ID_PROPERTY);
    props.user_properties.push((MSG_ID_PROPERTY.into(), msg_id.into()));
    p
}

#[derive(Clone)]
struct Hooks(Arc<Shared>);

#[async_trait]
impl Handler for Hooks {
    async fn hook(&self, param: &Parameter, acc: Option<HookResult>) -> ReturnType {
        let shared = &self.0;
        match param {
            Parameter::ClientAuthenticate(info) => {
                let id = info.id();
                let client_id = info.client_id().to_string();
                let decision = if shared.disable_auth {
                    Ok(None)
                } else {
                    auth::authenticate(
                        shared.source.as_ref(),
                        &shared.instance_id,
                        &client_id,
                        info.username().map(|u| &**u),
                        info.password().map(|p| &**p),
                        now_ms(),
                    )
                    .map(Some)
                };
                match decision {
                    Ok(grant) => {
                        if let Some(grant) = grant {
                            let mut pending = lock(&shared.pending);
                            if pending.len() >= 1024 {
                                pending.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(60));
                            }
                            pending.insert((client_id, id.remote_addr), (grant, std::time::Instant::now()));
                        }
                        (false, Some(HookResult::AuthResult(AuthResult::Allow(false, None))))
                    }
                    Err(refusal) => {
                        // rmqtt 0.18 can answer a refused authentication only with "bad user
                        // name or password" or "not authorized"; identifier problems go out as
                        // "not authorized" (too long or empty IDs get "identifier rejected" from
                        // rmqtt itself).
                        let (code, result) = match refusal {
                            Refusal::BadUserNameOrPassword(_) => (4, AuthResult::BadUsernameOrPassword),
                            Refusal::NotAuthorized(_) | Refusal::IdentifierRejected(_) => {
                                (5, AuthResult::NotAuthorized)
                            }
                        };
                        shared.trace(
                            &client_id,
                            channel_id(id),
                            TraceKind::ConnectRefused {
                                return_code: code,
                                reason: refusal.reason().to_owned(),
                            },
                        );
                        (false, Some(HookResult::AuthResult(result)))
                    }
                }
            }
            Parameter::ClientConnected(session) => {
                let client_id = session.id.client_id.to_string();
                let key = (client_id.clone(), session.id.remote_addr);
                let grant = lock(&shared.pending).remove(&key).map(|(grant, _)| grant);
                let grant = match grant {
                    Some(grant) => grant,
                    None if shared.disable_auth => Grant {
                        mode: auth::AuthMode::Custom,
                        instance_id: shared.instance_id.clone(),
                        client_id: client_id.clone(),
                        scope: auth::Scope::All,
                    },
                    // Not authenticated by us: should not happen; leave it without rights.
                    None => Grant {
                        mode: auth::AuthMode::Custom,
                        instance_id: shared.instance_id.clone(),
                        client_id: client_id.clone(),
                        scope: auth::Scope::Custom {
                            identity_type: crate::source::IdentityType::Client,
                            identity: String::new(),
                        },
                    },
                };
                let channel = channel_id(&session.id);
                let info = SessionInfo {
                    client_id: client_id.clone(),
                    mode: grant.mode,
                    remote_addr: session.id.remote_addr,
                    connected_at_ms: now_ms(),
                    channel_id: channel.clone(),
                };
                lock(&shared.online).insert(client_id.clone(), Connection { grant, info });
                shared.trace(&client_id, channel, TraceKind::Connect);
                (true, acc)
            }
            Parameter::ClientDisconnected(session, reason) => {
                let client_id = session.id.client_id.to_string();
                {
                    let mut online = lock(&shared.online);
                    if online.get(&client_id).is_some_and(|c| c.info.remote_addr == session.id.remote_addr) {
                        online.remove(&client_id);
                    }
                }
                let by_api = lock(&shared.closing).remove(&client_id);
                let reason = if by_api { "closed by CloseConnection".to_owned() } else { reason.to_string() };
                shared.trace(&client_id, channel_id(&session.id), TraceKind::Disconnect { reason });
                (true, acc)
            }
            Parameter::ClientSubscribeCheckAcl(session, subscribe) => {
                let result = if shared.allowed(session, Action::Subscribe, &subscribe.topic_filter) {
                    SubscribeAclResult::new_success(subscribe.opts.qos(), None)
                } else {
                    SubscribeAclResult::new_failure(SubscribeAckReason::NotAuthorized)
                };
                (false, Some(HookResult::SubscribeAclResult(result)))
            }
            Parameter::MessagePublish(session, _from, publish) => {
                // Client publishes always get a fresh ID; API publishes arrive with theirs.
                if session.is_none() && msg_id_of(publish).is_some() {
                    return (true, acc);
                }
                let msg_id = shared.ids.next();
                (true, Some(HookResult::Publish(with_msg_id(publish, &msg_id))))
            }
            Parameter::MessagePublishCheckAcl(session, publish) => {
                let topic = &*publish.inner.topic;
                if shared.allowed(session, Action::Publish, topic) {
                    let msg_id = msg_id_of(publish).unwrap_or_default();
                    shared.trace(
                        &session.id.client_id,
                        channel_id(&session.id),
                        TraceKind::Publish { msg_id, topic: topic.to_owned(), from_api: false },
                    );
                    (false, Some(HookResult::PublishAclResult(PublishAclResult::allow())))
                } else {
                    // ApsaraMQ closes a connection that publishes outside its permissions.
                    let refused =
                        PublishAclResult::rejected(true, Some("not authorized for this topic".into()));
                    (false, Some(HookResult::PublishAclResult(refused)))
                }
            }
            Parameter::MessageDelivered(session, _from, publish) => {
                let msg_id = msg_id_of(publish).unwrap_or_default();
                shared.trace(
                    &session.id.client_id,
                    channel_id(&session.id),
                    TraceKind::Deliver { msg_id, topic: publish.inner.topic.to_string() },
                );
                (true, acc)
            }
            _ => (true, acc),
        }
    }
}

/// A running broker. Dropping it stops accepting connections; [`MqttBroker::shutdown`] also
/// closes the open ones.
pub struct MqttBroker {
    handle: BrokerHandle,
    server: JoinHandle<()>,
    _register: Box<dyn Register>,
}

impl fmt::Debug for MqttBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttBroker").field("handle", &self.handle).finish_non_exhaustive()
    }
}

impl MqttBroker {
    /// Starts a broker for `config.instance_id`, consulting `source` for every CONNECT,
    /// SUBSCRIBE and PUBLISH. Must be called inside a multi-threaded Tokio runtime.
    pub async fn start(config: BrokerConfig, source: Arc<dyn AuthSource>) -> Result<Self, BrokerError> {
        let scx = ServerContext::new().busy_check_enable(false).mqtt_delayed_publish_max(0).build().await;
        let shared = Arc::new(Shared {
            instance_id: config.instance_id.clone(),
            source,
            disable_auth: config.disable_auth,
            trace: TraceLog::new(config.trace_capacity),
            ids: MsgIdGenerator::new(),
            pending: Mutex::new(HashMap::new()),
            online: Mutex::new(HashMap::new()),
            closing: Mutex::new(HashSet::new()),
        });
        let register = scx.extends.hook_mgr().register();
        for typ in [
            Type::ClientAuthenticate,
            Type::ClientConnected,
            Type::ClientDisconnected,
            Type::ClientSubscribeCheckAcl,
            Type::MessagePublish,
            Type::MessagePublishCheckAcl,
            Type::MessageDelivered,
        ] {
            register.add(typ, Box::new(Hooks(shared.clone()))).await;
        }
        register.start().await;

        let listen_error =
            |e: rmqtt::Error| BrokerError::Listen { addr: config.bind, message: e.to_string() };
        let listener = Builder::new()
            .name("mqtt/tcp")
            .laddr(config.bind)
            .allow_anonymous(config.disable_auth)
            .max_packet_size(config.max_packet_size)
            .max_connections(config.max_connections)
            .max_handshaking_limit(config.max_handshaking)
            .handshake_timeout(config.handshake_timeout)
            .max_clientid_len(auth::MAX_CLIENT_ID_LEN)
            .max_mqueue_len(config.max_queued_messages)
            .allow_zero_keepalive(true)
            .nodelay(true)
            .bind()
            .and_then(|l| l.tcp())
            .map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;
        let server = MqttServer::new(scx.clone()).listener(listener).build();
        let server = tokio::spawn(async move {
            if let Err(e) = server.run().await {
                tracing::error!(error = %e, "MQTT broker stopped");
            }
        });
        Ok(Self { handle: BrokerHandle { shared, scx, addr }, server, _register: register })
    }

    /// The handle the API side uses.
    pub fn handle(&self) -> BrokerHandle {
        self.handle.clone()
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.addr
    }

    /// Stops listening and closes every open connection.
    pub async fn shutdown(self) {
        self.server.abort();
        let clients: Vec<String> = lock(&self.handle.shared.online).keys().cloned().collect();
        for client_id in clients {
            self.handle.disconnect(&client_id).await;
        }
    }
}

impl Drop for MqttBroker {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What the API side uses: sessions, `CloseConnection`, `SendMessage`, traces. Cheap to clone.
#[derive(Clone)]
pub struct BrokerHandle {
    shared: Arc<Shared>,
    scx: ServerContext,
    addr: SocketAddr,
}

impl fmt::Debug for BrokerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerHandle")
            .field("instance_id", &self.shared.instance_id)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl BrokerHandle {
    /// The instance the broker serves.
    pub fn instance_id(&self) -> &str {
        &self.shared.instance_id
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether a client with this ID is connected now (`QuerySessionByClientId`).
    pub fn is_online(&self, client_id: &str) -> bool {
        lock(&self.shared.online).contains_key(client_id)
    }

    /// The connected clients, sorted by client ID.
    pub fn online_sessions(&self) -> Vec<SessionInfo> {
        let mut sessions: Vec<SessionInfo> =
            lock(&self.shared.online).values().map(|c| c.info.clone()).collect();
        sessions.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        sessions
    }

    /// Closes the client's connection (`CloseConnection`); `false` when it was not connected.
    pub async fn disconnect(&self, client_id: &str) -> bool {
        if !self.is_online(client_id) {
            return false;
        }
        lock(&self.shared.closing).insert(client_id.to_owned());
        let id = Id::from(self.scx.node.id(), ClientId::from(client_id.to_owned()));
        let mut entry = self.scx.extends.shared().await.entry(id);
        let kicked = entry.session().is_some() && entry.kick(true, true, true).await.is_ok();
        if kicked {
            // The session ends asynchronously; wait (bounded) until the hooks saw it go.
            for _ in 0..200 {
                if !self.is_online(client_id) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } else {
            lock(&self.shared.closing).remove(client_id);
        }
        kicked
    }

    /// Publishes a message to `topic` as `SendMessage` does, returning its message ID once
    /// it has been handed to the subscribers' sessions.
    pub async fn publish(
        &self,
        topic: &str,
        payload: impl Into<Bytes>,
        qos: u8,
    ) -> Result<String, BrokerError> {
        if topic.is_empty() || topic.contains(['+', '#', '\0']) || topic.len() > 65_535 {
            return Err(BrokerError::InvalidPublish(
                "topic must be a non-empty topic name without wildcards",
            ));
        }
        let qos = match qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            2 => QoS::ExactlyOnce,
            _ => return Err(BrokerError::InvalidPublish("QoS must be 0, 1 or 2")),
        };
        let msg_id = self.shared.ids.next();
        let properties = PublishProperties {
            user_properties: vec![(MSG_ID_PROPERTY.into(), msg_id.as_str().into())],
            ..PublishProperties::default()
        };
        let codec = CodecPublish {
            dup: false,
            retain: false,
            qos,
            topic: topic.into(),
            packet_id: None,
            payload: payload.into(),
            properties: Some(properties),
        };
        let publish = Publish::from(codec).create_time(now_ms());
        let from = MsgFrom::from_admin(Id::new(
            self.scx.node.id(),
            0,
            None,
            None,
            ClientId::from_static("api"),
            None,
        ));
        self.shared.trace(
            "",
            String::new(),
            TraceKind::Publish { msg_id: msg_id.clone(), topic: topic.to_owned(), from_api: true },
        );
        SessionState::forwards(&self.scx, from, publish, false, Some(Duration::from_secs(300)))
            .await
            .map_err(|e| BrokerError::Routing(e.to_string()))?;
        Ok(msg_id)
    }

    /// The trace log.
    pub fn trace(&self) -> &TraceLog {
        &self.shared.trace
    }
}
