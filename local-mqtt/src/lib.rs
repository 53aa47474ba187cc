//! An embedded MQTT broker for the local ApsaraMQ for MQTT service.
//!
//! [`MqttBroker`] runs [rmqtt](https://crates.io/crates/rmqtt) (MQTT 3.1.1 and 5 over TCP) for
//! one instance and adds what ApsaraMQ for MQTT does on top:
//!
//! - CONNECT authentication in the four modes ([`auth`]): AccessKey signature, tokens from
//!   `ApplyToken`, device credentials, custom authentication; client IDs `GroupId@@@DeviceId`
//!   with the group on the instance; the connect blacklist.
//! - Permissions on every SUBSCRIBE and PUBLISH (token resources and actions, custom-auth
//!   permissions); tokens that expire or are revoked stop working during the connection too.
//! - A [`BrokerHandle`] for the API side: online status, closing a connection, publishing
//!   (`SendMessage`), and a [`TraceLog`] of real connects, disconnects, publishes and
//!   deliveries with message IDs.
//!
//! Everything the broker needs to know comes from an [`AuthSource`], which the local service
//! implements over its state; [`InMemoryAuthSource`] is a ready one.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use onsmqtt_local_mqtt::{BrokerConfig, InMemoryAuthSource, MqttBroker};
//!
//! let source = InMemoryAuthSource::new();
//! source.add_access_key("LTAI-local", "local-secret");
//! source.add_group("mqtt-local", "GID_demo");
//! let broker = MqttBroker::start(BrokerConfig::new("mqtt-local"), Arc::new(source.clone())).await?;
//! println!("connect to {}", broker.local_addr());
//! let handle = broker.handle();
//! let msg_id = handle.publish("demo/topic", "hello", 1).await?;
//! # let _ = msg_id; Ok(())
//! # }
//! ```

pub mod auth;
mod broker;
mod source;
pub mod topic;
mod trace;

pub use broker::{BrokerConfig, BrokerError, BrokerHandle, MSG_ID_PROPERTY, MqttBroker, SessionInfo};
pub use source::{
    Action, AuthSource, CustomIdentity, CustomPermission, DeviceCredentialInfo, IdentityType,
    InMemoryAuthSource, PermitAction, Secret, SignMode, TokenInfo,
};
pub use trace::{TraceEvent, TraceKind, TraceLog, now_ms};
