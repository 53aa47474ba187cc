//! Credentials and the providers that supply them.
//!
//! A call asks the configured [`ProvideCredentials`] for credentials before every attempt, so a
//! provider can rotate short-lived (STS) credentials. Without explicit credentials, a [`Config`]
//! uses the [`DefaultCredentialsChain`], which looks in the same places, in the same order, as the
//! official Alibaba Cloud SDKs:
//!
//! 1. [`EnvironmentProvider`]: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
//!    and optionally `ALIBABA_CLOUD_SECURITY_TOKEN`;
//! 2. [`OidcRoleArnProvider`] (RRSA) when `ALIBABA_CLOUD_ROLE_ARN`,
//!    `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are set;
//! 3. [`CliProfileProvider`]: the Alibaba Cloud CLI's `~/.aliyun/config.json`;
//! 4. [`ProfileProvider`]: the `~/.alibabacloud/credentials.ini` file;
//! 5. [`EcsRamRoleProvider`]: the RAM role of the ECS instance, from the instance metadata;
//! 6. [`CredentialsUriProvider`] when `ALIBABA_CLOUD_CREDENTIALS_URI` is set.
//!
//! [`RamRoleArnProvider`] assumes a RAM role with any other provider's credentials. Temporary
//! credentials are cached and refreshed from ten minutes before they expire, by one caller while
//! the others keep using the current ones; a refresh that fails then is retried 10 s later while
//! the current ones keep serving. Credentials with less than three minutes left are never used
//! to sign: once there, a failed refresh is an error, and credentials that arrive expired (or
//! that close to it) are refused with an error naming their expiration.
//!
//! [`Config`]: crate::Config

mod cache;
mod chain;
mod cli_profile;
mod ecs;
mod env;
mod external;
mod http;
mod ini;
mod oidc;
mod ram_role_arn;
mod static_provider;
mod sts;
mod uri;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use crate::derived::Derived;

pub use chain::{DefaultCredentialsChain, DefaultCredentialsChainBuilder};
pub use cli_profile::{CliProfileProvider, CliProfileProviderBuilder};
pub use ecs::{EcsRamRoleProvider, EcsRamRoleProviderBuilder};
pub use env::EnvironmentProvider;
pub use ini::{ProfileProvider, ProfileProviderBuilder};
pub use oidc::{OidcRoleArnProvider, OidcRoleArnProviderBuilder};
pub use ram_role_arn::{RamRoleArnProvider, RamRoleArnProviderBuilder};
pub use static_provider::StaticProvider;
pub use uri::{CredentialsUriProvider, CredentialsUriProviderBuilder};

/// Endpoint overrides handed from the chain (and the profile providers) to the providers they
/// build; only tests set them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Endpoints {
    /// The STS endpoint of `AssumeRole` and `AssumeRoleWithOIDC`.
    pub sts: Option<String>,
    /// The base URL of the instance metadata service.
    pub metadata: Option<String>,
}

/// An AccessKey pair, optionally with an STS security token.
///
/// `Debug` never shows the secret or the token.
///
/// Cloning is cheap (a reference count): clones share the values and what the client derives
/// from them once (signing keys, the forms of the secret it masks in answers).
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Fields>,
}

#[derive(Clone)]
struct Fields {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    expiration: Option<SystemTime>,
    derived: Derived,
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&*self.inner, &*other.inner);
        a.access_key_id == b.access_key_id
            && a.access_key_secret == b.access_key_secret
            && a.security_token == b.security_token
            && a.expiration == b.expiration
    }
}

impl Eq for Credentials {}

