//! Temporary credentials from an OIDC token (RRSA on Container Service for Kubernetes), from STS
//! `AssumeRoleWithOIDC`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cache::CredentialsCache;
use super::env::Env;
use super::http::HttpClient;
use super::sts::{self, AssumeRoleWithOidc, StsLocation};
use super::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};
use crate::url::HttpUrl;

pub(crate) const OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
pub(crate) const OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";

/// Assumes a RAM role with the OIDC token of a workload (RRSA): STS `AssumeRoleWithOIDC`, an
/// anonymous call that sends the token read from a file. The file is read again at each refresh,
/// as the token in it rotates.
///
/// Unset settings come from `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, `ALIBABA_CLOUD_ROLE_SESSION_NAME`, `ALIBABA_CLOUD_STS_REGION`
/// and `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`, the variables RRSA sets in a pod.
///
/// The credentials are cached and refreshed from ten minutes before they expire; they are never
/// used with less than three minutes left.
#[derive(Clone)]
pub struct OidcRoleArnProvider {
    inner: Arc<Inner>,
}

struct Inner {
    role_arn: String,
    oidc_provider_arn: String,
    token_file: PathBuf,
    role_session_name: String,
    duration_seconds: u32,
    policy: Option<String>,
    endpoint: HttpUrl,
    http: HttpClient,
    cache: CredentialsCache,
}

/// Builds an [`OidcRoleArnProvider`].
#[derive(Debug, Default)]
pub struct OidcRoleArnProviderBuilder {
    role_arn: Option<String>,
    oidc_provider_arn: Option<String>,
    token_file: Option<PathBuf>,
    role_session_name: Option<String>,
    duration_seconds: Option<u32>,
    policy: Option<String>,
    sts: StsLocation,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl OidcRoleArnProvider {
    /// Starts a provider.
    pub fn builder() -> OidcRoleArnProviderBuilder {
        OidcRoleArnProviderBuilder::default()
    }

    /// The ARN of the role assumed.
    pub fn role_arn(&self) -> &str {
        &self.inner.role_arn
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let inner = &*self.inner;
        let token = std::fs::read_to_string(&inner.token_file).map_err(|e| {
            CredentialsError::with_source(
                format!("could not read the OIDC token file {}: {e}", inner.token_file.display()),
                e,
            )
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(CredentialsError::new(format!(
                "the OIDC token file {} is empty",
                inner.token_file.display()
            )));
        }
        let request = AssumeRoleWithOidc {
            role_arn: &inner.role_arn,
            oidc_provider_arn: &inner.oidc_provider_arn,
            oidc_token: token,
            role_session_name: &inner.role_session_name,
            duration_seconds: inner.duration_seconds,
            policy: inner.policy.as_deref(),
        };
        sts::assume_role_with_oidc(&inner.http, &inner.endpoint, &request)
            .await
            .map_err(|e| e.context(format_args!("assuming role {} with OIDC", inner.role_arn)))
    }
}

impl ProvideCredentials for OidcRoleArnProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.inner.cache.get_or_refresh(|| self.fetch()).await })
    }
}

impl fmt::Debug for OidcRoleArnProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("OidcRoleArnProvider")
            .field("role_arn", &inner.role_arn)
            .field("oidc_provider_arn", &inner.oidc_provider_arn)
            .field("oidc_token_file", &inner.token_file)
            .field("role_session_name", &inner.role_session_name)
            .field("duration_seconds", &inner.duration_seconds)
            .field("sts_endpoint", &inner.endpoint.display())
            .field("cache", &inner.cache)
            .finish()
    }
}

impl OidcRoleArnProviderBuilder {
    /// The ARN of the role to assume (default: `ALIBABA_CLOUD_ROLE_ARN`).
    pub fn role_arn(mut self, role_arn: impl Into<String>) -> Self {
        self.role_arn = Some(role_arn.into());
        self
    }

    /// The ARN of the OIDC identity provider (default: `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`).
    pub fn oidc_provider_arn(mut self, arn: impl Into<String>) -> Self {
        self.oidc_provider_arn = Some(arn.into());
        self
    }

