//! The default credentials chain.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use super::cli_profile::{CLI_PROFILE_DISABLED, CliProfileProvider};
use super::ecs::{ECS_METADATA, EcsRamRoleProvider};
use super::env::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Env, EnvironmentProvider};
use super::ini::ProfileProvider;
use super::oidc::{OIDC_PROVIDER_ARN, OIDC_TOKEN_FILE, OidcRoleArnProvider};
use super::sts::{ROLE_ARN, StsLocation};
use super::uri::CredentialsUriProvider;
use super::{Credentials, CredentialsError, CredentialsFuture, Endpoints, ProvideCredentials};

/// Where the chain looks, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Environment,
    Oidc,
    CliProfile,
    ProfileFile,
    EcsRamRole,
    CredentialsUri,
}

const ORDER: [Source; 6] = [
    Source::Environment,
    Source::Oidc,
    Source::CliProfile,
    Source::ProfileFile,
    Source::EcsRamRole,
    Source::CredentialsUri,
];

impl Source {
    /// How messages name the source.
    fn label(self) -> &'static str {
        match self {
            Source::Environment => "environment",
            Source::Oidc => "OIDC",
            Source::CliProfile => "CLI profile",
            Source::ProfileFile => "credentials file",
            Source::EcsRamRole => "ECS RAM role",
            Source::CredentialsUri => "credentials URI",
        }
    }

    /// The provider name the official SDKs use.
    fn name(self) -> &'static str {
        match self {
            Source::Environment => "env",
            Source::Oidc => "oidc_role_arn",
            Source::CliProfile => "cli_profile",
            Source::ProfileFile => "profile",
            Source::EcsRamRole => "ecs_ram_role",
            Source::CredentialsUri => "credential_uri",
        }
    }
}

/// The credentials a [`Config`](crate::Config) uses when none are given: the first source that
/// has some, in the order of the official Alibaba Cloud SDKs.
///
/// 1. **Environment**: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
///    optionally `ALIBABA_CLOUD_SECURITY_TOKEN` ([`EnvironmentProvider`]).
/// 2. **OIDC / RRSA**, when `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
///    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set: STS `AssumeRoleWithOIDC`
///    ([`OidcRoleArnProvider`]).
/// 3. **CLI profile**: `~/.aliyun/config.json`, the profile named by `ALIBABA_CLOUD_PROFILE` or
///    the file's current one; skipped when `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`
///    ([`CliProfileProvider`]).
/// 4. **Credentials file**: `~/.alibabacloud/credentials.ini` or `ALIBABA_CLOUD_CREDENTIALS_FILE`,
///    section `ALIBABA_CLOUD_PROFILE` or `default` ([`ProfileProvider`]).
/// 5. **ECS RAM role** from the instance metadata service; skipped when
///    `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` ([`EcsRamRoleProvider`]).
/// 6. **Credentials URI**, when `ALIBABA_CLOUD_CREDENTIALS_URI` is set
///    ([`CredentialsUriProvider`]).
///
/// Nothing is read before the first call. The first call walks the chain (one caller at a time;
/// concurrent callers wait for that walk and share its result) and the source found is kept for
/// every later call, as the official SDKs do; temporary credentials are cached by that source's
/// provider and refreshed ahead of their expiry.
///
/// **A source that is absent** (its variables are not set, its file does not exist, the
/// instance metadata service does not answer) is skipped. **A source that is configured but
/// fails** (an unreadable or invalid file, a profile with a missing key or an unsupported mode,
/// an STS error, a metadata error with a role attached) is skipped too, as the official SDKs do,
/// so that the chain picks the same source they would; because that may mean calls made with an
/// identity you did not intend, each such failure is logged with `tracing::warn!`, and if no
/// source succeeds the error lists every failure.
///
/// When no source has credentials, the error lists every source and why it had none:
///
/// ```text
/// could not obtain credentials: no credentials found. Tried, in order: environment:
/// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; OIDC:
/// ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are
/// not set; CLI profile: /root/.aliyun/config.json not found; credentials file:
/// /root/.alibabacloud/credentials.ini not found; ECS RAM role: the instance metadata service at
/// 100.100.100.200 is not reachable (not running on ECS?): ...; credentials URI:
/// ALIBABA_CLOUD_CREDENTIALS_URI is not set. ...
/// ```
///
/// Outside Alibaba Cloud, the ECS probe costs up to one second (its connect timeout) before that
/// error; set `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` to skip it.
#[derive(Clone)]
pub struct DefaultCredentialsChain {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    endpoints: Endpoints,
    resolved: OnceLock<(Source, Arc<dyn ProvideCredentials>)>,
    resolving: tokio::sync::Mutex<()>,
    last_failure: Mutex<Option<(Instant, CredentialsError)>>,
}