impl Credentials {
    /// Long-term credentials: an AccessKey ID and its secret.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Fields {
                access_key_id: access_key_id.into(),
                access_key_secret: access_key_secret.into(),
                security_token: None,
                expiration: None,
                derived: Derived::default(),
            }),
        }
    }

    /// The fields to change, with nothing derived from the old values.
    fn fields_mut(&mut self) -> &mut Fields {
        let fields = Arc::make_mut(&mut self.inner);
        fields.derived = Derived::default();
        fields
    }

    /// Adds the security token of temporary (STS) credentials.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.fields_mut().security_token = Some(token.into());
        self
    }

    /// Records when temporary credentials expire.
    pub fn with_expiration(mut self, expiration: SystemTime) -> Self {
        self.fields_mut().expiration = Some(expiration);
        self
    }

    /// What the client derives from these credentials, made on first use (see `derived.rs`).
    pub(crate) fn derived(&self) -> &Derived {
        &self.inner.derived
    }

    /// The AccessKey ID.
    pub fn access_key_id(&self) -> &str {
        &self.inner.access_key_id
    }

    /// The AccessKey secret.
    pub fn access_key_secret(&self) -> &str {
        &self.inner.access_key_secret
    }

    /// The STS security token, for temporary credentials.
    pub fn security_token(&self) -> Option<&str> {
        self.inner.security_token.as_deref()
    }

    /// When temporary credentials expire, if known.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.inner.expiration
    }

    /// Whether the credentials have an expiration time that has passed.
    pub fn is_expired(&self) -> bool {
        self.inner.expiration.is_some_and(|e| e <= SystemTime::now())
    }

    /// Checks what the signers rely on: a non-empty key pair, values that can travel in HTTP
    /// headers, and no expiration in the past (whatever provider handed them out). The error
    /// never quotes the secret or the token.
    pub(crate) fn validate(&self) -> Result<(), CredentialsError> {
        self.check_expiry()?;
        self.validate_values()
    }

    /// The time-dependent part of [`validate`](Self::validate): no expiration in the past.
    pub(crate) fn check_expiry(&self) -> Result<(), CredentialsError> {
        if let Some(exp) = self.inner.expiration
            && exp <= SystemTime::now()
        {
            return Err(CredentialsError::new(format!(
                "the credentials of access key id {} expired at {}: they cannot sign a request",
                self.inner.access_key_id,
                super::time::format_utc(exp)
            )));
        }
        Ok(())
    }

    /// The part of [`validate`](Self::validate) that depends on the values alone (cached per
    /// credentials by [`Derived::valid`]).
    pub(crate) fn validate_values(&self) -> Result<(), CredentialsError> {
        if self.inner.access_key_id.is_empty() {
            return Err(CredentialsError::new("the access key id is empty"));
        }
        if self.inner.access_key_secret.is_empty() {
            return Err(CredentialsError::new("the access key secret is empty"));
        }
        if !is_header_safe(&self.inner.access_key_id) {
            return Err(CredentialsError::new(
                "the access key id contains characters that cannot be sent in an HTTP header",
            ));
        }
        if let Some(token) = &self.inner.security_token {
            if token.is_empty() {
                return Err(CredentialsError::new("the security token is empty"));
            }
            if !is_header_safe(token) {
                return Err(CredentialsError::new(
                    "the security token contains characters that cannot be sent in an HTTP header",
                ));
            }
        }
        Ok(())
    }
}

/// Visible ASCII and spaces/tabs inside (no control characters, no leading or trailing whitespace,
/// which header canonicalisation would trim and so break the signature).
pub(crate) fn is_header_safe(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b))
        && s.trim_matches([' ', '\t']).len() == s.len()
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.inner.access_key_id)
            .field("access_key_secret", &"***")
            .field("security_token", &self.inner.security_token.as_ref().map(|_| "***"))
            .field("expiration", &self.inner.expiration)
            .finish()
    }
}

/// The future a credentials provider returns.
pub(crate) type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + 'a>>;

/// A source of credentials, asked before every attempt of every call.
///
/// Implementations that fetch credentials remotely should cache them and refresh before they
/// expire; the client does not cache. The providers of this crate that fetch temporary
/// credentials all do.
///
/// # Plugging in your own provider
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use alibabacloud_runtime::{Config, Credentials, CredentialsError, ProvideCredentials};
///
/// /// Reads credentials from a secrets manager of your own.
/// #[derive(Debug)]
/// struct VaultProvider {
///     path: String,
/// }
///
/// impl ProvideCredentials for VaultProvider {
///     fn provide_credentials(
///         &self,
///     ) -> Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + '_>> {
///         Box::pin(async move {
///             // Fetch (and cache) the secret here; never put it in an error message.
///             if self.path.is_empty() {
///                 return Err(CredentialsError::new("no vault path configured"));
///             }
///             Ok(Credentials::new("LTAI5tExample", "secret-from-the-vault"))
///         })
///     }
/// }
///
/// let config = Config::builder()
///     .region("cn-hangzhou")
///     .credentials_provider(VaultProvider { path: "secret/mqtt".into() })
///     .build()?;
/// // Every product's `Client::new(config)` then asks the provider before each attempt.
/// # drop(config);
/// # Ok::<(), alibabacloud_runtime::ConfigError>(())
/// ```
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Returns the credentials to sign the next request with.
    fn provide_credentials(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + '_>>;
}

impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let creds = self.clone();
        Box::pin(async move { Ok(creds) })
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        (**self).provide_credentials()
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Box<T> {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        (**self).provide_credentials()
    }
}

/// No usable credentials could be obtained.
///
/// The message never contains a secret: no AccessKey secret, security token or OIDC token.
#[derive(Clone, Debug)]
pub struct CredentialsError {
    message: String,
    source: Option<Arc<dyn StdError + Send + Sync>>,
    not_found: bool,
}