    /// The file holding the OIDC token (default: `ALIBABA_CLOUD_OIDC_TOKEN_FILE`).
    pub fn oidc_token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.token_file = Some(path.into());
        self
    }

    /// The role session name (default: `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else
    /// `credentials-rust-<microseconds>`).
    pub fn role_session_name(mut self, name: impl Into<String>) -> Self {
        self.role_session_name = Some(name.into());
        self
    }

    /// How long the credentials last, in seconds: 900 to 43200, and at most the role's maximum
    /// session duration (default 3600).
    pub fn duration_seconds(mut self, seconds: u32) -> Self {
        self.duration_seconds = Some(seconds);
        self
    }

    /// A policy further restricting the role's permissions, as a JSON string.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// The region of the STS endpoint (default: `ALIBABA_CLOUD_STS_REGION`, else
    /// `sts.aliyuncs.com`).
    pub fn sts_region(mut self, region: impl Into<String>) -> Self {
        self.sts.region = Some(region.into());
        self
    }

    /// Uses the VPC endpoint `sts-vpc.<region>.aliyuncs.com` (default:
    /// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`).
    pub fn vpc(mut self, vpc: bool) -> Self {
        self.sts.vpc = vpc;
        self
    }

    /// An explicit STS endpoint, `host[:port]` (HTTPS) or a full URL; overrides the region. Also
    /// how tests point the provider at a local server (`http://127.0.0.1:<port>`).
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.sts.endpoint = Some(endpoint.into());
        self
    }

    pub(crate) fn sts_location(mut self, sts: StsLocation) -> Self {
        self.sts = sts;
        self
    }

    /// The connect timeout of STS calls (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The read timeout of STS calls (default 10 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Checks the settings, filling the unset ones from the environment. The token file is not
    /// read yet.
    pub fn build(self) -> Result<OidcRoleArnProvider, CredentialsError> {
        self.build_with(&Env::process())
    }

    pub(crate) fn build_with(self, env: &Env) -> Result<OidcRoleArnProvider, CredentialsError> {
        let need = |given: Option<String>, var: &str, what: &str| {
            given
                .filter(|v| !v.trim().is_empty())
                .or_else(|| env.get(var))
                .map(|v| v.trim().to_owned())
                .ok_or_else(|| {
                    CredentialsError::new(format!("OidcRoleArnProvider needs {what} ({var} is not set)"))
                })
        };
        let role_arn = need(self.role_arn, sts::ROLE_ARN, "a role ARN")?;
        let oidc_provider_arn = need(self.oidc_provider_arn, OIDC_PROVIDER_ARN, "an OIDC provider ARN")?;
        let token_file = match self.token_file.filter(|p| !p.as_os_str().is_empty()) {
            Some(path) => path,
            None => PathBuf::from(need(None, OIDC_TOKEN_FILE, "an OIDC token file")?),
        };
        let duration_seconds = sts::check_duration(self.duration_seconds)?;
        let endpoint = self.sts.resolve(env)?;
        let cache = CredentialsCache::new(format!("STS AssumeRoleWithOIDC (role {role_arn})"));
        Ok(OidcRoleArnProvider {
            inner: Arc::new(Inner {
                role_arn,
                oidc_provider_arn,
                token_file,
                role_session_name: sts::session_name(self.role_session_name, env),
                duration_seconds,
                policy: self.policy.filter(|p| !p.trim().is_empty()),
                endpoint,
                http: HttpClient::new(
                    self.connect_timeout.unwrap_or(sts::CONNECT_TIMEOUT),
                    self.read_timeout.unwrap_or(sts::READ_TIMEOUT),
                    false,
                ),
                cache,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_environment() {
        let env = Env::from_pairs(&[
            (sts::ROLE_ARN, "acs:ram::1:role/pod"),
            (OIDC_PROVIDER_ARN, "acs:ram::1:oidc-provider/ack"),
            (OIDC_TOKEN_FILE, "/var/run/secrets/tokens/oidc-token"),
            (sts::ROLE_SESSION_NAME, "pod-session"),
            (sts::STS_REGION, "cn-hangzhou"),
            (sts::VPC_ENDPOINT_ENABLED, "true"),
        ]);
        let p = OidcRoleArnProvider::builder().build_with(&env).unwrap();
        assert_eq!(p.role_arn(), "acs:ram::1:role/pod");
        assert_eq!(p.inner.oidc_provider_arn, "acs:ram::1:oidc-provider/ack");
        assert_eq!(p.inner.token_file, PathBuf::from("/var/run/secrets/tokens/oidc-token"));
        assert_eq!(p.inner.role_session_name, "pod-session");
        assert_eq!(p.inner.endpoint.display(), "https://sts-vpc.cn-hangzhou.aliyuncs.com/");
        // Explicit settings win.
        let p = OidcRoleArnProvider::builder()
            .role_arn("acs:ram::1:role/explicit")
            .sts_endpoint("http://127.0.0.1:1")
            .build_with(&env)
            .unwrap();
        assert_eq!(p.role_arn(), "acs:ram::1:role/explicit");
        assert_eq!(p.inner.endpoint.display(), "http://127.0.0.1:1/");
        assert!(format!("{p:?}").contains("oidc-token"));
    }

    #[test]
    fn missing_settings_are_named() {
        let err = OidcRoleArnProvider::builder().build_with(&Env::from_pairs(&[])).unwrap_err();
        assert!(err.message().contains("ALIBABA_CLOUD_ROLE_ARN"), "{err}");
        let err = OidcRoleArnProvider::builder()
            .role_arn("r")
            .oidc_provider_arn("p")
            .build_with(&Env::from_pairs(&[]))
            .unwrap_err();
        assert!(err.message().contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE"), "{err}");
    }

    #[tokio::test]
    async fn unreadable_token_file_is_an_error() {
        let p = OidcRoleArnProvider::builder()
            .role_arn("r")
            .oidc_provider_arn("p")
            .oidc_token_file("/nonexistent/oidc/token")
            .sts_endpoint("http://127.0.0.1:1")
            .build_with(&Env::from_pairs(&[]))
            .unwrap();
        let err = p.provide_credentials().await.unwrap_err();
        assert!(
            err.message().starts_with("could not read the OIDC token file /nonexistent/oidc/token"),
            "{err}"
        );
        assert!(!err.is_not_found());
    }
}
