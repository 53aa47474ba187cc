//! The embedded MQTT broker: one [`onsmqtt_local_mqtt::MqttBroker`] per instance, authenticating
//! from the service's own state ([`StateSource`]) and answering the API's calls about live
//! clients ([`MqttBrokers`]).

use crate::auth::Account;
use crate::broker::{BoxFuture, Broker};
use crate::state::{self, State};
use onsmqtt_local_mqtt::{
    AuthSource, BrokerHandle, CustomIdentity, CustomPermission, DeviceCredentialInfo, IdentityType,
    PermitAction, Secret, SignMode, TokenInfo, TraceEvent, TraceKind,
};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

/// Answers the broker's lookups from the live service state: every API change (a new group, a
/// revoked token, a blacklisted client) is seen by the next CONNECT, SUBSCRIBE or PUBLISH.
pub struct StateSource {
    accounts: Vec<(String, Secret)>,
    local: Arc<OnceLock<Weak<crate::App>>>,
}

impl StateSource {
    pub(crate) fn new(accounts: &[Account], local: Arc<OnceLock<Weak<crate::App>>>) -> Self {
        let accounts = accounts
            .iter()
            // STS accounts cannot sign a CONNECT (the password has no room for the token).
            .filter(|a| a.security_token.is_none())
            .map(|a| (a.access_key_id.clone(), Secret::new(a.access_key_secret.clone())))
            .collect();
        Self { accounts, local }
    }

    fn with<T>(&self, default: T, f: impl FnOnce(&State) -> T) -> T {
        match self.local.get().and_then(Weak::upgrade) {
            Some(app) => app.local.read_state(f),
            None => default,
        }
    }

    fn with_instance<T>(&self, instance_id: &str, default: T, f: impl FnOnce(&state::Instance) -> T) -> T {
        self.with(None, |st| st.instances.get(instance_id).map(f)).unwrap_or(default)
    }
}

fn identity_type(t: &str) -> Option<IdentityType> {
    match t {
        "USER" => Some(IdentityType::User),
        "CLIENT" => Some(IdentityType::Client),
        _ => None,
    }
}

impl AuthSource for StateSource {
    fn access_key_secret(&self, access_key_id: &str) -> Option<Secret> {
        self.accounts.iter().find(|(id, _)| id == access_key_id).map(|(_, s)| s.clone())
    }

    fn instance_exists(&self, instance_id: &str) -> bool {
        self.with(false, |st| st.instances.contains_key(instance_id))
    }

    fn group_exists(&self, instance_id: &str, group_id: &str) -> bool {
        self.with_instance(instance_id, false, |i| i.groups.contains_key(group_id))
    }

    fn token(&self, instance_id: &str, token: &str) -> Option<TokenInfo> {
        self.with(None, |st| {
            let t = st.tokens.get(token).filter(|t| t.instance_id == instance_id)?;
            let mut info =
                TokenInfo::from_apply_token(&t.resources.join(","), &t.actions.join(","), t.expire_time)?;
            info.revoked = t.revoked;
            Some(info)
        })
    }

    fn device_credential(
        &self,
        instance_id: &str,
        device_access_key_id: &str,
    ) -> Option<DeviceCredentialInfo> {
        self.with_instance(instance_id, None, |i| {
            i.credentials.iter().find(|(_, c)| c.access_key_id == device_access_key_id).map(
                |(client_id, c)| DeviceCredentialInfo {
                    client_id: client_id.clone(),
                    secret: Secret::new(c.access_key_secret.clone()),
                },
            )
        })
    }

    fn custom_identity(&self, instance_id: &str, username: &str, client_id: &str) -> Option<CustomIdentity> {
        self.with_instance(instance_id, None, |i| {
            let client =
                i.identities.get(&format!("CLIENT/{client_id}")).filter(|id| id.username == username);
            let found = client.or_else(|| i.identities.get(&format!("USER/{username}")))?;
            Some(CustomIdentity {
                identity_type: identity_type(&found.identity_type)?,
                username: found.username.clone(),
                client_id: found.client_id.clone(),
                secret: Secret::new(found.secret.clone()),
                sign_mode: if found.sign_mode == "SIGNED" { SignMode::Signed } else { SignMode::Origin },
            })
        })
    }

