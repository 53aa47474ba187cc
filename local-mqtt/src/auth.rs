//! ApsaraMQ for MQTT CONNECT authentication and topic permissions, as pure functions over an
//! [`AuthSource`].
//!
//! The rules (from Alibaba Cloud's public "authentication overview", "signature
//! authentication", "token-based authentication" and "custom authentication" pages):
//!
//! - signature: user name `Signature|AccessKeyId|InstanceId`, password
//!   Base64(HMAC-SHA1(AccessKey secret, client ID));
//! - token: user name `Token|AccessKeyId|InstanceId`, password `Type|Token` pairs joined by `|`,
//!   type `R`, `W` or `RW` (e.g. `R|123|W|abcd`);
//! - device credential: user name `DeviceCredential|DeviceAccessKeyId|InstanceId`, password
//!   Base64(HMAC-SHA1(device secret, client ID));
//! - custom: the identity's user name, password the secret (`ORIGIN`) or
//!   Base64(HMAC-SHA1(secret, client ID)) (`SIGNED`).
//!
//! Client IDs are `<GroupId>@@@<DeviceId>`, at most 64 characters, and the group must exist
//! on the instance.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::source::{Action, AuthSource, IdentityType, SignMode};
use crate::topic;

/// Longest client ID ApsaraMQ for MQTT accepts.
pub const MAX_CLIENT_ID_LEN: usize = 64;

/// Why a CONNECT is refused; each maps to the MQTT 3.1.1 CONNACK return code a client can act
/// on (MQTT 5 clients get the matching reason code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client ID is malformed or its group does not exist on the instance. Ideally return
    /// code 2; rmqtt 0.18 lets an authentication hook answer only 4 or 5, so the broker sends 5
    /// (it sends 2 itself for client IDs longer than [`MAX_CLIENT_ID_LEN`] or empty ones).
    IdentifierRejected(&'static str),
    /// Return code 4: the user name or password is wrong (unknown AccessKey, token or
    /// identity, bad signature, malformed user name).
    BadUserNameOrPassword(&'static str),
    /// Return code 5: the credentials are known but may not connect now (expired or revoked
    /// token, blacklisted client ID, credential bound to another client ID).
    NotAuthorized(&'static str),
}

impl Refusal {
    /// The MQTT 3.1.1 CONNACK return code the refusal stands for (see
    /// [`Refusal::IdentifierRejected`] for what goes on the wire).
    pub fn return_code(self) -> u8 {
        match self {
            Refusal::IdentifierRejected(_) => 2,
            Refusal::BadUserNameOrPassword(_) => 4,
            Refusal::NotAuthorized(_) => 5,
        }
    }

    /// A short reason, for the trace log (never contains a secret).
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::IdentifierRejected(r)
            | Refusal::BadUserNameOrPassword(r)
            | Refusal::NotAuthorized(r) => r,
        }
    }
}

/// The authentication mode a client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// `Signature|...`
    Signature,
    /// `Token|...`
    Token,
    /// `DeviceCredential|...`
    DeviceCredential,
    /// Custom authentication.
    Custom,
}

/// What an accepted client may do; kept for the life of its connection and consulted on
/// every SUBSCRIBE and PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// How the client authenticated.
    pub mode: AuthMode,
    /// The instance.
    pub instance_id: String,
    /// The client ID.
    pub client_id: String,
    pub(crate) scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// AccessKey signature and device credential: every topic of the instance.
    All,
    /// Token mode: the tokens the client presented, looked up again at each use so that
    /// expiry and revocation take effect during the connection.
    Tokens(Vec<String>),
    /// Custom authentication: the identity's permissions.
    Custom { identity_type: IdentityType, identity: String },
}

/// The two parts of a client ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIdParts<'a> {
    /// The group ID, before `@@@`.
    pub group_id: &'a str,
    /// The device ID, after `@@@`.
    pub device_id: &'a str,
}

/// Splits `GroupId@@@DeviceId`; `None` when the client ID does not have that form, is longer
/// than [`MAX_CLIENT_ID_LEN`], or uses characters outside letters, digits, `-`, `_`, `.`, `:`.
pub fn parse_client_id(client_id: &str) -> Option<ClientIdParts<'_>> {
    if client_id.len() > MAX_CLIENT_ID_LEN {
        return None;
    }
    let (group_id, device_id) = client_id.split_once("@@@")?;
    let allowed = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    (allowed(group_id) && allowed(device_id)).then_some(ClientIdParts { group_id, device_id })
}

