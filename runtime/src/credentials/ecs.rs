//! Temporary credentials of the RAM role attached to an ECS instance, from the instance metadata
//! service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;

use super::super::encode::pct;
use super::cache::CredentialsCache;
use super::env::Env;
use super::http::{HttpClient, HttpRequest, HttpResponse, SendError};
use super::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};
use crate::de::{self, FromJson, Mismatch, Object, Value};
use crate::url::HttpUrl;

pub(crate) const ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
pub(crate) const ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
pub(crate) const IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";

/// The instance metadata service.
pub(crate) const METADATA_ENDPOINT: &str = "http://100.100.100.200";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
/// The lifetime asked for metadata tokens, 6 hours (as the official SDKs).
const TOKEN_TTL_SECONDS: u32 = 21_600;
/// Short timeouts, so that a machine outside ECS gives up quickly.
const TIMEOUT: Duration = Duration::from_secs(1);

/// The RAM role of the ECS instance (or ECI container) the program runs on, from the instance
/// metadata service at `http://100.100.100.200`.
///
/// Each refresh first asks for an IMDSv2 session token (`PUT /latest/api/token`) and sends it
/// with the metadata requests; when that fails it falls back to plain (IMDSv1) requests unless
/// IMDSv1 is disabled (`ALIBABA_CLOUD_IMDSV1_DISABLED=true` or
/// [`disable_imdsv1`](EcsRamRoleProviderBuilder::disable_imdsv1)). Without a role name
/// (`ALIBABA_CLOUD_ECS_METADATA` or [`role_name`](EcsRamRoleProviderBuilder::role_name)), the
/// role attached to the instance is looked up first. Timeouts are 1 s, so that machines outside
/// ECS fail fast.
///
/// The credentials are cached and refreshed from ten minutes before they expire; they are never
/// used with less than three minutes left.
#[derive(Clone)]
pub struct EcsRamRoleProvider {
    inner: Arc<Inner>,
}

struct Inner {
    role_name: Option<String>,
    disable_imdsv1: bool,
    endpoint: HttpUrl,
    http: HttpClient,
    cache: CredentialsCache,
}

/// Builds an [`EcsRamRoleProvider`].
#[derive(Debug, Default)]
pub struct EcsRamRoleProviderBuilder {
    role_name: Option<String>,
    disable_imdsv1: Option<bool>,
    endpoint: Option<String>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl EcsRamRoleProvider {
    /// Starts a provider.
    pub fn builder() -> EcsRamRoleProviderBuilder {
        EcsRamRoleProviderBuilder::default()
    }

    fn url(&self, path: &str) -> Result<HttpUrl, CredentialsError> {
        self.inner
            .endpoint
            .with_path_and_query(path)
            .map_err(|why| CredentialsError::new(format!("the metadata path {path:?} is not usable: {why}")))
    }

    /// Asks for an IMDSv2 session token. `Ok(None)` means "go on without one" (IMDSv1 allowed).
    async fn token(&self) -> Result<Option<String>, CredentialsError> {
        let inner = &*self.inner;
        let request = HttpRequest {
            method: Method::PUT,
            url: self.url(TOKEN_PATH)?,
            headers: vec![(TOKEN_TTL_HEADER, TOKEN_TTL_SECONDS.to_string(), false)],
            form: None,
        };
        let failure = match inner.http.send(request).await {
            Ok(HttpResponse { status: 200, body }) => {
                let token = String::from_utf8_lossy(&body).trim().to_owned();
                if !token.is_empty() {
                    return Ok(Some(token));
                }
                "an empty token".to_owned()
            }
            Ok(r) => format!("HTTP {}", r.status),
            Err(SendError { unreachable: true, error }) => {
                // Nothing answers: IMDSv1 would not answer either.
                return Err(unreachable(&inner.endpoint, error));
            }
            Err(SendError { error, .. }) => error.message().to_owned(),
        };
        if inner.disable_imdsv1 {
            return Err(CredentialsError::new(format!(
                "the IMDSv2 token request (PUT {TOKEN_PATH}) got {failure}, and IMDSv1 is disabled"
            )));
        }
        tracing::debug!(failure = %failure, "no IMDSv2 token; falling back to IMDSv1");
        Ok(None)
    }

    /// A metadata GET, with the token when there is one, retried without it when that fails
    /// (other than with a 404) and IMDSv1 is allowed.
    async fn get(&self, path: &str, token: Option<&str>) -> Result<HttpResponse, CredentialsError> {
        let inner = &*self.inner;
        let url = self.url(path)?;
        let request = |token: Option<&str>| HttpRequest {
            method: Method::GET,
            url: url.clone(),
            headers: token.map(|t| (TOKEN_HEADER, t.to_owned(), true)).into_iter().collect(),
            form: None,
        };
        let first = inner.http.send(request(token)).await;
        // A 404 is an answer about the path, not about the token: no point asking again.
        let failed = !matches!(first, Ok(HttpResponse { status: 200 | 404, .. }));
        let result = if failed && token.is_some() && !inner.disable_imdsv1 {
            inner.http.send(request(None)).await
        } else {
            first
        };
        result.map_err(|e| if e.unreachable { unreachable(&inner.endpoint, e.error) } else { e.error })
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let token = self.token().await?;
        let token = token.as_deref();
        let role = match &self.inner.role_name {
            Some(role) => role.clone(),
            None => {
                let r = self.get(CREDENTIALS_PATH, token).await?;
                match r.status {
                    200 => {}
                    404 => {
                        return Err(CredentialsError::not_found(
                            "no RAM role is attached to this ECS instance (the metadata service answered \
                             HTTP 404 for the role list)",
                        ));
                    }
                    status => {
                        return Err(CredentialsError::new(format!(
                            "listing the RAM role of the instance (GET {CREDENTIALS_PATH}) failed with HTTP \
                             {status}: {}",
                            r.snippet(200)
                        )));
                    }
                }
                let text = String::from_utf8_lossy(&r.body);
                let Some(role) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
                    return Err(CredentialsError::not_found("no RAM role is attached to this ECS instance"));
                };
                role.to_owned()
            }
        };
        let path = format!("{CREDENTIALS_PATH}{}", pct(&role));
        let r = self.get(&path, token).await?;
        if r.status != 200 {
            let hint = if r.status == 404 { " (is this role attached to the instance?)" } else { "" };
            return Err(CredentialsError::new(format!(
                "getting the credentials of RAM role {role} from the instance metadata failed with HTTP {}{hint}",
                r.status
            )));
        }
        parse_metadata_credentials(&r.body, &format!("the instance metadata (role {role})"))
            .map_err(|e| e.context(format_args!("ECS RAM role {role}")))
    }
}

