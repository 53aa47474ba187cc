//! Credentials from the shared credentials file `~/.alibabacloud/credentials.ini`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ecs::EcsRamRoleProvider;
use super::env::Env;
use super::oidc::OidcRoleArnProvider;
use super::ram_role_arn::RamRoleArnProvider;
use super::sts::StsLocation;
use super::{
    Credentials, CredentialsError, CredentialsFuture, Endpoints, ProvideCredentials, StaticProvider,
};

pub(crate) const CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
pub(crate) const PROFILE: &str = "ALIBABA_CLOUD_PROFILE";

/// A parsed ini file: section name to its keys (lowercase) and values.
pub(crate) type Ini = HashMap<String, HashMap<String, String>>;

/// Parses an ini file: `[section]` headers, `key = value` (or `key: value`) lines, `#` and `;`
/// comment lines, inline comments (a `#` or `;` after whitespace; one inside a value, as in
/// `a#b` or a URL's `?x=1;y=2`, is kept), optional quotes around values (`"a # b"` keeps all of
/// it). Errors give the line number only, never the line, which may hold a secret.
pub(crate) fn parse_ini(text: &str) -> Result<Ini, String> {
    let mut ini = Ini::new();
    let mut section = String::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.split(']').next().filter(|_| rest.contains(']')) else {
                return Err(format!("line {}: a section header without its closing ]", i + 1));
            };
            section = name.trim().to_owned();
            ini.entry(section.clone()).or_default();
            continue;
        }
        let split = match (line.find('='), line.find(':')) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                return Err(format!("line {} is neither a [section] nor a key = value pair", i + 1));
            }
        };
        let key = line[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(format!("line {}: a value without a key", i + 1));
        }
        let raw = line[split + 1..].trim();
        let quoted = raw.strip_prefix(['"', '\'']).and_then(|inner| {
            let quote = raw.chars().next()?;
            let end = inner.find(quote)?;
            Some((&inner[..end], inner[end + 1..].trim()))
        });
        let value = match quoted {
            Some((value, "")) => value,
            Some((value, rest)) if rest.starts_with(['#', ';']) => value,
            Some(_) => {
                return Err(format!("line {}: text after the closing quote of a value", i + 1));
            }
            None => strip_comment(raw),
        };
        ini.entry(section.clone()).or_default().insert(key, value.to_owned());
    }
    Ok(ini)
}

/// `value # comment` without the comment: a `#` or `;` that follows whitespace.
fn strip_comment(value: &str) -> &str {
    let cut = value
        .char_indices()
        .find_map(|(pos, c)| ((c == '#' || c == ';') && value[..pos].ends_with([' ', '\t'])).then_some(pos));
    cut.map_or(value, |pos| value[..pos].trim_end())
}

/// Credentials from a section of the shared credentials file, by default
/// `~/.alibabacloud/credentials.ini` (or `~/.alibabacloud/credentials` when only that one exists;
/// `ALIBABA_CLOUD_CREDENTIALS_FILE` names another file). The section is the one named
/// with [`profile_name`](ProfileProviderBuilder::profile_name), else by `ALIBABA_CLOUD_PROFILE`,
/// else `default`.
///
/// ```ini
/// [default]
/// type = access_key
/// access_key_id = LTAI5t...
/// access_key_secret = ...
///
/// [role]
/// type = ram_role_arn
/// access_key_id = LTAI5t...
/// access_key_secret = ...
/// role_arn = acs:ram::123456789012****:role/mqtt-operator
/// role_session_name = my-app
///
/// [ecs]
/// type = ecs_ram_role
/// role_name = my-ecs-role
///
/// [rrsa]
/// type = oidc_role_arn
/// role_arn = acs:ram::123456789012****:role/pod-role
/// oidc_provider_arn = acs:ram::123456789012****:oidc-provider/ack-rrsa
/// oidc_token_file_path = /var/run/secrets/tokens/oidc-token
/// ```
///
/// `ram_role_arn` sections also accept `policy`, `external_id` and `sts_region`; `oidc_role_arn`
/// sections `role_session_name`, `policy` and `sts_region`. The file is read at the first call.
#[derive(Clone)]
pub struct ProfileProvider {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The file was named explicitly (so its absence is an error, not "nothing configured").
    explicit_path: bool,
    profile: String,
    env: Env,
    endpoints: Endpoints,
    resolved: tokio::sync::OnceCell<Arc<dyn ProvideCredentials>>,
}