/// Base64(HMAC-SHA1(key, client ID)): the password of the signature, device-credential and
/// signed custom modes.
pub fn sign_client_id(key: &str, client_id: &str) -> String {
    STANDARD.encode(hmac_sha1(key, client_id))
}

fn hmac_sha1(key: &str, data: &str) -> [u8; 20] {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Checks a password formed as Base64(HMAC-SHA1(key, client ID)), in constant time.
fn verify_signature(key: &str, client_id: &str, password: &[u8]) -> bool {
    let Ok(signature) = STANDARD.decode(password) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
        return false;
    };
    mac.update(client_id.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token type letters of a token-mode password and their tokens.
fn parse_token_password(password: &str) -> Option<Vec<(&str, &str)>> {
    let parts: Vec<&str> = password.split('|').collect();
    if parts.is_empty() || parts.len() % 2 != 0 {
        return None;
    }
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(parts.len() / 2);
    for pair in parts.chunks(2) {
        let (kind, token) = (pair[0], pair[1]);
        if !matches!(kind, "R" | "W" | "RW") || token.is_empty() || pairs.iter().any(|(k, _)| *k == kind) {
            return None;
        }
        pairs.push((kind, token));
    }
    Some(pairs)
}

/// Decides a CONNECT arriving at the broker of `instance_id`.
///
/// `now_ms` is the current time in milliseconds since the Unix epoch (token expiry).
pub fn authenticate(
    source: &dyn AuthSource,
    instance_id: &str,
    client_id: &str,
    username: Option<&str>,
    password: Option<&[u8]>,
    now_ms: i64,
) -> Result<Grant, Refusal> {
    use Refusal::*;
    let parts =
        parse_client_id(client_id).ok_or(IdentifierRejected("client ID is not GroupId@@@DeviceId"))?;
    let username = username.ok_or(BadUserNameOrPassword("no user name"))?;
    let password = password.ok_or(BadUserNameOrPassword("no password"))?;
    if !source.instance_exists(instance_id) {
        return Err(NotAuthorized("instance does not exist"));
    }
    if !source.group_exists(instance_id, parts.group_id) {
        return Err(IdentifierRejected("group ID does not exist on the instance"));
    }
    if source.is_blacklisted(instance_id, client_id) {
        return Err(NotAuthorized("client ID is on the connect blacklist"));
    }
    let grant = |mode, scope| Grant {
        mode,
        instance_id: instance_id.to_owned(),
        client_id: client_id.to_owned(),
        scope,
    };

    let mut fields = username.splitn(3, '|');
    let (mode, key_id, named_instance) = (fields.next(), fields.next(), fields.next());
    let mode = match mode {
        Some("Signature") => AuthMode::Signature,
        Some("Token") => AuthMode::Token,
        Some("DeviceCredential") => AuthMode::DeviceCredential,
        _ => AuthMode::Custom,
    };
    if mode != AuthMode::Custom {
        let (Some(key_id), Some(named_instance)) = (key_id, named_instance) else {
            return Err(BadUserNameOrPassword("user name is not Mode|AccessKeyId|InstanceId"));
        };
        if named_instance != instance_id {
            return Err(BadUserNameOrPassword("user name names another instance"));
        }
        match mode {
            AuthMode::Signature => {
                let secret =
                    source.access_key_secret(key_id).ok_or(BadUserNameOrPassword("unknown AccessKey ID"))?;
                if !verify_signature(secret.expose(), client_id, password) {
                    return Err(BadUserNameOrPassword("signature does not match"));
                }
                Ok(grant(AuthMode::Signature, Scope::All))
            }
            AuthMode::Token => {
                if source.access_key_secret(key_id).is_none() {
                    return Err(BadUserNameOrPassword("unknown AccessKey ID"));
                }
                let password = std::str::from_utf8(password)
                    .map_err(|_| BadUserNameOrPassword("password is not UTF-8"))?;
                let pairs = parse_token_password(password)
                    .ok_or(BadUserNameOrPassword("password is not Type|Token pairs"))?;
                let mut tokens = Vec::with_capacity(pairs.len());
                for (kind, token) in pairs {
                    let info =
                        source.token(instance_id, token).ok_or(BadUserNameOrPassword("unknown token"))?;
                    let fits = match kind {
                        "R" => info.read,
                        "W" => info.write,
                        _ => info.read && info.write,
                    };
                    if !fits {
                        return Err(BadUserNameOrPassword("token type does not match the token's actions"));
                    }
                    if info.revoked {
                        return Err(NotAuthorized("token revoked"));
                    }
                    if info.expire_time_ms <= now_ms {
                        return Err(NotAuthorized("token expired"));
                    }
                    tokens.push(token.to_owned());
                }
                Ok(grant(AuthMode::Token, Scope::Tokens(tokens)))
            }
            _ => {
                let credential = source
                    .device_credential(instance_id, key_id)
                    .ok_or(BadUserNameOrPassword("unknown device AccessKey ID"))?;
                if !verify_signature(credential.secret.expose(), client_id, password) {
                    return Err(BadUserNameOrPassword("signature does not match"));
                }
                if credential.client_id != client_id {
                    return Err(NotAuthorized("device credential belongs to another client ID"));
                }
                Ok(grant(AuthMode::DeviceCredential, Scope::All))
            }
        }
    } else {
        let identity = source
            .custom_identity(instance_id, username, client_id)
            .ok_or(BadUserNameOrPassword("unknown custom-auth identity"))?;
        let ok = match identity.sign_mode {
            SignMode::Signed => verify_signature(identity.secret.expose(), client_id, password),
            SignMode::Origin => constant_time_eq(identity.secret.expose().as_bytes(), password),
        };
        if !ok {
            return Err(BadUserNameOrPassword("password does not match"));
        }
        let key = match identity.identity_type {
            IdentityType::User => identity.username,
            IdentityType::Client => client_id.to_owned(),
        };
        Ok(grant(AuthMode::Custom, Scope::Custom { identity_type: identity.identity_type, identity: key }))
    }
}

/// Whether an accepted client may publish to `topic` or subscribe to the filter `topic`.
///
/// - Signature and device-credential clients: any topic.
/// - Token clients: a token of theirs that is neither expired nor revoked, grants the action
///   (`W` publish, `R` subscribe) and whose resources cover the topic.
/// - Custom authentication: a `DENY` that overlaps the topic refuses; else an `ALLOW` that
///   covers it allows; else refused.
pub fn authorize(source: &dyn AuthSource, grant: &Grant, action: Action, topic: &str, now_ms: i64) -> bool {
    match &grant.scope {
        Scope::All => true,
        Scope::Tokens(tokens) => tokens.iter().any(|token| {
            source.token(&grant.instance_id, token).is_some_and(|info| {
                let allowed = match action {
                    Action::Publish => info.write,
                    Action::Subscribe => info.read,
                };
                allowed
                    && !info.revoked
                    && info.expire_time_ms > now_ms
                    && info.resources.iter().any(|r| topic::covers(r, topic))
            })
        }),
        Scope::Custom { identity_type, identity } => {
            let permissions = source.custom_permissions(&grant.instance_id, *identity_type, identity);
            let relevant = permissions.iter().filter(|p| p.action.covers(action));
            let mut allowed = false;
            for permission in relevant {
                if permission.allow {
                    allowed |= topic::covers(&permission.topic, topic);
                } else if topic::overlaps(&permission.topic, topic) {
                    return false;
                }
            }
            allowed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        assert_eq!(
            parse_client_id("GID_test@@@dev-1"),
            Some(ClientIdParts { group_id: "GID_test", device_id: "dev-1" })
        );
        assert_eq!(parse_client_id("GID_test"), None);
        assert_eq!(parse_client_id("@@@dev"), None);
        assert_eq!(parse_client_id("GID@@@"), None);
        assert_eq!(parse_client_id("GID@@@a/b"), None);
        assert_eq!(parse_client_id(&format!("GID@@@{}", "d".repeat(60))), None);
    }

    #[test]
    fn token_passwords() {
        assert_eq!(parse_token_password("R|123"), Some(vec![("R", "123")]));
        assert_eq!(parse_token_password("R|123|W|abcd"), Some(vec![("R", "123"), ("W", "abcd")]));
        assert_eq!(parse_token_password("RW|x"), Some(vec![("RW", "x")]));
        assert_eq!(parse_token_password("R|1|R|2"), None);
        assert_eq!(parse_token_password("X|1"), None);
        assert_eq!(parse_token_password("R|"), None);
        assert_eq!(parse_token_password("R"), None);
    }

    #[test]
    fn signatures_verify_in_both_directions() {
        let password = sign_client_id("secret", "GID_a@@@b");
        assert!(verify_signature("secret", "GID_a@@@b", password.as_bytes()));
        assert!(!verify_signature("secret", "GID_a@@@c", password.as_bytes()));
        assert!(!verify_signature("other", "GID_a@@@b", password.as_bytes()));
        assert!(!verify_signature("secret", "GID_a@@@b", b"not base64!"));
    }
}