fn unreachable(endpoint: &HttpUrl, error: CredentialsError) -> CredentialsError {
    let host = endpoint.host();
    CredentialsError::not_found(format!(
        "the instance metadata service at {host} is not reachable (not running on ECS?): {}",
        error.message()
    ))
}

/// Reads `{Code: "Success", AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`, the
/// answer of the metadata service and of credentials URIs.
pub(crate) fn parse_metadata_credentials(body: &[u8], what: &str) -> Result<Credentials, CredentialsError> {
    struct Answer {
        code: Option<String>,
        message: Option<String>,
        access_key_id: Option<String>,
        access_key_secret: Option<String>,
        security_token: Option<String>,
        expiration: Option<String>,
    }
    impl FromJson for Answer {
        fn from_json(value: Value) -> Result<Self, Mismatch> {
            let mut o = Object::new(value)?;
            Ok(Answer {
                code: o.opt("Code")?,
                message: o.opt("Message")?,
                access_key_id: o.opt("AccessKeyId")?,
                access_key_secret: o.opt("AccessKeySecret")?,
                security_token: o.opt("SecurityToken")?,
                expiration: o.opt("Expiration")?,
            })
        }
    }
    let a: Answer = de::from_slice(body).map_err(|e| {
        CredentialsError::new(format!("{what} answered a body that is not the expected JSON: {e}"))
    })?;
    if let Some(code) = a.code.as_deref()
        && code != "Success"
    {
        let message = a.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
        let mut secrets: Vec<&str> = Vec::new();
        secrets.extend(a.access_key_secret.as_deref());
        secrets.extend(a.security_token.as_deref());
        return Err(CredentialsError::new(super::sts::redact(
            &format!("{what} answered Code {code:?} instead of \"Success\"{message}"),
            &secrets,
        )));
    }
    let missing = |name: &str| CredentialsError::new(format!("{what} answered without {name}"));
    let id = a.access_key_id.filter(|v| !v.is_empty()).ok_or_else(|| missing("AccessKeyId"))?;
    let secret = a.access_key_secret.filter(|v| !v.is_empty()).ok_or_else(|| missing("AccessKeySecret"))?;
    let token = a.security_token.filter(|v| !v.is_empty()).ok_or_else(|| missing("SecurityToken"))?;
    let expiration = a.expiration.ok_or_else(|| missing("Expiration"))?;
    let expiration = super::sts::parse_expiration(&expiration, what)?;
    Ok(Credentials::new(id, secret).with_security_token(token).with_expiration(expiration))
}

impl ProvideCredentials for EcsRamRoleProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.inner.cache.get_or_refresh(|| self.fetch()).await })
    }
}

impl fmt::Debug for EcsRamRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("EcsRamRoleProvider")
            .field("role_name", &inner.role_name)
            .field("disable_imdsv1", &inner.disable_imdsv1)
            .field("endpoint", &inner.endpoint.display())
            .field("cache", &inner.cache)
            .finish()
    }
}

impl EcsRamRoleProviderBuilder {
    /// The RAM role attached to the instance (default: `ALIBABA_CLOUD_ECS_METADATA`, else the
    /// role is looked up in the metadata).
    pub fn role_name(mut self, role: impl Into<String>) -> Self {
        self.role_name = Some(role.into());
        self
    }