/// Builds a [`DefaultCredentialsChain`]; only tests need it.
#[derive(Debug, Default)]
pub struct DefaultCredentialsChainBuilder {
    endpoints: Endpoints,
    env: Option<Env>,
}

impl DefaultCredentialsChain {
    /// The chain reading the process environment and the current user's files.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A chain with settings, for tests.
    pub fn builder() -> DefaultCredentialsChainBuilder {
        DefaultCredentialsChainBuilder::default()
    }

    /// The source in use, once the first call found one: `env`, `oidc_role_arn`, `cli_profile`,
    /// `profile`, `ecs_ram_role` or `credential_uri` (the official SDKs' provider names).
    pub fn source(&self) -> Option<&'static str> {
        self.inner.resolved.get().map(|(source, _)| source.name())
    }

    async fn provide(&self) -> Result<Credentials, CredentialsError> {
        if let Some((_, provider)) = self.inner.resolved.get() {
            return provider.provide_credentials().await;
        }
        let waited_since = Instant::now();
        let _walking = self.inner.resolving.lock().await;
        if let Some((_, provider)) = self.inner.resolved.get() {
            return provider.provide_credentials().await;
        }
        // A walk that ended while this caller waited answers it too.
        if let Some((at, err)) = &*self.inner.last_failure.lock().unwrap_or_else(|e| e.into_inner())
            && *at >= waited_since
        {
            return Err(err.clone());
        }
        match self.walk().await {
            Ok((source, provider, creds)) => {
                tracing::debug!(source = source.name(), "the default credentials chain found credentials");
                let _ = self.inner.resolved.set((source, provider));
                Ok(creds)
            }
            Err(err) => {
                *self.inner.last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((Instant::now(), err.clone()));
                Err(err)
            }
        }
    }

    async fn walk(&self) -> Result<(Source, Arc<dyn ProvideCredentials>, Credentials), CredentialsError> {
        let mut tried: Vec<String> = Vec::new();
        let mut failures = 0;
        for source in ORDER {
            match self.try_source(source).await {
                Ok((provider, creds)) => {
                    if failures > 0 {
                        tracing::warn!(
                            source = source.name(),
                            "credentials come from a later source because an earlier, configured one failed"
                        );
                    }
                    return Ok((source, provider, creds));
                }
                Err(e) if e.is_not_found() => {
                    tracing::debug!(
                        source = source.name(),
                        reason = e.message(),
                        "credentials source skipped"
                    );
                    tried.push(format!("{}: {}", source.label(), e.message()));
                }
                Err(e) => {
                    // As the official chains do: note the failure and go on to the next source.
                    tracing::warn!(
                        source = source.name(),
                        error = e.message(),
                        "a configured credentials source failed; trying the next one"
                    );
                    tried.push(format!("{}: failed: {}", source.label(), e.message()));
                    failures += 1;
                }
            }
        }
        let message = format!(
            "no credentials found. Tried, in order: {}. Set {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET}, configure \
             one of these sources, or give credentials with ConfigBuilder::credentials",
            tried.join("; ")
        );
        Err(if failures > 0 { CredentialsError::new(message) } else { CredentialsError::not_found(message) })
    }

    async fn try_source(
        &self,
        source: Source,
    ) -> Result<(Arc<dyn ProvideCredentials>, Credentials), CredentialsError> {
        let env = &self.inner.env;
        let endpoints = &self.inner.endpoints;
        let provider: Arc<dyn ProvideCredentials> = match source {
            Source::Environment => {
                match (
                    env.os(ACCESS_KEY_ID).is_some_and(|v| !v.is_empty()),
                    env.os(ACCESS_KEY_SECRET).is_some_and(|v| !v.is_empty()),
                ) {
                    (false, false) => {
                        return Err(CredentialsError::not_found(format!(
                            "{ACCESS_KEY_ID} and {ACCESS_KEY_SECRET} are not set"
                        )));
                    }
                    (true, false) => {
                        return Err(CredentialsError::new(format!(
                            "{ACCESS_KEY_ID} is set but {ACCESS_KEY_SECRET} is not"
                        )));
                    }
                    (false, true) => {
                        return Err(CredentialsError::new(format!(
                            "{ACCESS_KEY_SECRET} is set but {ACCESS_KEY_ID} is not"
                        )));
                    }
                    (true, true) => Arc::new(EnvSource(env.clone())),
                }
            }
            Source::Oidc => {
                let missing: Vec<&str> = [ROLE_ARN, OIDC_PROVIDER_ARN, OIDC_TOKEN_FILE]
                    .into_iter()
                    .filter(|v| env.get(v).is_none())
                    .collect();
                if !missing.is_empty() {
                    return Err(CredentialsError::not_found(format!(
                        "{} {} not set",
                        join_names(&missing),
                        if missing.len() == 1 { "is" } else { "are" }
                    )));
                }
                let sts = StsLocation { endpoint: endpoints.sts.clone(), ..StsLocation::default() };
                Arc::new(OidcRoleArnProvider::builder().sts_location(sts).build_with(env)?)
            }
            Source::CliProfile => {
                if env.is_true(CLI_PROFILE_DISABLED) {
                    return Err(CredentialsError::not_found(format!(
                        "disabled by {CLI_PROFILE_DISABLED}=true"
                    )));
                }
                Arc::new(CliProfileProvider::builder().endpoints(endpoints.clone()).build_with(env)?)
            }
            Source::ProfileFile => {
                Arc::new(ProfileProvider::builder().endpoints(endpoints.clone()).build_with(env)?)
            }
            Source::EcsRamRole => {
                let provider = EcsRamRoleProvider::builder()
                    .metadata_endpoint_opt(endpoints.metadata.clone())
                    .build_with(env)?;
                // With a role named, the instance metadata is configured: not reaching it is a failure.
                let configured = env.get(ECS_METADATA).is_some();
                let creds = provider
                    .provide_credentials()
                    .await
                    .map_err(|e| if configured { e.set_not_found(false) } else { e })?;
                return Ok((Arc::new(provider), creds));
            }
            Source::CredentialsUri => Arc::new(CredentialsUriProvider::builder().build_with(env)?),
        };
        let creds = provider.provide_credentials().await?;
        Ok((provider, creds))
    }
}

