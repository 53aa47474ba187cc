//! MQTT CONNECT user names and passwords for ApsaraMQ for MQTT clients.
//!
//! Hand-written (not generated). This crate does not speak MQTT: it computes the two CONNECT
//! fields from the credentials the API client already has, for whichever MQTT client you use.
//!
//! - signature mode, from an AccessKey pair ([`Credentials`]): user name
//!   `Signature|AccessKeyId|InstanceId`, password Base64(HMAC-SHA1(AccessKey secret, client ID));
//! - token mode, from [`ApplyTokenOutput`]s: user name `Token|AccessKeyId|InstanceId`, password
//!   `R|token`, `W|token` or `RW|token`, several joined by `|`;
//! - device-credential mode, from [`RegisterDeviceCredentialOutput`]: user name
//!   `DeviceCredential|DeviceAccessKeyId|InstanceId`, password
//!   Base64(HMAC-SHA1(device secret, client ID));
//! - custom authentication: the identity's user name, password the secret or
//!   Base64(HMAC-SHA1(secret, client ID)).
//!
//! ```
//! use alibabacloud_onsmqtt::Credentials;
//! use alibabacloud_onsmqtt::mqtt::ConnectCredentials;
//!
//! let keys = Credentials::new("LTAI5tExample", "example-secret");
//! let login = ConnectCredentials::signature(&keys, "mqtt-cn-example", "GID_demo@@@device-1")?;
//! assert_eq!(login.username(), "Signature|LTAI5tExample|mqtt-cn-example");
//! // Hand login.username() and login.password() to the MQTT client's CONNECT.
//! # Ok::<(), alibabacloud_onsmqtt::mqtt::ConnectCredentialsError>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::Credentials;
use crate::operations::ApplyTokenOutput;
use crate::operations::RegisterDeviceCredentialOutput;
use crate::types::DeviceCredential;

/// Why CONNECT credentials could not be formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectCredentialsError(&'static str);

impl fmt::Display for ConnectCredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot form MQTT CONNECT credentials: {}", self.0)
    }
}

impl std::error::Error for ConnectCredentialsError {}

/// The kind of a token, as `ApplyToken`'s `Actions` granted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    /// `R`: subscribe (`Actions` = `R`).
    Read,
    /// `W`: publish (`Actions` = `W`).
    Write,
    /// `RW`: both (`Actions` = `R,W`).
    ReadWrite,
}

impl TokenType {
    /// The letters the password uses for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Read => "R",
            TokenType::Write => "W",
            TokenType::ReadWrite => "RW",
        }
    }
}

/// How a custom-auth identity's password is formed (its `SignMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomSignMode {
    /// `SIGNED`: Base64(HMAC-SHA1(secret, client ID)).
    Signed,
    /// `ORIGIN`: the secret itself.
    Origin,
}

/// The user name and password of an MQTT CONNECT. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectCredentials {
    username: String,
    password: String,
}

impl fmt::Debug for ConnectCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

fn field<'a>(value: &'a str, what: &'static str) -> Result<&'a str, ConnectCredentialsError> {
    if value.is_empty() {
        return Err(ConnectCredentialsError(what));
    }
    if value.contains('|') {
        return Err(ConnectCredentialsError("a user name part contains `|`"));
    }
    Ok(value)
}

