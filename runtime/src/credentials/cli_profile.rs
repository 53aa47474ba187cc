//! Credentials from a profile of the Alibaba Cloud CLI, `~/.aliyun/config.json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::ecs::EcsRamRoleProvider;
use super::env::Env;
use super::external::{self, ExternalProvider};
use super::oidc::OidcRoleArnProvider;
use super::ram_role_arn::RamRoleArnProvider;
use super::sts::StsLocation;
use super::uri::CredentialsUriProvider;
use super::{
    Credentials, CredentialsError, CredentialsFuture, Endpoints, ProvideCredentials, StaticProvider,
};

pub(crate) const CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
const SUPPORTED: &str =
    "AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, External, CredentialsURI";
/// How deep `source_profile` references may nest.
const MAX_CHAIN: usize = 8;

/// Credentials from a profile of the Alibaba Cloud CLI configuration, `~/.aliyun/config.json`
/// (as `aliyun configure` writes it). The profile is the one named with
/// [`profile_name`](CliProfileProviderBuilder::profile_name), else by `ALIBABA_CLOUD_PROFILE`,
/// else the file's `current` profile.
///
/// Supported modes: `AK`, `StsToken`, `RamRoleArn` (the profile's AccessKey assumes
/// `ram_role_arn`), `ChainableRamRoleArn` (the credentials of `source_profile` assume it),
/// `EcsRamRole`, `OIDC`, `External` and `CredentialsURI`. The file is read at the first call.
///
/// - The role session name is `ram_session_name` (the key the CLI writes), else
///   `role_session_name` (the key the official Python library reads), else
///   `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else a generated one.
/// - `expired_seconds`, when present, must be 900 to 43200: a profile with another value
///   (`0` included) is refused rather than silently given the default of 3600.
/// - `External` runs the profile's `process_command` without a shell (the line is split into
///   words as a POSIX shell would, quotes included), with no input, its standard error discarded,
///   for at most 60 s ([`process_timeout`](CliProfileProviderBuilder::process_timeout)) and 64 KiB
///   of output, and reads the JSON it prints: `mode` (`AK` or `StsToken`), `access_key_id`,
///   `access_key_secret`, `sts_token` and optionally `expiration` (ISO-8601 UTC). The command runs
///   again when those credentials near their expiration; without one, they are kept. What it
///   prints never appears in an error or a log.
/// - `CloudSSO` and `OAuth` profiles are refused with what to do instead: their tokens are
///   refreshed by the CLI's own sign-in flow, which this crate does not run.
///
/// In the [`DefaultCredentialsChain`](crate::DefaultCredentialsChain), this source is skipped
/// when `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`.
#[derive(Clone)]
pub struct CliProfileProvider {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    profile: Option<String>,
    env: Env,
    endpoints: Endpoints,
    process_timeout: Duration,
    resolved: tokio::sync::OnceCell<(String, Arc<dyn ProvideCredentials>)>,
}

/// Builds a [`CliProfileProvider`].
#[derive(Debug, Default)]
pub struct CliProfileProviderBuilder {
    path: Option<PathBuf>,
    profile: Option<String>,
    endpoints: Endpoints,
    process_timeout: Option<Duration>,
}

