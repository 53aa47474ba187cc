//! Credentials printed by a command of your own: the `External` mode of the Alibaba Cloud CLI's
//! profiles (`process_command`).
//!
//! The command line is split as a POSIX shell splits words (quotes and backslashes), but no shell
//! runs it: no variables, globs, pipes or redirections. It runs with no input and no access to
//! the caller's terminal output (its standard error is discarded), for at most
//! [`DEFAULT_TIMEOUT`] by default, and may print at most [`MAX_OUTPUT`] bytes. Nothing it prints
//! ever appears in an error or a log: it holds secrets.

use std::fmt;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::cache::CredentialsCache;
use super::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};

/// How long the command may run (as the official Python library).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The most the command may print on its standard output.
pub(crate) const MAX_OUTPUT: usize = 64 * 1024;

/// Runs `process_command` and reads the credentials it prints:
/// `{"mode": "StsToken", "access_key_id": ..., "access_key_secret": ..., "sts_token": ...,
/// "expiration": "2026-11-25T16:33:53Z"}` (`mode` `AK` or `StsToken`; `expiration` optional).
pub(crate) struct ExternalProvider {
    /// The profile, for messages.
    profile: String,
    program: String,
    args: Vec<String>,
    timeout: Duration,
    cache: CredentialsCache,
}

impl ExternalProvider {
    /// Checks the command line; the command runs at the first call.
    pub(crate) fn new(profile: &str, command: &str, timeout: Duration) -> Result<Self, CredentialsError> {
        let words = shlex::split(command).ok_or_else(|| {
            CredentialsError::new("process_command has an unterminated quote or a trailing backslash")
        })?;
        let Some((program, args)) = words.split_first() else {
            return Err(CredentialsError::new("process_command is empty"));
        };
        Ok(Self {
            profile: profile.to_owned(),
            program: program.clone(),
            args: args.to_vec(),
            timeout,
            cache: CredentialsCache::new(format!("the process_command {program:?} of profile {profile:?}")),
        })
    }

    fn what(&self) -> String {
        format!("the process_command {:?} of profile {:?}", self.program, self.profile)
    }

    /// Runs the command and returns what it printed on its standard output.
    async fn run(&self) -> Result<Vec<u8>, CredentialsError> {
        let what = self.what();
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CredentialsError::with_source(format!("could not run {what}: {e}"), e))?;
        let Some(mut stdout) = child.stdout.take() else {
            return Err(CredentialsError::new(format!("{what}: its standard output is not available")));
        };
        let limit = u64::try_from(MAX_OUTPUT).unwrap_or(u64::MAX).saturating_add(1);
        let outcome = tokio::time::timeout(self.timeout, async {
            let mut out = Vec::new();
            (&mut stdout).take(limit).read_to_end(&mut out).await?;
            if out.len() > MAX_OUTPUT {
                return Ok(None);
            }
            let status = child.wait().await?;
            Ok::<_, std::io::Error>(Some((status, out)))
        })
        .await;
        let fail = |reason: String| {
            CredentialsError::new(format!(
                "{what} {reason} (what it printed is not shown: it may hold secrets; run the command \
                 yourself to see it)"
            ))
        };
        match outcome {
            Err(_elapsed) => {
                let _ = child.kill().await;
                Err(fail(format!("did not finish within {} s and was stopped", self.timeout.as_secs_f32())))
            }
            Ok(Err(e)) => {
                let _ = child.kill().await;
                Err(CredentialsError::with_source(format!("reading the output of {what} failed: {e}"), e))
            }
            Ok(Ok(None)) => {
                let _ = child.kill().await;
                Err(fail(format!("printed more than {MAX_OUTPUT} bytes and was stopped")))
            }
            Ok(Ok(Some((status, _)))) if !status.success() => Err(fail(match status.code() {
                Some(code) => format!("failed with exit status {code}"),
                None => "was killed by a signal".to_owned(),
            })),
            Ok(Ok(Some((_, out)))) => Ok(out),
        }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let out = self.run().await?;
        parse_output(&out).map_err(|e| e.context(format_args!("the output of {}", self.what())))
    }
}