/// `A`, `A and B`, `A, B and C`.
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Default for DefaultCredentialsChain {
    fn default() -> Self {
        Self::new()
    }
}

impl ProvideCredentials for DefaultCredentialsChain {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.provide())
    }
}

impl fmt::Debug for DefaultCredentialsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DefaultCredentialsChain");
        match self.inner.resolved.get() {
            Some((source, provider)) => {
                d.field("source", &source.name()).field("provider", provider).finish()
            }
            None => d.field("source", &None::<&str>).finish(),
        }
    }
}

impl DefaultCredentialsChainBuilder {
    /// For tests only: the STS endpoint of the OIDC and RAM role sources.
    #[doc(hidden)]
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.sts = Some(endpoint.into());
        self
    }

    /// For tests only: the base URL of the instance metadata service.
    #[doc(hidden)]
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.metadata = Some(endpoint.into());
        self
    }

    #[cfg(test)]
    pub(crate) fn env(mut self, env: Env) -> Self {
        self.env = Some(env);
        self
    }

    /// The chain.
    pub fn build(self) -> DefaultCredentialsChain {
        DefaultCredentialsChain {
            inner: Arc::new(Inner {
                env: self.env.unwrap_or_else(Env::process),
                endpoints: self.endpoints,
                resolved: OnceLock::new(),
                resolving: tokio::sync::Mutex::new(()),
                last_failure: Mutex::new(None),
            }),
        }
    }
}