/// Base64(HMAC-SHA1(key, client ID)).
fn sign(key: &str, client_id: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(client_id.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

impl ConnectCredentials {
    /// Signature mode, from an AccessKey pair (for trusted servers; the secret signs the
    /// client ID, it is not sent).
    pub fn signature(
        credentials: &Credentials,
        instance_id: &str,
        client_id: &str,
    ) -> Result<Self, ConnectCredentialsError> {
        let key_id = field(credentials.access_key_id(), "the AccessKey ID is empty")?;
        let instance_id = field(instance_id, "the instance ID is empty")?;
        let client_id = field(client_id, "the client ID is empty")?;
        Ok(Self {
            username: format!("Signature|{key_id}|{instance_id}"),
            password: sign(credentials.access_key_secret(), client_id),
        })
    }

    /// Token mode, from tokens and their kinds (at most one token of each kind). The
    /// AccessKey ID is the one that called `ApplyToken`.
    pub fn token(
        access_key_id: &str,
        instance_id: &str,
        tokens: &[(TokenType, &str)],
    ) -> Result<Self, ConnectCredentialsError> {
        let key_id = field(access_key_id, "the AccessKey ID is empty")?;
        let instance_id = field(instance_id, "the instance ID is empty")?;
        if tokens.is_empty() {
            return Err(ConnectCredentialsError("no token given"));
        }
        let mut password = String::new();
        for (i, (kind, token)) in tokens.iter().enumerate() {
            if tokens[..i].iter().any(|(k, _)| k == kind) {
                return Err(ConnectCredentialsError("two tokens of the same kind"));
            }
            let token = field(token, "a token is empty")?;
            if !password.is_empty() {
                password.push('|');
            }
            password.push_str(kind.as_str());
            password.push('|');
            password.push_str(token);
        }
        Ok(Self { username: format!("Token|{key_id}|{instance_id}"), password })
    }

    /// Token mode, from `ApplyToken` answers and the kind each was applied for, with the
    /// AccessKey ID of the credentials that called `ApplyToken`.
    pub fn from_apply_token(
        credentials: &Credentials,
        instance_id: &str,
        tokens: &[(TokenType, &ApplyTokenOutput)],
    ) -> Result<Self, ConnectCredentialsError> {
        let tokens: Vec<(TokenType, &str)> =
            tokens.iter().map(|(kind, out)| (*kind, out.token.as_str())).collect();
        Self::token(credentials.access_key_id(), instance_id, &tokens)
    }

    /// Device-credential mode, from a device AccessKey pair.
    pub fn device_credential(
        device_access_key_id: &str,
        device_access_key_secret: &str,
        instance_id: &str,
        client_id: &str,
    ) -> Result<Self, ConnectCredentialsError> {
        let key_id = field(device_access_key_id, "the device AccessKey ID is empty")?;
        let instance_id = field(instance_id, "the instance ID is empty")?;
        let client_id = field(client_id, "the client ID is empty")?;
        Ok(Self {
            username: format!("DeviceCredential|{key_id}|{instance_id}"),
            password: sign(device_access_key_secret, client_id),
        })
    }

    /// Device-credential mode, from a [`DeviceCredential`] (`RegisterDeviceCredential`,
    /// `GetDeviceCredential`, `RefreshDeviceCredential`), which names its instance and client.
    pub fn from_device_credential(credential: &DeviceCredential) -> Result<Self, ConnectCredentialsError> {
        let missing = |what| ConnectCredentialsError(what);
        Self::device_credential(
            credential
                .device_access_key_id
                .as_deref()
                .ok_or(missing("the answer has no DeviceAccessKeyId"))?,
            credential
                .device_access_key_secret
                .as_deref()
                .ok_or(missing("the answer has no DeviceAccessKeySecret"))?,
            credential.instance_id.as_deref().ok_or(missing("the answer has no InstanceId"))?,
            credential.client_id.as_deref().ok_or(missing("the answer has no ClientId"))?,
        )
    }

    /// Device-credential mode, from `RegisterDeviceCredential`'s answer.
    pub fn from_register_device_credential(
        output: &RegisterDeviceCredentialOutput,
    ) -> Result<Self, ConnectCredentialsError> {
        let credential = output
            .device_credential
            .as_ref()
            .ok_or(ConnectCredentialsError("the answer has no DeviceCredential"))?;
        Self::from_device_credential(credential)
    }

    /// Custom authentication, from an identity's user name and secret.
    pub fn custom(
        username: &str,
        secret: &str,
        sign_mode: CustomSignMode,
        client_id: &str,
    ) -> Result<Self, ConnectCredentialsError> {
        if username.is_empty() {
            return Err(ConnectCredentialsError("the user name is empty"));
        }
        let client_id = field(client_id, "the client ID is empty")?;
        let password = match sign_mode {
            CustomSignMode::Signed => sign(secret, client_id),
            CustomSignMode::Origin => secret.to_owned(),
        };
        Ok(Self { username: username.to_owned(), password })
    }

    /// The CONNECT user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The CONNECT password. Secret: do not log it.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The user name and password, taken apart.
    pub fn into_parts(self) -> (String, String) {
        (self.username, self.password)
    }
}
