//! Support for the credentials tests (`credentials_*.rs`): a serialized and restored process
//! environment with a temporary HOME, a minimal HTTP/1.1 server standing in for STS, the ECS
//! metadata service and credentials URIs, ISO-8601 formatting, and an independent V1 signer.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha1::Sha1;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------------

/// Every test of a file that changes the environment holds this lock for its whole run. A tokio
/// mutex: it is held across awaits, and a failed test does not poison it.
static ENV_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The variables a test may change; all of them are saved and restored.
const VARS: &[&str] = &[
    "HOME",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABA_CLOUD_ROLE_SESSION_NAME",
    "ALIBABA_CLOUD_STS_REGION",
    "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ALIBABA_CLOUD_ECS_METADATA",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
    "ALIBABA_CLOUD_IMDSV1_DISABLED",
    "ALIBABA_CLOUD_CREDENTIALS_URI",
    "ALIBABA_CLOUD_REGION_ID",
];

/// A clean environment for one test: every `ALIBABA_CLOUD_*` variable unset, HOME a fresh
/// temporary directory, and `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` so that nothing ever
/// probes the real metadata address (tests of the ECS source point it at a local server and
/// remove that variable). Everything is restored on drop.
pub struct TestEnv {
    saved: Vec<(&'static str, Option<OsString>)>,
    home: tempfile::TempDir,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        let lock = ENV_LOCK.lock().await;
        let saved = VARS.iter().map(|&name| (name, std::env::var_os(name))).collect();
        let home = tempfile::tempdir().expect("temp dir");
        let env = TestEnv { saved, home, _lock: lock };
        for name in VARS {
            env.remove(name);
        }
        env.set("HOME", env.home().to_str().unwrap());
        env.set("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
        env
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn set(&self, name: &str, value: &str) {
        assert!(VARS.contains(&name), "add {name} to VARS so that it is restored");
        // SAFETY: every test of this binary holds ENV_LOCK while it changes or reads the
        // environment, so no other thread of the test touches it concurrently.
        unsafe { std::env::set_var(name, value) };
    }

    pub fn remove(&self, name: &str) {
        // SAFETY: as in `set`.
        unsafe { std::env::remove_var(name) };
    }

    /// Writes `contents` to `relative` under HOME, creating directories, and returns the path.
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.home().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes an executable `/bin/sh` script `bin/<name>` under HOME and returns its path.
    #[cfg(unix)]
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.write(&format!("bin/{name}"), &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for (name, value) in &self.saved {
            // SAFETY: the lock is still held (fields drop after this body).
            unsafe {
                match value {
                    Some(v) => std::env::set_var(name, v),
                    None => std::env::remove_var(name),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 server
// ---------------------------------------------------------------------------------------------

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string (without `?`).
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn query(&self) -> Vec<(String, String)> {
        decode_pairs(&self.raw_query)
    }

    pub fn form(&self) -> Vec<(String, String)> {
        decode_pairs(std::str::from_utf8(&self.body).unwrap())
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn form_param(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The query and form parameters together (what a V1 signature covers).
    pub fn all_params(&self) -> Vec<(String, String)> {
        let mut all = self.query();
        all.extend(self.form());
        all
    }
}

fn decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |x: &str| percent_decode_str(x).decode_utf8().unwrap().into_owned();
            (dec(k), dec(v))
        })
        .collect()
}

/// An answer of the fake server.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, body: body.into(), delay: Duration::ZERO }
    }

    pub fn ok(body: impl Into<String>) -> Reply {
        Reply::new(200, body)
    }

    /// Waits before answering (to make concurrent callers overlap).
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

/// A local HTTP/1.1 server on 127.0.0.1: one request per connection (`connection: close`), each
/// answered by the handler with its 1-based number; every request is recorded.
pub struct FakeServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl FakeServer {
    pub async fn start(handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let recorded = recorded.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else { return };
                    let n = {
                        let mut all = recorded.lock().unwrap();
                        all.push(req.clone());
                        all.len()
                    };
                    let reply = handler(n, &req);
                    if !reply.delay.is_zero() {
                        tokio::time::sleep(reply.delay).await;
                    }
                    let head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(reply.body.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        FakeServer { url, requests, task }
    }

    /// A server that answers every request with the same reply.
    pub async fn always(reply: Reply) -> FakeServer {
        FakeServer::start(move |_, _| reply.clone()).await
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(head_len) = req.parse(&buf).ok()? {
            let method = req.method?.to_owned();
            let target = req.path?.to_owned();
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_len + len {
                let n = sock.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let (path, raw_query) = match target.split_once('?') {
                Some((p, q)) => (p.to_owned(), q.to_owned()),
                None => (target, String::new()),
            };
            let body = buf[head_len..head_len + len].to_vec();
            return Some(Recorded { method, path, raw_query, headers, body });
        }
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// `YYYY-MM-DDTHH:MM:SSZ` for `t` (UTC).
pub fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// An ISO-8601 time `secs` from now.
pub fn in_secs(secs: u64) -> String {
    iso8601(SystemTime::now() + Duration::from_secs(secs))
}

/// The JSON of a successful STS `AssumeRole` / `AssumeRoleWithOIDC`.
pub fn sts_ok(id: &str, secret: &str, token: &str, expires_in_secs: u64) -> String {
    sts_json(id, secret, token, &in_secs(expires_in_secs))
}

/// The same with an explicit `Expiration`.
pub fn sts_json(id: &str, secret: &str, token: &str, expiration: &str) -> String {
    format!(
        r#"{{"RequestId":"STS-REQ","AssumedRoleUser":{{"Arn":"acs:ram::1:role/r/s","AssumedRoleId":"3:s"}},"Credentials":{{"AccessKeyId":"{id}","AccessKeySecret":"{secret}","SecurityToken":"{token}","Expiration":"{expiration}"}}}}"#
    )
}

/// The JSON of the ECS metadata service and of credentials URIs.
pub fn metadata_ok(id: &str, secret: &str, token: &str, expires_in_secs: u64) -> String {
    metadata_json(id, secret, token, &in_secs(expires_in_secs))
}

/// The same with an explicit `Expiration`.
pub fn metadata_json(id: &str, secret: &str, token: &str, expiration: &str) -> String {
    format!(
        r#"{{"AccessKeyId":"{id}","AccessKeySecret":"{secret}","Expiration":"{expiration}","SecurityToken":"{token}","LastUpdated":"{}","Code":"Success"}}"#,
        in_secs(0)
    )
}

/// An ISO-8601 time `secs` ago.
pub fn secs_ago(secs: u64) -> String {
    iso8601(SystemTime::now() - Duration::from_secs(secs))
}

/// A lifetime, in seconds, for credentials that need no refresh when they arrive (the providers
/// refresh 600 s ahead of expiry) and are due for one after [`until_refresh_due`].
pub const REFRESH_SOON: u64 = 602;

/// A lifetime, in seconds, for credentials still usable when they arrive (the providers never
/// sign with less than 180 s left) and no longer usable after [`until_refresh_due`].
pub const UNUSABLE_SOON: u64 = 182;

/// Waits until credentials of [`REFRESH_SOON`] are due for a refresh and credentials of
/// [`UNUSABLE_SOON`] are no longer usable (expirations have whole seconds: up to 1 s is lost
/// to the rounding).
pub async fn until_refresh_due() {
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

// ---------------------------------------------------------------------------------------------
// An independent V1 (HMAC-SHA1) signer
// ---------------------------------------------------------------------------------------------

const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// The V1 signature of `params` (every parameter but `Signature`) for `method`, keyed with
/// `secret + "&"`.
pub fn v1_signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical =
        sorted.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    let string_to_sign = format!("{method}&{}&{}", enc("/"), enc(&canonical));
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks that `req` is an `AssumeRole` signed with `secret`, and returns its parameters.
pub fn assert_signed_assume_role(req: &Recorded, access_key_id: &str, secret: &str) -> Vec<(String, String)> {
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/");
    assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
    let params = req.all_params();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(get("Action"), Some("AssumeRole"));
    assert_eq!(get("Version"), Some("2015-04-01"));
    assert_eq!(get("Format"), Some("JSON"));
    assert_eq!(get("SignatureMethod"), Some("HMAC-SHA1"));
    assert_eq!(get("SignatureVersion"), Some("1.0"));
    assert_eq!(get("AccessKeyId"), Some(access_key_id));
    assert!(get("SignatureNonce").is_some_and(|n| n.len() >= 16));
    let ts = get("Timestamp").unwrap();
    assert!(ts.len() == 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
    // The signature travels in the query; the role parameters in the body.
    assert!(req.query_param("Signature").is_some());
    assert!(req.form_param("RoleArn").is_some() && req.query_param("RoleArn").is_none());
    let expected = v1_signature("POST", &params, secret);
    assert_eq!(get("Signature"), Some(expected.as_str()), "signature mismatch for {params:?}");
    params
}

/// The value of `name` in a parameter list.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn v1_signer_matches_the_published_example() {
    // The documented DescribeRegions example of the RPC signature.
    let params: Vec<(String, String)> = [
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Format", "XML"),
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("Version", "2014-05-26"),
        ("SignatureVersion", "1.0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(v1_signature("GET", &params, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    assert_eq!(iso8601(UNIX_EPOCH + Duration::from_secs(1_795_624_433)), "2026-11-25T16:33:53Z");
}