    fn custom_permissions(
        &self,
        instance_id: &str,
        identity_type: IdentityType,
        identity: &str,
    ) -> Vec<CustomPermission> {
        let wanted = match identity_type {
            IdentityType::User => "USER",
            IdentityType::Client => "CLIENT",
        };
        self.with_instance(instance_id, Vec::new(), |i| {
            i.permissions
                .values()
                .filter(|p| p.identity_type == wanted && p.identity == identity)
                .filter_map(|p| {
                    let action = match p.permit_action.as_str() {
                        "PUB" => PermitAction::Pub,
                        "SUB" => PermitAction::Sub,
                        "PUB_SUB" => PermitAction::PubSub,
                        _ => return None,
                    };
                    Some(CustomPermission { topic: p.topic.clone(), action, allow: p.effect == "ALLOW" })
                })
                .collect()
        })
    }

    fn is_blacklisted(&self, instance_id: &str, client_id: &str) -> bool {
        self.with_instance(instance_id, false, |i| i.blacklist.contains_key(client_id))
    }
}

/// The brokers of the service's instances, as the API sees them.
pub struct MqttBrokers {
    handles: HashMap<String, BrokerHandle>,
}

impl MqttBrokers {
    pub(crate) fn new(handles: HashMap<String, BrokerHandle>) -> Self {
        Self { handles }
    }
}

/// A broker trace event in the shape the trace operations return.
fn to_trace(e: &TraceEvent) -> state::Trace {
    let (msg_id, topic, action, code, info) = match &e.kind {
        TraceKind::Connect => {
            (String::new(), String::new(), "connect", "mqtt.trace.action.connect", "Connect".to_owned())
        }
        TraceKind::ConnectRefused { return_code, reason } => (
            String::new(),
            String::new(),
            "connect",
            "mqtt.trace.action.connect.refused",
            format!("Connect refused (return code {return_code}): {reason}"),
        ),
        TraceKind::Disconnect { reason } => (
            String::new(),
            String::new(),
            "disconnect",
            "mqtt.trace.action.disconnect",
            format!("Disconnect: {reason}"),
        ),
        TraceKind::Publish { msg_id, topic, from_api: true } => (
            msg_id.clone(),
            topic.clone(),
            "pub_openapi",
            "mqtt.trace.action.msg.pub.openapi",
            "Pub From OpenAPI".to_owned(),
        ),
        TraceKind::Publish { msg_id, topic, from_api: false } => (
            msg_id.clone(),
            topic.clone(),
            "pub_mqtt",
            "mqtt.trace.action.msg.pub.mqtt",
            "Pub From MQTT Client".to_owned(),
        ),
        TraceKind::Deliver { msg_id, topic } => (
            msg_id.clone(),
            topic.clone(),
            "sub",
            "mqtt.trace.action.msg.sub.mqtt",
            "Push To MQTT Client".to_owned(),
        ),
    };
    state::Trace {
        instance_id: e.instance_id.clone(),
        time: e.time_ms,
        msg_id,
        client_id: e.client_id.clone(),
        topic,
        action: action.to_owned(),
        action_code: code.to_owned(),
        action_info: info,
    }
}

impl Broker for MqttBrokers {
    fn is_online(&self, instance_id: &str, client_id: &str) -> bool {
        self.handles.get(instance_id).is_some_and(|h| h.is_online(client_id))
    }

    fn close_connection<'a>(&'a self, instance_id: &'a str, client_id: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Some(h) = self.handles.get(instance_id) {
                h.disconnect(client_id).await;
            }
        })
    }

    fn publish<'a>(
        &'a self,
        instance_id: &'a str,
        topic: &'a str,
        payload: &'a [u8],
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            match self.handles.get(instance_id) {
                // SendMessage delivers with QoS 1, as the service does.
                Some(h) => h.publish(topic, payload.to_vec(), 1).await.map(Some).map_err(|e| e.to_string()),
                None => Ok(None),
            }
        })
    }

    fn traces(&self, instance_id: &str) -> Vec<state::Trace> {
        match self.handles.get(instance_id) {
            Some(h) => h.trace().query(|e| e.instance_id == instance_id).iter().map(to_trace).collect(),
            None => Vec::new(),
        }
    }
}