/// The environment source of the chain: [`EnvironmentProvider`] over the chain's [`Env`].
struct EnvSource(Env);

impl ProvideCredentials for EnvSource {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { EnvironmentProvider::load_with(|name| self.0.os(name)) })
    }
}

impl fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvironmentProvider")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain over `pairs`, with the ECS metadata service disabled unless `pairs` says
    /// otherwise: a unit test must never reach the real 100.100.100.200.
    fn chain(pairs: &[(&str, &str)]) -> DefaultCredentialsChain {
        let mut pairs = pairs.to_vec();
        if !pairs.iter().any(|(k, _)| *k == "ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
            pairs.push(("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"));
        }
        DefaultCredentialsChain::builder().env(Env::from_pairs(&pairs)).build()
    }

    #[test]
    fn names() {
        assert_eq!(join_names(&["A"]), "A");
        assert_eq!(join_names(&["A", "B"]), "A and B");
        assert_eq!(join_names(&["A", "B", "C"]), "A, B and C");
    }

    #[tokio::test]
    async fn environment_first_and_kept() {
        let c = chain(&[(ACCESS_KEY_ID, "id"), (ACCESS_KEY_SECRET, "TopSecret"), ("HOME", "/nonexistent")]);
        assert_eq!(c.source(), None);
        assert!(format!("{c:?}").contains("source: None"));
        let creds = c.provide_credentials().await.unwrap();
        assert_eq!(creds.access_key_id(), "id");
        assert_eq!(c.source(), Some("env"));
        let dbg = format!("{c:?}");
        assert!(dbg.contains("EnvironmentProvider") && !dbg.contains("TopSecret"), "{dbg}");
    }

    #[tokio::test]
    async fn half_set_environment_is_reported_as_a_failure() {
        let err = chain(&[(ACCESS_KEY_ID, "id")]).provide_credentials().await.unwrap_err();
        assert!(!err.is_not_found());
        assert!(
            err.message().contains(
                "environment: failed: ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
            ),
            "{}",
            err.message()
        );
    }

    #[tokio::test]
    async fn nothing_found_lists_every_source() {
        let dir = std::env::temp_dir().join(format!("acs-runtime-chain-{}", std::process::id()));
        let home = dir.to_str().unwrap().to_owned();
        let c = chain(&[
            ("HOME", &home),
            (ROLE_ARN, "acs:ram::1:role/r"),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ]);
        let err = c.provide_credentials().await.unwrap_err();
        assert!(err.is_not_found());
        let expected = format!(
            "no credentials found. Tried, in order: environment: ALIBABA_CLOUD_ACCESS_KEY_ID and \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; OIDC: ALIBABA_CLOUD_OIDC_PROVIDER_ARN and \
             ALIBABA_CLOUD_OIDC_TOKEN_FILE are not set; CLI profile: {home}/.aliyun/config.json not found; \
             credentials file: {home}/.alibabacloud/credentials.ini not found; ECS RAM role: the instance \
             metadata service is disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true; credentials URI: \
             ALIBABA_CLOUD_CREDENTIALS_URI is not set. Set ALIBABA_CLOUD_ACCESS_KEY_ID and \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure one of these sources, or give credentials with \
             ConfigBuilder::credentials"
        );
        assert_eq!(err.message(), expected);
        assert_eq!(c.source(), None);

        let c = chain(&[
            ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true"),
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ]);
        let err = c.provide_credentials().await.unwrap_err();
        assert!(err.message().contains("CLI profile: disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true; credentials file: the home directory is unknown"), "{err}");
    }
}