impl CliProfileProvider {
    /// Starts a provider.
    pub fn builder() -> CliProfileProviderBuilder {
        CliProfileProviderBuilder::default()
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The profile used, once the file has been read.
    pub fn profile_name(&self) -> Option<&str> {
        self.inner.resolved.get().map(|(name, _)| name.as_str()).or(self.inner.profile.as_deref())
    }

    async fn resolve(&self) -> Result<&Arc<dyn ProvideCredentials>, CredentialsError> {
        let (_, provider) = self.inner.resolved.get_or_try_init(|| async { self.load() }).await?;
        Ok(provider)
    }

    fn load(&self) -> Result<(String, Arc<dyn ProvideCredentials>), CredentialsError> {
        let inner = &*self.inner;
        let path = inner.path.display();
        let text = match std::fs::read_to_string(&inner.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CredentialsError::not_found(format!("{path} not found")));
            }
            Err(e) => return Err(CredentialsError::with_source(format!("could not read {path}: {e}"), e)),
        };
        // serde_json's messages give a position, never the content.
        let config: Value = serde_json::from_str(&text)
            .map_err(|e| CredentialsError::new(format!("{path} is not valid JSON: {e}")))?;
        let profiles =
            config.get("profiles").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if profiles.is_empty() {
            return Err(CredentialsError::not_found(format!("{path} has no profiles")));
        }
        let name = match &inner.profile {
            Some(name) => name.clone(),
            None => match str_field(&config, "current") {
                Some(name) => name,
                None => {
                    return Err(CredentialsError::not_found(format!(
                        "{path} has no current profile and {} is not set",
                        super::ini::PROFILE
                    )));
                }
            },
        };
        let provider = self.provider_for(profiles, &name, &mut Vec::new())?;
        tracing::debug!(profile = %name, path = %path, "using a profile of the Alibaba Cloud CLI");
        Ok((name, provider))
    }

    fn provider_for(
        &self,
        profiles: &[Value],
        name: &str,
        seen: &mut Vec<String>,
    ) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        let inner = &*self.inner;
        let path = inner.path.display();
        let Some(p) = profiles.iter().find(|p| p.get("name").and_then(Value::as_str) == Some(name)) else {
            let err = format!("{path} has no profile named {name:?}");
            // A missing top-level profile means "nothing here"; a missing source profile is an error.
            return Err(if seen.is_empty() {
                CredentialsError::not_found(err)
            } else {
                CredentialsError::new(err)
            });
        };
        if seen.iter().any(|s| s == name) || seen.len() >= MAX_CHAIN {
            return Err(CredentialsError::new(format!(
                "the source_profile chain {} -> {name} of {path} loops or is too deep",
                seen.join(" -> ")
            )));
        }
        seen.push(name.to_owned());
        let context =
            |e: CredentialsError| e.context(format_args!("profile {name:?} of {path}")).set_not_found(false);
        let get = |key: &str| str_field(p, key);
        let need = |key: &str| {
            get(key).ok_or_else(|| context(CredentialsError::new(format!("{key} is missing or empty"))))
        };
        let sts = || StsLocation {
            endpoint: inner.endpoints.sts.clone(),
            region: get("sts_region"),
            vpc: bool_field(p, "enable_vpc"),
        };
        // The CLI writes `ram_session_name`; the official Python library reads `role_session_name`.
        let session_name = || get("ram_session_name").or_else(|| get("role_session_name"));
        let duration = || duration_field(p).map_err(context);
        let role =
            |source: Arc<dyn ProvideCredentials>| -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
                let mut b = RamRoleArnProvider::builder()
                    .source_arc(source)
                    .role_arn(need("ram_role_arn")?)
                    .sts_location(sts());
                if let Some(n) = session_name() {
                    b = b.role_session_name(n);
                }
                if let Some(d) = duration()? {
                    b = b.duration_seconds(d);
                }
                if let Some(policy) = get("policy") {
                    b = b.policy(policy);
                }
                if let Some(id) = get("external_id") {
                    b = b.external_id(id);
                }
                Ok(Arc::new(b.build_with(&inner.env).map_err(context)?))
            };
        let mode = get("mode").unwrap_or_default();
        let provider: Arc<dyn ProvideCredentials> = match mode.as_str() {
            "AK" => Arc::new(StaticProvider::new(Credentials::new(
                need("access_key_id")?,
                need("access_key_secret")?,
            ))),
            "StsToken" => Arc::new(StaticProvider::new(
                Credentials::new(need("access_key_id")?, need("access_key_secret")?)
                    .with_security_token(need("sts_token")?),
            )),
            "RamRoleArn" => {
                let source = Credentials::new(need("access_key_id")?, need("access_key_secret")?);
                role(Arc::new(StaticProvider::new(source)))?
            }
            "ChainableRamRoleArn" => {
                let source_name = need("source_profile")?;
                let source = self
                    .provider_for(profiles, &source_name, seen)
                    .map_err(|e| e.context(format_args!("source_profile {source_name:?}")))?;
                role(source)?
            }
            "EcsRamRole" => {
                let mut b =
                    EcsRamRoleProvider::builder().metadata_endpoint_opt(inner.endpoints.metadata.clone());
                if let Some(role) = get("ram_role_name") {
                    b = b.role_name(role);
                }
                Arc::new(b.build_with(&inner.env).map_err(context)?)
            }
            "OIDC" => {
                let mut b = OidcRoleArnProvider::builder()
                    .role_arn(need("ram_role_arn")?)
                    .oidc_provider_arn(need("oidc_provider_arn")?)
                    .oidc_token_file(need("oidc_token_file")?)
                    .sts_location(sts());
                if let Some(n) = session_name() {
                    b = b.role_session_name(n);
                }
                if let Some(d) = duration()? {
                    b = b.duration_seconds(d);
                }
                if let Some(policy) = get("policy") {
                    b = b.policy(policy);
                }
                Arc::new(b.build_with(&inner.env).map_err(context)?)
            }
            "External" => Arc::new(
                ExternalProvider::new(name, &need("process_command")?, inner.process_timeout)
                    .map_err(context)?,
            ),
            "CloudSSO" | "OAuth" => {
                return Err(context(CredentialsError::new(format!(
                    "mode {mode:?} is not supported: its tokens are refreshed by the aliyun CLI's own \
                     sign-in flow. Use a profile of another mode (RamRoleArn, OIDC, EcsRamRole, External \
                     with a command that prints temporary credentials), or set ALIBABA_CLOUD_ACCESS_KEY_ID, \
                     ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN"
                ))));
            }
            "CredentialsURI" => Arc::new(
                CredentialsUriProvider::builder()
                    .uri(need("credentials_uri")?)
                    .build_with(&inner.env)
                    .map_err(context)?,
            ),
            "" => return Err(context(CredentialsError::new(format!("no mode (supported: {SUPPORTED})")))),
            other => {
                return Err(context(CredentialsError::new(format!(
                    "mode {other:?} is not supported (supported: {SUPPORTED})"
                ))));
            }
        };
        Ok(provider)
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `expired_seconds`: absent (or null, or an empty string) means the default; any other value
/// must be a whole number of seconds STS accepts.
fn duration_field(v: &Value) -> Result<Option<u32>, CredentialsError> {
    let (min, max) = (super::sts::MIN_DURATION_SECONDS, super::sts::MAX_DURATION_SECONDS);
    let shown = match v.get("expired_seconds") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => "(not a number)".to_owned(),
    };
    match shown.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(CredentialsError::new(format!(
            "expired_seconds {shown} is outside the allowed range, {min} to {max} seconds (remove it for \
             the default of 3600)"
        ))),
    }
}