impl CredentialsError {
    /// An error with a message saying what is missing or wrong. Never put a secret in it.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None, not_found: false }
    }

    /// An error caused by another one (an I/O or HTTP error of a provider, for example).
    pub fn with_source(message: impl Into<String>, source: impl StdError + Send + Sync + 'static) -> Self {
        Self { message: message.into(), source: Some(Arc::new(source)), not_found: false }
    }

    /// Like [`with_source`](Self::with_source), for an error already boxed.
    pub(crate) fn with_boxed_source(
        message: impl Into<String>,
        source: Box<dyn StdError + Send + Sync + 'static>,
    ) -> Self {
        Self { message: message.into(), source: Some(Arc::from(source)), not_found: false }
    }

    /// The source is not configured or not available here (no variables, no file, not on ECS):
    /// the default chain moves on to the next source instead of stopping.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None, not_found: true }
    }

    /// Whether the source simply had nothing to offer (nothing configured, not available here),
    /// as opposed to being configured but failing. The [`DefaultCredentialsChain`] skips the
    /// former and stops at the latter.
    pub fn is_not_found(&self) -> bool {
        self.not_found
    }

    /// The same error with `context: ` put before its message.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The same error, counted as "not found" or not.
    pub(crate) fn set_not_found(mut self, not_found: bool) -> Self {
        self.not_found = not_found;
        self
    }

    /// What went wrong, without the `could not obtain credentials:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not obtain credentials: {}", self.message)
    }
}

impl StdError for CredentialsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secret_or_token() {
        let c =
            Credentials::new("LTAI5tExampleId", "VerySecretValue123").with_security_token("CAIStsTokenValue");
        let dbg = format!("{c:?}");
        assert!(dbg.contains("LTAI5tExampleId"), "{dbg}");
        assert!(!dbg.contains("VerySecretValue123"), "{dbg}");
        assert!(!dbg.contains("CAIStsTokenValue"), "{dbg}");
        assert!(dbg.contains("***"), "{dbg}");
        let pretty = format!("{c:#?}");
        assert!(!pretty.contains("VerySecretValue123") && !pretty.contains("CAIStsTokenValue"));
    }

    #[test]
    fn accessors() {
        let t = SystemTime::UNIX_EPOCH;
        let c = Credentials::new("id", "secret").with_security_token("tok").with_expiration(t);
        assert_eq!(c.access_key_id(), "id");
        assert_eq!(c.access_key_secret(), "secret");
        assert_eq!(c.security_token(), Some("tok"));
        assert_eq!(c.expiration(), Some(t));
        assert!(c.is_expired());
        assert!(!Credentials::new("id", "secret").is_expired());
    }

    #[test]
    fn validation() {
        assert!(Credentials::new("id", "secret").validate().is_ok());
        assert!(Credentials::new("", "secret").validate().is_err());
        assert!(Credentials::new("id", "").validate().is_err());
        assert!(Credentials::new("id\n", "secret").validate().is_err());
        assert!(Credentials::new(" id", "secret").validate().is_err());
        assert!(Credentials::new("idé", "secret").validate().is_err());
        // The secret never travels in a header: any bytes are fine.
        assert!(Credentials::new("id", "sé\ncret").validate().is_ok());
        let err = Credentials::new("id", "s").with_security_token("bad\r\ntoken").validate().unwrap_err();
        assert!(!err.to_string().contains("bad"), "{err}");
        assert!(Credentials::new("id", "s").with_security_token("").validate().is_err());
        let expired = Credentials::new("id", "s").with_expiration(SystemTime::UNIX_EPOCH);
        assert_eq!(
            expired.validate().unwrap_err().message(),
            "the credentials of access key id id expired at 1970-01-01T00:00:00Z: they cannot sign a request"
        );
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        assert!(Credentials::new("id", "s").with_expiration(later).validate().is_ok());
    }

    #[test]
    fn error_display_and_source() {
        let e = CredentialsError::new("nothing found");
        assert_eq!(e.to_string(), "could not obtain credentials: nothing found");
        assert!(e.source().is_none());
        let io = std::io::Error::other("disk on fire");
        let e = CredentialsError::with_source("reading the profile failed", io);
        assert_eq!(e.message(), "reading the profile failed");
        assert_eq!(e.source().map(|s| s.to_string()).as_deref(), Some("disk on fire"));
        assert!(!e.is_not_found());
        let e = CredentialsError::not_found("nothing here").context("CLI profile");
        assert!(e.is_not_found());
        assert_eq!(e.message(), "CLI profile: nothing here");
        assert!(!e.set_not_found(false).is_not_found());
    }

    #[test]
    fn providers_are_object_safe() {
        let providers: Vec<Arc<dyn ProvideCredentials>> = vec![
            Arc::new(Credentials::new("a", "b")),
            Arc::new(StaticProvider::new(Credentials::new("a", "b"))),
            Arc::new(EnvironmentProvider::new()),
            Arc::new(DefaultCredentialsChain::new()),
        ];
        assert_eq!(providers.len(), 4);
    }

    #[tokio::test]
    async fn credentials_provide_themselves() {
        let c = Credentials::new("a", "b").with_security_token("t");
        assert_eq!(c.provide_credentials().await.unwrap(), c);
        let arc: Arc<dyn ProvideCredentials> = Arc::new(c.clone());
        assert_eq!(arc.provide_credentials().await.unwrap(), c);
    }
}
