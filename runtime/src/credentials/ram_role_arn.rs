//! Temporary credentials of a RAM role, from STS `AssumeRole`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::cache::CredentialsCache;
use super::env::Env;
use super::http::HttpClient;
use super::sts::{self, AssumeRole, StsLocation};
use super::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials, StaticProvider};
use crate::url::HttpUrl;

/// Assumes a RAM role with STS `AssumeRole`, signed with the credentials of another provider
/// (an AccessKey pair, or temporary credentials for role chaining).
///
/// The temporary credentials are cached and refreshed from ten minutes before they expire, by one
/// caller while the others keep using the current ones. A refresh that fails then is retried
/// 10 s later, and the call goes on with the current credentials; with less than three minutes
/// left they are no longer used, and a failed refresh is the call's error.
///
/// ```
/// use alibabacloud_runtime::{Config, Credentials, RamRoleArnProvider};
///
/// let provider = RamRoleArnProvider::builder()
///     .source_credentials(Credentials::new("LTAI...", "secret"))
///     .role_arn("acs:ram::123456789012****:role/mqtt-operator")
///     .role_session_name("my-app")
///     .sts_region("cn-hangzhou")
///     .build()?;
/// let config = Config::builder().region("cn-hangzhou").credentials_provider(provider).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RamRoleArnProvider {
    inner: Arc<Inner>,
}

struct Inner {
    source: Arc<dyn ProvideCredentials>,
    role_arn: String,
    role_session_name: String,
    duration_seconds: u32,
    policy: Option<String>,
    external_id: Option<String>,
    endpoint: HttpUrl,
    http: HttpClient,
    cache: CredentialsCache,
}

/// Builds a [`RamRoleArnProvider`].
#[derive(Default)]
pub struct RamRoleArnProviderBuilder {
    source: Option<Arc<dyn ProvideCredentials>>,
    role_arn: Option<String>,
    role_session_name: Option<String>,
    duration_seconds: Option<u32>,
    policy: Option<String>,
    external_id: Option<String>,
    sts: StsLocation,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl RamRoleArnProvider {
    /// Starts a provider; a source of credentials and a role ARN are needed.
    pub fn builder() -> RamRoleArnProviderBuilder {
        RamRoleArnProviderBuilder::default()
    }

    /// The ARN of the role assumed.
    pub fn role_arn(&self) -> &str {
        &self.inner.role_arn
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let inner = &*self.inner;
        // The source was configured explicitly: whatever it answers is a failure, not "nothing here".
        let source = inner.source.provide_credentials().await.map_err(|e| {
            e.context(format_args!("the source credentials of role {}", inner.role_arn)).set_not_found(false)
        })?;
        source.validate()?;
        let request = AssumeRole {
            role_arn: &inner.role_arn,
            role_session_name: &inner.role_session_name,
            duration_seconds: inner.duration_seconds,
            policy: inner.policy.as_deref(),
            external_id: inner.external_id.as_deref(),
        };
        sts::assume_role(&inner.http, &inner.endpoint, &source, &request)
            .await
            .map_err(|e| e.context(format_args!("assuming role {}", inner.role_arn)))
    }
}

impl ProvideCredentials for RamRoleArnProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.inner.cache.get_or_refresh(|| self.fetch()).await })
    }
}

impl fmt::Debug for RamRoleArnProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("RamRoleArnProvider")
            .field("role_arn", &inner.role_arn)
            .field("role_session_name", &inner.role_session_name)
            .field("duration_seconds", &inner.duration_seconds)
            .field("policy", &inner.policy.is_some())
            .field("external_id", &inner.external_id.is_some())
            .field("sts_endpoint", &inner.endpoint.display())
            .field("source", &inner.source)
            .field("cache", &inner.cache)
            .finish()
    }
}

impl RamRoleArnProviderBuilder {
    /// Fixed credentials to sign `AssumeRole` with.
    pub fn source_credentials(mut self, credentials: Credentials) -> Self {
        self.source = Some(Arc::new(StaticProvider::new(credentials)));
        self
    }