/// Builds a [`ProfileProvider`].
#[derive(Debug, Default)]
pub struct ProfileProviderBuilder {
    path: Option<PathBuf>,
    profile: Option<String>,
    endpoints: Endpoints,
}

impl ProfileProvider {
    /// Starts a provider.
    pub fn builder() -> ProfileProviderBuilder {
        ProfileProviderBuilder::default()
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The section read.
    pub fn profile_name(&self) -> &str {
        &self.inner.profile
    }

    async fn resolve(&self) -> Result<&Arc<dyn ProvideCredentials>, CredentialsError> {
        self.inner.resolved.get_or_try_init(|| async { self.load() }).await
    }

    fn load(&self) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        let inner = &*self.inner;
        let path = inner.path.display();
        let text = match std::fs::read_to_string(&inner.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !inner.explicit_path => {
                return Err(CredentialsError::not_found(format!("{path} not found")));
            }
            Err(e) => return Err(CredentialsError::with_source(format!("could not read {path}: {e}"), e)),
        };
        let ini = parse_ini(&text)
            .map_err(|e| CredentialsError::new(format!("{path} is not a valid ini file: {e}")))?;
        let Some(section) = ini.get(&inner.profile) else {
            return Err(CredentialsError::not_found(format!("{path} has no [{}] section", inner.profile)));
        };
        self.provider_for(section).map_err(|e| {
            e.context(format_args!("section [{}] of {path}", inner.profile)).set_not_found(false)
        })
    }

    fn provider_for(
        &self,
        section: &HashMap<String, String>,
    ) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        let inner = &*self.inner;
        let get = |key: &str| section.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let need =
            |key: &str| get(key).ok_or_else(|| CredentialsError::new(format!("{key} is missing or empty")));
        let sts =
            || StsLocation { endpoint: inner.endpoints.sts.clone(), region: get("sts_region"), vpc: false };
        let Some(kind) = get("type") else {
            return Err(CredentialsError::new(
                "no type (access_key, ram_role_arn, ecs_ram_role or oidc_role_arn)",
            ));
        };
        Ok(match kind.as_str() {
            "access_key" => Arc::new(StaticProvider::new(Credentials::new(
                need("access_key_id")?,
                need("access_key_secret")?,
            ))),
            "ram_role_arn" => {
                let source = Credentials::new(need("access_key_id")?, need("access_key_secret")?);
                let mut b = RamRoleArnProvider::builder()
                    .source_credentials(source)
                    .role_arn(need("role_arn")?)
                    .sts_location(sts());
                if let Some(name) = get("role_session_name") {
                    b = b.role_session_name(name);
                }
                if let Some(policy) = get("policy") {
                    b = b.policy(policy);
                }
                if let Some(external_id) = get("external_id") {
                    b = b.external_id(external_id);
                }
                Arc::new(b.build_with(&inner.env)?)
            }
            "ecs_ram_role" => {
                let mut b =
                    EcsRamRoleProvider::builder().metadata_endpoint_opt(inner.endpoints.metadata.clone());
                if let Some(role) = get("role_name") {
                    b = b.role_name(role);
                }
                Arc::new(b.build_with(&inner.env)?)
            }
            "oidc_role_arn" => {
                let mut b = OidcRoleArnProvider::builder()
                    .role_arn(need("role_arn")?)
                    .oidc_provider_arn(need("oidc_provider_arn")?)
                    .oidc_token_file(need("oidc_token_file_path")?)
                    .sts_location(sts());
                if let Some(name) = get("role_session_name") {
                    b = b.role_session_name(name);
                }
                if let Some(policy) = get("policy") {
                    b = b.policy(policy);
                }
                Arc::new(b.build_with(&inner.env)?)
            }
            other => {
                return Err(CredentialsError::new(format!(
                    "unsupported type {other:?} (supported: access_key, ram_role_arn, ecs_ram_role, oidc_role_arn)"
                )));
            }
        })
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            // Once a profile is found, its provider is configured: its errors are failures.
            let provider = self.resolve().await?;
            provider.provide_credentials().await.map_err(|e| e.set_not_found(false))
        })
    }
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileProvider")
            .field("path", &self.inner.path)
            .field("profile", &self.inner.profile)
            .field("provider", &self.inner.resolved.get())
            .finish()
    }
}