/// Reads the JSON a `process_command` prints. Messages name fields, never values (except the
/// `mode` and `expiration`, which are not secret).
pub(crate) fn parse_output(out: &[u8]) -> Result<Credentials, CredentialsError> {
    // serde_json's syntax errors give a position, never the content.
    let v: Value = serde_json::from_slice(out)
        .map_err(|e| CredentialsError::new(format!("it is not the expected JSON: {e}")))?;
    if !v.is_object() {
        return Err(CredentialsError::new("it is not a JSON object"));
    }
    let field = |key: &str| v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let need =
        |key: &str| field(key).ok_or_else(|| CredentialsError::new(format!("{key} is missing or empty")));
    let mode = field("mode");
    if let Some(mode) = mode
        && mode != "AK"
        && mode != "StsToken"
    {
        return Err(CredentialsError::new(format!(
            "mode {mode:?} is not supported (a process_command must print AK or StsToken credentials)"
        )));
    }
    let mut creds = Credentials::new(need("access_key_id")?, need("access_key_secret")?);
    match (mode, field("sts_token")) {
        (Some("StsToken"), None) => return Err(CredentialsError::new("sts_token is missing or empty")),
        (Some("AK"), _) => {}
        (_, Some(token)) => creds = creds.with_security_token(token),
        (_, None) => {}
    }
    if let Some(text) = field("expiration") {
        creds = creds.with_expiration(super::sts::parse_expiration(text, "it")?);
    }
    Ok(creds)
}

impl ProvideCredentials for ExternalProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.cache.get_or_refresh(|| self.fetch()).await })
    }
}

impl fmt::Debug for ExternalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The arguments may carry a secret: only the program is shown.
        f.debug_struct("ExternalProvider")
            .field("profile", &self.profile)
            .field("program", &self.program)
            .field("timeout", &self.timeout)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_split_without_a_shell() {
        let p = ExternalProvider::new("p", r#"/opt/get creds --name "my role" 'a b' c\ d"#, DEFAULT_TIMEOUT)
            .unwrap();
        assert_eq!(p.program, "/opt/get");
        assert_eq!(p.args, ["creds", "--name", "my role", "a b", "c d"]);
        let p = ExternalProvider::new("p", "echo $HOME; rm -rf *", DEFAULT_TIMEOUT).unwrap();
        assert_eq!(p.args, ["$HOME;", "rm", "-rf", "*"]);
        assert!(ExternalProvider::new("p", "  ", DEFAULT_TIMEOUT).unwrap_err().message().contains("empty"));
        let err = ExternalProvider::new("p", "get 'TopSecret", DEFAULT_TIMEOUT).unwrap_err();
        assert!(err.message().contains("unterminated quote") && !err.message().contains("TopSecret"));
        let p = ExternalProvider::new("p", "get --token TopSecret", DEFAULT_TIMEOUT).unwrap();
        assert!(!format!("{p:?}").contains("TopSecret"));
    }

    #[test]
    fn outputs() {
        let c = parse_output(br#"{"mode":"AK","access_key_id":"LTAIx","access_key_secret":"s"}"#).unwrap();
        assert_eq!((c.access_key_id(), c.security_token(), c.expiration()), ("LTAIx", None, None));
        let c = parse_output(
            br#"{"mode":"StsToken","access_key_id":"STS.x","access_key_secret":"s","sts_token":"t",
                 "expiration":"2026-11-25T16:33:53Z"}"#,
        )
        .unwrap();
        assert_eq!(c.security_token(), Some("t"));
        assert_eq!(c.expiration(), super::super::super::time::parse_utc("2026-11-25T16:33:53Z"));
        // Without a mode, a token makes them STS credentials.
        let c = parse_output(br#"{"access_key_id":"a","access_key_secret":"s","sts_token":"t"}"#).unwrap();
        assert_eq!(c.security_token(), Some("t"));

        let err = |out: &str| parse_output(out.as_bytes()).unwrap_err().message().to_owned();
        assert_eq!(
            err(r#"{"mode":"StsToken","access_key_id":"a","access_key_secret":"TopSecret"}"#),
            "sts_token is missing or empty"
        );
        assert_eq!(err(r#"{"access_key_id":"a"}"#), "access_key_secret is missing or empty");
        assert!(err(r#"{"mode":"RamRoleArn","access_key_id":"a"}"#).contains("mode \"RamRoleArn\""));
        assert!(err("[1]").contains("not a JSON object"));
        let m = err(r#"{"access_key_id":"a","access_key_secret":TopSecret}"#);
        assert!(m.starts_with("it is not the expected JSON") && !m.contains("TopSecret"), "{m}");
        let m = err(r#"{"access_key_id":"a","access_key_secret":"s","expiration":"tomorrow"}"#);
        assert!(m.contains("not an ISO-8601"), "{m}");
    }
}