    /// A provider of the credentials to sign `AssumeRole` with, asked at each refresh.
    pub fn source_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.source = Some(Arc::new(provider));
        self
    }

    pub(crate) fn source_arc(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.source = Some(provider);
        self
    }

    /// The ARN of the role, `acs:ram::<account>:role/<name>` (default: `ALIBABA_CLOUD_ROLE_ARN`).
    pub fn role_arn(mut self, role_arn: impl Into<String>) -> Self {
        self.role_arn = Some(role_arn.into());
        self
    }

    /// The role session name, which shows in audit logs (default:
    /// `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `credentials-rust-<microseconds>`).
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

    /// The external ID the role's trust policy requires.
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// The region of the STS endpoint, `sts.<region>.aliyuncs.com` (default:
    /// `ALIBABA_CLOUD_STS_REGION`, else the central `sts.aliyuncs.com`).
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

    /// Checks the settings, filling the unset ones from the environment.
    pub fn build(self) -> Result<RamRoleArnProvider, CredentialsError> {
        self.build_with(&Env::process())
    }

    pub(crate) fn build_with(self, env: &Env) -> Result<RamRoleArnProvider, CredentialsError> {
        let source = self.source.ok_or_else(|| {
            CredentialsError::new("RamRoleArnProvider needs source credentials to sign AssumeRole with")
        })?;
        let role_arn =
            self.role_arn.filter(|r| !r.trim().is_empty()).or_else(|| env.get(sts::ROLE_ARN)).ok_or_else(
                || {
                    CredentialsError::new(format!(
                        "RamRoleArnProvider needs a role ARN ({} is not set)",
                        sts::ROLE_ARN
                    ))
                },
            )?;
        let role_arn = role_arn.trim().to_owned();
        let duration_seconds = sts::check_duration(self.duration_seconds)?;
        let endpoint = self.sts.resolve(env)?;
        Ok(RamRoleArnProvider {
            inner: Arc::new(Inner {
                source,
                cache: CredentialsCache::new(format!("STS AssumeRole (role {role_arn})")),
                role_arn,
                role_session_name: sts::session_name(self.role_session_name, env),
                duration_seconds,
                policy: self.policy.filter(|p| !p.trim().is_empty()),
                external_id: self.external_id.filter(|p| !p.trim().is_empty()),
                endpoint,
                http: HttpClient::new(
                    self.connect_timeout.unwrap_or(sts::CONNECT_TIMEOUT),
                    self.read_timeout.unwrap_or(sts::READ_TIMEOUT),
                    false,
                ),
            }),
        })
    }
}

impl fmt::Debug for RamRoleArnProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RamRoleArnProviderBuilder")
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("sts", &self.sts)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_checks_and_defaults() {
        let env = Env::from_pairs(&[]);
        let err = RamRoleArnProvider::builder().role_arn("acs:ram::1:role/r").build_with(&env).unwrap_err();
        assert!(err.message().contains("source credentials"), "{err}");
        let err = RamRoleArnProvider::builder()
            .source_credentials(Credentials::new("id", "TopSecret"))
            .build_with(&env)
            .unwrap_err();
        assert!(err.message().contains("ALIBABA_CLOUD_ROLE_ARN"), "{err}");
        let err = RamRoleArnProvider::builder()
            .source_credentials(Credentials::new("id", "TopSecret"))
            .role_arn("acs:ram::1:role/r")
            .duration_seconds(60)
            .build_with(&env)
            .unwrap_err();
        assert!(err.message().contains("900"), "{err}");

        let env =
            Env::from_pairs(&[(sts::ROLE_ARN, "acs:ram::1:role/env"), (sts::STS_REGION, "cn-shanghai")]);
        let p = RamRoleArnProvider::builder()
            .source_credentials(Credentials::new("id", "TopSecret").with_security_token("TokenValue"))
            .policy("{\"Statement\":[]}")
            .build_with(&env)
            .unwrap();
        assert_eq!(p.role_arn(), "acs:ram::1:role/env");
        assert_eq!(p.inner.duration_seconds, 3600);
        assert_eq!(p.inner.endpoint.display(), "https://sts.cn-shanghai.aliyuncs.com/");
        assert!(p.inner.role_session_name.starts_with("credentials-rust-"));
        let dbg = format!("{p:?}");
        assert!(dbg.contains("acs:ram::1:role/env") && dbg.contains("sts.cn-shanghai"), "{dbg}");
        assert!(
            !dbg.contains("TopSecret") && !dbg.contains("TokenValue") && !dbg.contains("Statement"),
            "{dbg}"
        );
    }
}
