//! Credentials from environment variables, and the environment lookup every provider uses.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};

pub(crate) const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub(crate) const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub(crate) const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// The variables the providers read, looked up through a function so that unit tests can use a
/// map instead of the process environment.
#[derive(Clone)]
pub(crate) struct Env(Arc<Lookup>);

/// How an [`Env`] looks a variable up.
type Lookup = dyn Fn(&str) -> Option<OsString> + Send + Sync;

impl Env {
    /// The process environment, read at each lookup.
    pub(crate) fn process() -> Self {
        Env(Arc::new(|name| std::env::var_os(name)))
    }

    /// An environment answered by `lookup`.
    #[cfg(test)]
    pub(crate) fn from_fn(lookup: impl Fn(&str) -> Option<OsString> + Send + Sync + 'static) -> Self {
        Env(Arc::new(lookup))
    }

    /// A fixed environment, for tests.
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let map: std::collections::HashMap<String, OsString> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(*v))).collect();
        Env::from_fn(move |name| map.get(name).cloned())
    }

    /// The raw value.
    pub(crate) fn os(&self, name: &str) -> Option<OsString> {
        (self.0)(name)
    }

    /// The value when it is set, non-empty and UTF-8.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.os(name).and_then(|v| v.into_string().ok()).filter(|v| !v.trim().is_empty())
    }

    /// Whether the variable is `true` (in any case), as the official SDKs test their switches.
    pub(crate) fn is_true(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The home directory: `HOME`, else (on Windows) `USERPROFILE`.
    pub(crate) fn home(&self) -> Option<PathBuf> {
        self.os("HOME")
            .filter(|v| !v.is_empty())
            .or_else(|| if cfg!(windows) { self.os("USERPROFILE").filter(|v| !v.is_empty()) } else { None })
            .map(PathBuf::from)
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Env")
    }
}

/// Reads `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and, for temporary
/// credentials, `ALIBABA_CLOUD_SECURITY_TOKEN`, each time credentials are asked for. Empty values
/// count as unset.
#[derive(Clone, Debug, Default)]
pub struct EnvironmentProvider {
    _private: (),
}

impl EnvironmentProvider {
    /// A provider reading the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads credentials through `lookup` (the process environment in production).
    pub(crate) fn load_with(
        lookup: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Credentials, CredentialsError> {
        let get = |name: &'static str| -> Result<Option<String>, CredentialsError> {
            match lookup(name) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => v
                    .into_string()
                    .map(Some)
                    .map_err(|_| CredentialsError::new(format!("{name} is not valid UTF-8"))),
            }
        };
        let id = get(ACCESS_KEY_ID)?;
        let secret = get(ACCESS_KEY_SECRET)?;
        let token = get(SECURITY_TOKEN)?;
        match (id, secret) {
            (Some(id), Some(secret)) => {
                let creds = Credentials::new(id, secret);
                Ok(match token {
                    Some(token) => creds.with_security_token(token),
                    None => creds,
                })
            }
            (id, secret) => {
                let missing: Vec<&str> =
                    [(id.is_none(), ACCESS_KEY_ID), (secret.is_none(), ACCESS_KEY_SECRET)]
                        .into_iter()
                        .filter_map(|(missing, name)| missing.then_some(name))
                        .collect();
                Err(CredentialsError::new(format!(
                    "no credentials in the environment: {} {} not set or empty (looked for \
                     {ACCESS_KEY_ID}, {ACCESS_KEY_SECRET} and optionally {SECURITY_TOKEN}); set \
                     them or give credentials with ConfigBuilder::credentials",
                    missing.join(" and "),
                    if missing.len() == 1 { "is" } else { "are" },
                )))
            }
        }
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async { Self::load_with(|name| std::env::var_os(name)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(*v))).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_key_pair_and_token() {
        let c = EnvironmentProvider::load_with(env(&[(ACCESS_KEY_ID, "id"), (ACCESS_KEY_SECRET, "secret")]))
            .unwrap();
        assert_eq!((c.access_key_id(), c.access_key_secret()), ("id", "secret"));
        assert_eq!(c.security_token(), None);

        let c = EnvironmentProvider::load_with(env(&[
            (ACCESS_KEY_ID, "id"),
            (ACCESS_KEY_SECRET, "secret"),
            (SECURITY_TOKEN, "tok"),
        ]))
        .unwrap();
        assert_eq!(c.security_token(), Some("tok"));
    }

    #[test]
    fn empty_values_count_as_missing() {
        let c = EnvironmentProvider::load_with(env(&[
            (ACCESS_KEY_ID, "id"),
            (ACCESS_KEY_SECRET, "secret"),
            (SECURITY_TOKEN, ""),
        ]))
        .unwrap();
        assert_eq!(c.security_token(), None);

        let err = EnvironmentProvider::load_with(env(&[(ACCESS_KEY_ID, ""), (ACCESS_KEY_SECRET, "secret")]))
            .unwrap_err();
        assert!(
            err.message()
                .starts_with("no credentials in the environment: ALIBABA_CLOUD_ACCESS_KEY_ID is not set"),
            "{err}"
        );
    }

    #[test]
    fn error_names_the_variables() {
        let err = EnvironmentProvider::load_with(env(&[])).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set"),
            "{msg}"
        );
        assert!(msg.contains("ALIBABA_CLOUD_SECURITY_TOKEN"), "{msg}");
        let err = EnvironmentProvider::load_with(env(&[(ACCESS_KEY_ID, "id")])).unwrap_err();
        assert!(err.message().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set"), "{err}");
        // The value of a variable that is set never appears.
        let err = EnvironmentProvider::load_with(env(&[(ACCESS_KEY_SECRET, "s3cr3t")])).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let lookup = |name: &str| (name == ACCESS_KEY_ID).then(|| OsString::from_vec(vec![0xff, 0xfe]));
        let err = EnvironmentProvider::load_with(lookup).unwrap_err();
        assert_eq!(err.message(), "ALIBABA_CLOUD_ACCESS_KEY_ID is not valid UTF-8");
    }
}