fn bool_field(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl ProvideCredentials for CliProfileProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            // Once a profile is found, its provider is configured: its errors are failures.
            let provider = self.resolve().await?;
            provider.provide_credentials().await.map_err(|e| e.set_not_found(false))
        })
    }
}

impl fmt::Debug for CliProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliProfileProvider")
            .field("path", &self.inner.path)
            .field("profile", &self.profile_name())
            .field("provider", &self.inner.resolved.get().map(|(_, p)| p))
            .finish()
    }
}

impl CliProfileProviderBuilder {
    /// The file to read (default: `~/.aliyun/config.json`).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The profile to use (default: `ALIBABA_CLOUD_PROFILE`, else the file's `current`).
    pub fn profile_name(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// For tests only: the STS endpoint of the providers the profile configures.
    #[doc(hidden)]
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.sts = Some(endpoint.into());
        self
    }

    /// For tests only: the instance metadata endpoint of the providers the profile configures.
    #[doc(hidden)]
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.metadata = Some(endpoint.into());
        self
    }

    /// How long the `process_command` of an `External` profile may run (default 60 s).
    pub fn process_timeout(mut self, timeout: Duration) -> Self {
        self.process_timeout = Some(timeout);
        self
    }

    pub(crate) fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Decides the file and profile; the file is read at the first call.
    pub fn build(self) -> Result<CliProfileProvider, CredentialsError> {
        self.build_with(&Env::process())
    }

    pub(crate) fn build_with(self, env: &Env) -> Result<CliProfileProvider, CredentialsError> {
        let path = match self.path {
            Some(path) => path,
            None => env
                .home()
                .ok_or_else(|| {
                    CredentialsError::not_found("the home directory is unknown (HOME is not set)")
                })?
                .join(".aliyun")
                .join("config.json"),
        };
        let profile = self
            .profile
            .filter(|p| !p.trim().is_empty())
            .or_else(|| env.get(super::ini::PROFILE))
            .map(|p| p.trim().to_owned());
        Ok(CliProfileProvider {
            inner: Arc::new(Inner {
                path,
                profile,
                env: env.clone(),
                endpoints: self.endpoints,
                process_timeout: self.process_timeout.unwrap_or(external::DEFAULT_TIMEOUT),
                resolved: tokio::sync::OnceCell::new(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("acs-runtime-cli-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const CONFIG: &str = r#"{
        "current": "ak",
        "profiles": [
            {"name": "ak", "mode": "AK", "access_key_id": "id-ak", "access_key_secret": "TopSecret", "region_id": "cn-hangzhou"},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.id", "access_key_secret": "s", "sts_token": "TokenValue"},
            {"name": "noid", "mode": "AK", "access_key_id": "", "access_key_secret": "s"},
            {"name": "sso", "mode": "CloudSSO"},
            {"name": "loop1", "mode": "ChainableRamRoleArn", "source_profile": "loop2", "ram_role_arn": "r"},
            {"name": "loop2", "mode": "ChainableRamRoleArn", "source_profile": "loop1", "ram_role_arn": "r"},
            {"name": "dangling", "mode": "ChainableRamRoleArn", "source_profile": "ghost", "ram_role_arn": "r"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "id", "access_key_secret": "s",
             "ram_role_arn": "acs:ram::1:role/r", "ram_session_name": "sess", "expired_seconds": 1800,
             "sts_region": "cn-shanghai", "enable_vpc": true},
            {"name": "both", "mode": "RamRoleArn", "access_key_id": "id", "access_key_secret": "s",
             "ram_role_arn": "acs:ram::1:role/r", "ram_session_name": "ram-name", "role_session_name": "role-name"},
            {"name": "python", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/r", "oidc_provider_arn": "p",
             "oidc_token_file": "/t", "role_session_name": "role-name", "expired_seconds": "43200"},
            {"name": "zero", "mode": "RamRoleArn", "access_key_id": "id", "access_key_secret": "s",
             "ram_role_arn": "acs:ram::1:role/r", "expired_seconds": 0},
            {"name": "long", "mode": "ChainableRamRoleArn", "source_profile": "ak",
             "ram_role_arn": "acs:ram::1:role/r", "expired_seconds": 43201},
            {"name": "odd", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/r", "oidc_provider_arn": "p",
             "oidc_token_file": "/t", "expired_seconds": -5},
            {"name": "oauth", "mode": "OAuth", "oauth_site_type": "CN"},
            {"name": "noprocess", "mode": "External"}
        ]
    }"#;

    fn provider(dir: &TempDir, profile: Option<&str>) -> CliProfileProvider {
        let path = dir.0.join("config.json");
        std::fs::write(&path, CONFIG).unwrap();
        let mut b = CliProfileProvider::builder().path(path);
        if let Some(p) = profile {
            b = b.profile_name(p);
        }
        b.build_with(&Env::from_pairs(&[])).unwrap()
    }

    #[tokio::test]
    async fn static_modes() {
        let dir = TempDir::new("static");
        let p = provider(&dir, None);
        let c = p.provide_credentials().await.unwrap();
        assert_eq!((c.access_key_id(), c.access_key_secret()), ("id-ak", "TopSecret"));
        assert_eq!(p.profile_name(), Some("ak"));
        assert!(!format!("{p:?}").contains("TopSecret"));
        let c = provider(&dir, Some("sts")).provide_credentials().await.unwrap();
        assert_eq!(c.security_token(), Some("TokenValue"));
    }

    #[tokio::test]
    async fn broken_profiles() {
        let dir = TempDir::new("broken");
        let msg = |e: CredentialsError| (e.is_not_found(), e.message().to_owned());
        let (nf, m) = msg(provider(&dir, Some("noid")).provide_credentials().await.unwrap_err());
        assert!(
            !nf && m.contains("profile \"noid\"") && m.ends_with("access_key_id is missing or empty"),
            "{m}"
        );
        for (profile, mode) in [("sso", "CloudSSO"), ("oauth", "OAuth")] {
            let (nf, m) = msg(provider(&dir, Some(profile)).provide_credentials().await.unwrap_err());
            assert!(!nf && m.contains(&format!("profile {profile:?} of ")), "{m}");
            assert!(
                m.contains(&format!(
                    "mode \"{mode}\" is not supported: its tokens are refreshed by the aliyun CLI"
                )),
                "{m}"
            );
            assert!(
                m.contains("Use a profile of another mode") && m.contains("ALIBABA_CLOUD_SECURITY_TOKEN"),
                "{m}"
            );
        }
        let (nf, m) = msg(provider(&dir, Some("noprocess")).provide_credentials().await.unwrap_err());
        assert!(!nf && m.ends_with("process_command is missing or empty"), "{m}");
        let (nf, m) = msg(provider(&dir, Some("loop1")).provide_credentials().await.unwrap_err());
        assert!(!nf && m.contains("loops"), "{m}");
        let (nf, m) = msg(provider(&dir, Some("dangling")).provide_credentials().await.unwrap_err());
        assert!(!nf && m.contains("no profile named \"ghost\""), "{m}");
        let (nf, m) = msg(provider(&dir, Some("absent")).provide_credentials().await.unwrap_err());
        assert!(nf && m.contains("no profile named \"absent\""), "{m}");
    }

    #[tokio::test]
    async fn role_profile_settings() {
        let dir = TempDir::new("role");
        let p = provider(&dir, Some("role"));
        let resolved = p.resolve().await.unwrap();
        let dbg = format!("{resolved:?}");
        assert!(dbg.contains("sts-vpc.cn-shanghai.aliyuncs.com"), "{dbg}");
        assert!(dbg.contains("\"sess\"") && dbg.contains("duration_seconds: 1800"), "{dbg}");
        // Both session name keys: the CLI's own `ram_session_name` wins.
        let dbg = format!("{:?}", provider(&dir, Some("both")).resolve().await.unwrap());
        assert!(dbg.contains("role_session_name: \"ram-name\""), "{dbg}");
        // `role_session_name` alone (as the official Python library writes it) is read too.
        let dbg = format!("{:?}", provider(&dir, Some("python")).resolve().await.unwrap());
        assert!(
            dbg.contains("role_session_name: \"role-name\"") && dbg.contains("duration_seconds: 43200"),
            "{dbg}"
        );
    }

    #[tokio::test]
    async fn durations_outside_the_sts_range_are_refused() {
        let dir = TempDir::new("durations");
        for (profile, shown) in [("zero", "0"), ("long", "43201"), ("odd", "-5")] {
            let err = provider(&dir, Some(profile)).provide_credentials().await.unwrap_err();
            assert!(!err.is_not_found());
            let m = err.message();
            assert!(m.starts_with(&format!("profile {profile:?} of ")), "{m}");
            assert!(
                m.ends_with(&format!(
                    "expired_seconds {shown} is outside the allowed range, 900 to 43200 seconds (remove it \
                     for the default of 3600)"
                )),
                "{m}"
            );
        }
    }

    #[tokio::test]
    async fn files() {
        let dir = TempDir::new("files");
        let p = CliProfileProvider::builder()
            .path(dir.0.join("none.json"))
            .build_with(&Env::from_pairs(&[]))
            .unwrap();
        let err = p.provide_credentials().await.unwrap_err();
        assert!(err.is_not_found() && err.message().ends_with("none.json not found"), "{err}");
        std::fs::write(dir.0.join("bad.json"), "{\"current\": TopSecret").unwrap();
        let p = CliProfileProvider::builder()
            .path(dir.0.join("bad.json"))
            .build_with(&Env::from_pairs(&[]))
            .unwrap();
        let err = p.provide_credentials().await.unwrap_err();
        assert!(!err.is_not_found() && err.message().contains("is not valid JSON"), "{err}");
        assert!(!err.message().contains("TopSecret"), "{err}");
        let env = Env::from_pairs(&[("HOME", "/home/u"), (super::super::ini::PROFILE, "p")]);
        let p = CliProfileProvider::builder().build_with(&env).unwrap();
        assert_eq!(p.path(), Path::new("/home/u/.aliyun/config.json"));
        assert_eq!(p.profile_name(), Some("p"));
    }
}