    /// Refuses to fall back to IMDSv1 when no IMDSv2 token can be had (default:
    /// `ALIBABA_CLOUD_IMDSV1_DISABLED=true`).
    pub fn disable_imdsv1(mut self, disable: bool) -> Self {
        self.disable_imdsv1 = Some(disable);
        self
    }

    /// The connect timeout of metadata requests (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The read timeout of metadata requests (default 1 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// For tests only: the base URL of the metadata service instead of `http://100.100.100.200`.
    #[doc(hidden)]
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    pub(crate) fn metadata_endpoint_opt(mut self, endpoint: Option<String>) -> Self {
        self.endpoint = endpoint.or(self.endpoint);
        self
    }

    /// Checks the settings, filling the unset ones from the environment. Fails when the metadata
    /// service is disabled with `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`.
    pub fn build(self) -> Result<EcsRamRoleProvider, CredentialsError> {
        self.build_with(&Env::process())
    }

    pub(crate) fn build_with(self, env: &Env) -> Result<EcsRamRoleProvider, CredentialsError> {
        if env.is_true(ECS_METADATA_DISABLED) {
            return Err(CredentialsError::not_found(format!(
                "the instance metadata service is disabled by {ECS_METADATA_DISABLED}=true"
            )));
        }
        let role_name = self
            .role_name
            .filter(|r| !r.trim().is_empty())
            .or_else(|| env.get(ECS_METADATA))
            .map(|r| r.trim().to_owned());
        let text = self.endpoint.unwrap_or_else(|| METADATA_ENDPOINT.to_owned());
        let endpoint = HttpUrl::parse(text.trim()).map_err(|why| {
            CredentialsError::new(format!("the metadata endpoint {text:?} is not usable: {why}"))
        })?;
        Ok(EcsRamRoleProvider {
            inner: Arc::new(Inner {
                role_name,
                disable_imdsv1: self.disable_imdsv1.unwrap_or_else(|| env.is_true(IMDSV1_DISABLED)),
                endpoint,
                http: HttpClient::new(
                    self.connect_timeout.unwrap_or(TIMEOUT),
                    self.read_timeout.unwrap_or(TIMEOUT),
                    true,
                ),
                cache: CredentialsCache::new("the ECS instance metadata service"),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let env = Env::from_pairs(&[(ECS_METADATA, "my-role"), (IMDSV1_DISABLED, "true")]);
        let p = EcsRamRoleProvider::builder().build_with(&env).unwrap();
        assert_eq!(p.inner.role_name.as_deref(), Some("my-role"));
        assert!(p.inner.disable_imdsv1);
        assert_eq!(p.inner.endpoint.display(), "http://100.100.100.200/");
        let p =
            EcsRamRoleProvider::builder().role_name("other").disable_imdsv1(false).build_with(&env).unwrap();
        assert_eq!(p.inner.role_name.as_deref(), Some("other"));
        assert!(!p.inner.disable_imdsv1);
        let err = EcsRamRoleProvider::builder()
            .build_with(&Env::from_pairs(&[(ECS_METADATA_DISABLED, "True")]))
            .unwrap_err();
        assert!(err.is_not_found() && err.message().contains(ECS_METADATA_DISABLED), "{err}");
        let err = EcsRamRoleProvider::builder()
            .metadata_endpoint("nope")
            .build_with(&Env::from_pairs(&[]))
            .unwrap_err();
        assert!(err.message().contains("scheme must be http or https"), "{err}");
    }

    #[test]
    fn metadata_answers() {
        let ok = br#"{"AccessKeyId":"STS.a","AccessKeySecret":"s","Expiration":"2026-11-25T16:33:53Z","SecurityToken":"t","LastUpdated":"2026-11-25T10:33:53Z","Code":"Success"}"#;
        let c = parse_metadata_credentials(ok, "m").unwrap();
        assert_eq!((c.access_key_id(), c.security_token()), ("STS.a", Some("t")));
        let err = parse_metadata_credentials(
            br#"{"Code":"Failed","Message":"no","AccessKeySecret":"LeakedSecret"}"#,
            "m",
        )
        .unwrap_err();
        assert_eq!(err.message(), "m answered Code \"Failed\" instead of \"Success\": no");
        let err = parse_metadata_credentials(br#"{"Code":"Success"}"#, "m").unwrap_err();
        assert_eq!(err.message(), "m answered without AccessKeyId");
        assert!(parse_metadata_credentials(b"<html>", "m").is_err());
    }

    #[tokio::test]
    async fn unreachable_metadata_is_not_found() {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let p = EcsRamRoleProvider::builder()
            .metadata_endpoint(format!("http://{addr}"))
            .build_with(&Env::from_pairs(&[]))
            .unwrap();
        let err = p.provide_credentials().await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(
            err.message().starts_with("the instance metadata service at 127.0.0.1 is not reachable"),
            "{err}"
        );
    }
}