impl ProfileProviderBuilder {
    /// The file to read (default: `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
    /// `~/.alibabacloud/credentials.ini`).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The section to read (default: `ALIBABA_CLOUD_PROFILE`, else `default`).
    pub fn profile_name(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// For tests only: the STS endpoint of the providers the file configures.
    #[doc(hidden)]
    pub fn sts_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.sts = Some(endpoint.into());
        self
    }

    /// For tests only: the instance metadata endpoint of the providers the file configures.
    #[doc(hidden)]
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.metadata = Some(endpoint.into());
        self
    }

    pub(crate) fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Decides the file and section; the file is read at the first call.
    pub fn build(self) -> Result<ProfileProvider, CredentialsError> {
        self.build_with(&Env::process())
    }

    pub(crate) fn build_with(self, env: &Env) -> Result<ProfileProvider, CredentialsError> {
        let (path, explicit_path) = match self.path {
            Some(path) => (path, true),
            None => match env.get(CREDENTIALS_FILE) {
                Some(path) => (PathBuf::from(path), true),
                None => {
                    let home = env.home().ok_or_else(|| {
                        CredentialsError::not_found("the home directory is unknown (HOME is not set)")
                    })?;
                    let dir = home.join(".alibabacloud");
                    let ini = dir.join("credentials.ini");
                    let plain = dir.join("credentials");
                    (if !ini.exists() && plain.is_file() { plain } else { ini }, false)
                }
            },
        };
        let profile = self
            .profile
            .filter(|p| !p.trim().is_empty())
            .or_else(|| env.get(PROFILE))
            .map(|p| p.trim().to_owned())
            .unwrap_or_else(|| "default".to_owned());
        Ok(ProfileProvider {
            inner: Arc::new(Inner {
                path,
                explicit_path,
                profile,
                env: env.clone(),
                endpoints: self.endpoints,
                resolved: tokio::sync::OnceCell::new(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ini() {
        let ini = parse_ini(
            "\u{feff}; comment\n# another\nstray = ignored\n[default]\ntype = access_key\n\
             Access_Key_Id=  id  \naccess_key_secret = \"se#cret\" # trailing comment\n\n[ other ]\n\
             role_arn: acs:ram::1:role/x\nurl = http://a/b?c=d;e\nhash = a#b ;comment\n\
             spaced = 'a # b'\nplain = a # b\nhalf = \"a\nempty = \"\"\n",
        )
        .unwrap();
        let d = &ini["default"];
        assert_eq!(d["type"], "access_key");
        assert_eq!(d["access_key_id"], "id");
        assert_eq!(d["access_key_secret"], "se#cret");
        let o = &ini["other"];
        assert_eq!(o["role_arn"], "acs:ram::1:role/x");
        assert_eq!(o["url"], "http://a/b?c=d;e");
        assert_eq!(o["hash"], "a#b");
        assert_eq!(o["spaced"], "a # b");
        assert_eq!(o["plain"], "a");
        assert_eq!(o["half"], "\"a");
        assert_eq!(o["empty"], "");
        assert_eq!(ini[""]["stray"], "ignored");
    }

    #[test]
    fn ini_errors_give_the_line_not_the_content() {
        let err = parse_ini("[default]\nTopSecretLine\n").unwrap_err();
        assert_eq!(err, "line 2 is neither a [section] nor a key = value pair");
        assert!(parse_ini("[default\n").unwrap_err().contains("line 1"));
        assert!(parse_ini("[a]\n= value\n").unwrap_err().contains("without a key"));
        let err = parse_ini("[a]\nk = \"TopSecret\" x\n").unwrap_err();
        assert_eq!(err, "line 2: text after the closing quote of a value");
    }

    #[test]
    fn path_and_profile() {
        let env = Env::from_pairs(&[("HOME", "/home/u"), (PROFILE, "prod")]);
        let p = ProfileProvider::builder().build_with(&env).unwrap();
        assert_eq!(p.path(), Path::new("/home/u/.alibabacloud/credentials.ini"));
        assert_eq!(p.profile_name(), "prod");
        let env = Env::from_pairs(&[("HOME", "/home/u"), (CREDENTIALS_FILE, "/etc/creds.ini")]);
        let p = ProfileProvider::builder().profile_name("x").build_with(&env).unwrap();
        assert_eq!(p.path(), Path::new("/etc/creds.ini"));
        assert_eq!(p.profile_name(), "x");
        assert!(p.inner.explicit_path);
        let err = ProfileProvider::builder().build_with(&Env::from_pairs(&[])).unwrap_err();
        assert!(err.is_not_found());
    }

    #[tokio::test]
    async fn sections_and_types() {
        let dir = std::env::temp_dir().join(format!("acs-runtime-ini-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.ini");
        std::fs::write(
            &path,
            "[default]\ntype = access_key\naccess_key_id = id1\naccess_key_secret = TopSecret\n\
             [empty]\ntype = access_key\naccess_key_id = id1\n\
             [odd]\ntype = rsa_key_pair\n[untyped]\nx = y\n",
        )
        .unwrap();
        let env = Env::from_pairs(&[]);
        let provider =
            |name: &str| ProfileProvider::builder().path(&path).profile_name(name).build_with(&env).unwrap();
        let c = provider("default").provide_credentials().await.unwrap();
        assert_eq!((c.access_key_id(), c.access_key_secret()), ("id1", "TopSecret"));
        let err = provider("empty").provide_credentials().await.unwrap_err();
        assert!(err.message().starts_with("section [empty] of "), "{err}");
        assert!(err.message().ends_with(": access_key_secret is missing or empty"), "{err}");
        assert!(!err.is_not_found());
        let err = provider("odd").provide_credentials().await.unwrap_err();
        assert!(err.message().contains("unsupported type \"rsa_key_pair\""), "{err}");
        let err = provider("untyped").provide_credentials().await.unwrap_err();
        assert!(err.message().contains("no type"), "{err}");
        let err = provider("missing").provide_credentials().await.unwrap_err();
        assert!(err.is_not_found() && err.message().contains("has no [missing] section"), "{err}");
        let p = provider("default");
        p.provide_credentials().await.unwrap();
        assert!(!format!("{p:?}").contains("TopSecret"));

        // A missing default file is "not found"; a missing named file is an error.
        let missing = dir.join("nope.ini");
        let err = ProfileProvider::builder()
            .path(&missing)
            .build_with(&env)
            .unwrap()
            .provide_credentials()
            .await
            .unwrap_err();
        assert!(!err.is_not_found() && err.message().starts_with("could not read"), "{err}");
        let home = Env::from_pairs(&[("HOME", dir.to_str().unwrap())]);
        let p = ProfileProvider::builder().build_with(&home).unwrap();
        // `credentials.ini` exists in `dir`... but under `dir/.alibabacloud` nothing does.
        let err = p.provide_credentials().await.unwrap_err();
        assert!(err.is_not_found() && err.message().ends_with("credentials.ini not found"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ram_role_arn_sections_take_external_id_and_sts_region() {
        let dir = std::env::temp_dir().join(format!("acs-runtime-ini-role-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.ini");
        std::fs::write(
            &path,
            "[role]\ntype = ram_role_arn\naccess_key_id = id\naccess_key_secret = TopSecret\n\
             role_arn = acs:ram::1:role/r\nexternal_id = ext-1\nsts_region = cn-shanghai\n",
        )
        .unwrap();
        let p = ProfileProvider::builder()
            .path(&path)
            .profile_name("role")
            .build_with(&Env::from_pairs(&[]))
            .unwrap();
        // Resolved without calling STS: the provider the section configures.
        let dbg = format!("{:?}", p.load().unwrap());
        assert!(dbg.contains("sts_endpoint: \"https://sts.cn-shanghai.aliyuncs.com/\""), "{dbg}");
        assert!(dbg.contains("external_id: true") && !dbg.contains("TopSecret"), "{dbg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_file_without_ini_is_read_when_only_it_exists() {
        let home = std::env::temp_dir().join(format!("acs-runtime-ini-home-{}", std::process::id()));
        let dir = home.join(".alibabacloud");
        std::fs::create_dir_all(&dir).unwrap();
        let env = Env::from_pairs(&[("HOME", home.to_str().unwrap())]);
        let path = || ProfileProvider::builder().build_with(&env).unwrap().path().to_owned();
        assert_eq!(path(), dir.join("credentials.ini"));
        std::fs::write(dir.join("credentials"), "[default]\n").unwrap();
        assert_eq!(path(), dir.join("credentials"));
        // Both: the official name wins.
        std::fs::write(dir.join("credentials.ini"), "[default]\n").unwrap();
        assert_eq!(path(), dir.join("credentials.ini"));
        std::fs::remove_dir_all(&home).unwrap();
    }
}
