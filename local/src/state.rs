//! The service's state: accounts' instances and everything in them. Plain data, serialisable for
//! the store; the rules live in `service.rs`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything the service knows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// Instances by ID.
    pub instances: BTreeMap<String, Instance>,
    /// Issued access tokens by their text.
    pub tokens: BTreeMap<String, Token>,
    /// Message traces, oldest first, bounded by [`MAX_TRACES`].
    pub traces: Vec<Trace>,
    /// Counter for IDs and serial numbers.
    pub seq: u64,
}

/// Most trace entries kept; older ones are dropped.
pub const MAX_TRACES: usize = 10_000;

/// An instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Instance {
    /// ID, e.g. `mqtt-cn-local0001`.
    pub id: String,
    /// The AccessKey ID of the account that owns it.
    pub owner: String,
    /// Display name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Edition code.
    pub instance_type: i32,
    /// State code (`2` running).
    pub status: i32,
    /// Creation time, ms.
    pub create_time: i64,
    /// Expiry time, ms.
    pub expire_time: i64,
    /// Tags of the instance.
    pub tags: BTreeMap<String, String>,
    /// Registration code for CA certificates.
    pub register_code: String,
    /// Group IDs.
    pub groups: BTreeMap<String, Group>,
    /// Device credentials by client ID.
    pub credentials: BTreeMap<String, DeviceCredential>,
    /// Custom-authentication identities by `TYPE/name`.
    pub identities: BTreeMap<String, Identity>,
    /// Custom-authentication permissions by `TYPE/identity/topic`.
    pub permissions: BTreeMap<String, Permission>,
    /// Client IDs refused at connect.
    pub blacklist: BTreeMap<String, ()>,
    /// CA certificates by serial number.
    pub ca_certs: BTreeMap<String, CaCert>,
    /// Device certificates by `caSn/deviceSn`.
    pub device_certs: BTreeMap<String, DeviceCert>,
    /// SNI: default certificate and mapping.
    pub sni: Option<(String, Option<String>)>,
    /// Disaster recovery: the instance traffic is switched to, if any.
    pub recovery: Option<String>,
}

/// A group ID.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Group {
    /// Creation time, ms.
    pub create_time: i64,
    /// Last change, ms.
    pub update_time: i64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// An access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Token {
    /// Instance.
    pub instance_id: String,
    /// Topics.
    pub resources: Vec<String>,
    /// `R`, `W` or both.
    pub actions: Vec<String>,
    /// Expiry, ms.
    pub expire_time: i64,
    /// Revoked.
    pub revoked: bool,
}

/// A device credential.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceCredential {
    /// Access key ID of the device.
    pub access_key_id: String,
    /// Secret.
    pub access_key_secret: String,
    /// Creation time, ms.
    pub create_time: i64,
    /// Last change, ms.
    pub update_time: i64,
}

/// A custom-authentication identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    /// `USER` or `CLIENT`.
    pub identity_type: String,
    /// User name.
    pub username: String,
    /// Client ID (for `CLIENT`).
    pub client_id: Option<String>,
    /// Secret.
    pub secret: String,
    /// `ORIGIN` or `SIGNED`.
    pub sign_mode: String,
}

/// A custom-authentication permission.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Permission {
    /// `USER` or `CLIENT`.
    pub identity_type: String,
    /// User name or client ID.
    pub identity: String,
    /// Topic.
    pub topic: String,
    /// `PUB`, `SUB`, `PUB_SUB`.
    pub permit_action: String,
    /// `ALLOW` or `DENY`.
    pub effect: String,
}

/// A CA certificate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaCert {
    /// Name.
    pub name: String,
    /// PEM.
    pub content: String,
    /// Verification certificate PEM.
    pub verification: String,
    /// Registration code it was registered with.
    pub registration_code: String,
    /// Validity, ms.
    pub valid_begin: i64,
    /// Validity, ms.
    pub valid_end: i64,
    /// Whether active.
    pub active: bool,
}

/// A device certificate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceCert {
    /// Device name (the subject's common name).
    pub name: String,
    /// PEM.
    pub content: String,
    /// Validity, ms.
    pub valid_begin: i64,
    /// Validity, ms.
    pub valid_end: i64,
    /// Whether active.
    pub active: bool,
}

/// One trace step of a message or device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trace {
    /// Instance.
    pub instance_id: String,
    /// When, ms.
    pub time: i64,
    /// Message ID (empty for connection events).
    pub msg_id: String,
    /// Client ID.
    pub client_id: String,
    /// Topic.
    pub topic: String,
    /// `pub_mqtt`, `pub_openapi`, `sub`, `connect`, `disconnect`, ...
    pub action: String,
    /// Code of the step.
    pub action_code: String,
    /// A short account.
    pub action_info: String,
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    if getrandom::fill(&mut b).is_err() {
        b.iter_mut().for_each(|x| *x = fastrand::u8(..));
    }
    hex::encode(b)
}

/// A next-token: the key after which the next page starts, base64url.
pub fn encode_token(after: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(after.as_bytes())
}

/// The key a next-token stands for; `None` when it is not one this service issued.
pub fn decode_token(token: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(bytes).ok()
}
