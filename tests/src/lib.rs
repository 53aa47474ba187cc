//! Support code for the test suite: a recording HTTP/1.1 server, a client pointed at it, URL and
//! form decoding, the spec as data, and the bridge to the official-SDK signature oracle.
//!
//! # The recording server
//!
//! [`Server`] listens on `127.0.0.1` (a free port), speaks HTTP/1.1 with keep-alive, records
//! every request it receives ([`Recorded`]: method, raw target, decoded query, headers in order
//! with their original case, raw body) and answers from a script:
//!
//! 1. the queue of [`Reply`]s given to [`Server::start`] or added with [`Server::push`], in order;
//! 2. once the queue is empty, the handler set with [`Server::with_handler`] (a closure over the
//!    recorded request);
//! 3. without a handler, `200 {"RequestId":"recording-server-default"}`.
//!
//! A reply can be delayed ([`Reply::delay`]), can close the connection without answering
//! ([`Reply::close`]), can never answer ([`Reply::hang`]) or can be raw bytes ([`Reply::raw`]).
//! A request is recorded as soon as it has been read in full, before it is answered, so a
//! closed or hung exchange is recorded too.
//!
//! ```no_run
//! use onsmqtt_tests::{Reply, Server};
//!
//! # async fn demo() {
//! let server = Server::start([
//!     Reply::json(500, r#"{"Code":"InternalError","Message":"oops","RequestId":"R1"}"#),
//!     Reply::json(200, r#"{"OnlineStatus":true,"RequestId":"R2"}"#),
//! ])
//! .await;
//! let client = server.client();
//! let answer = client
//!     .query_session_by_client_id()
//!     .client_id("GID_test@@@test")
//!     .instance_id("post-cn-0pp12gl****")
//!     .send()
//!     .await
//!     .unwrap();
//! assert!(answer.online_status);
//! let seen = server.requests();
//! assert_eq!(seen.len(), 2);
//! assert_eq!(seen[0].query_param("ClientId"), Some("GID_test@@@test"));
//! # }
//! ```
//!
//! Every test using it needs a Tokio runtime (`#[tokio::test]`); the server's tasks end when the
//! [`Server`] is dropped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use alibabacloud_onsmqtt::{Client, Config, ConfigBuilder, Credentials, RetryConfig, SignatureVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// The AccessKey ID every test client signs with.
pub const ACCESS_KEY_ID: &str = "testid";
/// The AccessKey secret every test client signs with.
pub const ACCESS_KEY_SECRET: &str = "testsecret";
/// The STS token of [`Server::sts_client`].
pub const SECURITY_TOKEN: &str = "sts-token-xyz";

/// Hex SHA-256 of the empty string: `x-acs-content-sha256` of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers the HTTP transport adds on its own; the SDKs never sign them.
pub const TRANSPORT_HEADERS: &[&str] =
    &["content-length", "transfer-encoding", "connection", "accept-encoding", "te", "keep-alive"];

// ---------------------------------------------------------------------------------------------
// Recorded requests
// ---------------------------------------------------------------------------------------------

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// 0-based arrival order over the server's lifetime.
    pub index: usize,
    /// 0-based number of the TCP connection it came on (keep-alive reuses one).
    pub connection: usize,
    /// When it had been read in full.
    pub received_at: Instant,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target exactly as sent: path and query, e.g. `/?ClientId=GID_test%40%40%40test`.
    pub target: String,
    /// The path part of the target (before `?`).
    pub path: String,
    /// The raw query string (after `?`, without it); empty when there is none.
    pub raw_query: String,
    /// The query decoded into `(name, value)` pairs, in the order sent (see [`parse_urlencoded`]).
    pub query: Vec<(String, String)>,
    /// Headers in the order sent, names in their original case.
    pub headers: Vec<(String, String)>,
    /// The raw body (de-chunked if it was sent chunked).
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of a header, the name compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// All values of a header, the name compared without regard to case.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// The lowercase names of all headers, sorted.
    pub fn header_names_lower(&self) -> Vec<String> {
        let mut names: Vec<String> = self.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        names.sort();
        names
    }

    /// The first value of a query parameter (decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The query parameter names, sorted.
    pub fn query_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.query.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names
    }

    /// The body as UTF-8 text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the body is declared as `application/x-www-form-urlencoded`.
    pub fn is_form(&self) -> bool {
        self.header("content-type")
            .is_some_and(|ct| ct.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
    }

    /// The body decoded as `application/x-www-form-urlencoded`, in order; empty when the body is.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_urlencoded(&self.body_text())
    }

    /// The first value of a form parameter (decoded).
    pub fn form_param(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every parameter of the call: the query and the form body, decoded, sorted by name. The
    /// signature scheme's common parameters (V1 `Action`, `Signature`, ...) are included.
    pub fn all_params(&self) -> Vec<(String, String)> {
        let mut all = self.query.clone();
        if self.is_form() {
            all.extend(self.form());
        }
        all.sort();
        all
    }

    /// This request as one line of input of `tests/oracle/verify.py`.
    pub fn to_oracle_json(
        &self,
        version: SignatureVersion,
        access_key_id: &str,
        secret: &str,
    ) -> serde_json::Value {
        let version = match version {
            SignatureVersion::V1 => "v1",
            _ => "v3",
        };
        serde_json::json!({
            "version": version,
            "method": self.method,
            "path": self.path,
            "raw_query": self.raw_query,
            "query": self.query,
            "headers": self.headers,
            "body": self.body_text(),
            "access_key_id": access_key_id,
            "secret": secret,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

/// What the server does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// Answer with the status, headers and body.
    Respond,
    /// Close the connection without answering.
    Close,
    /// Never answer (the connection stays open until the client gives up).
    Hang,
    /// Write these bytes as they are, then close the connection.
    Raw(Vec<u8>),
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Headers to send, besides `content-length` (added unless given).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How long to wait before answering (or closing).
    pub delay: Duration,
    /// Answer, close, hang or raw bytes.
    pub kind: ReplyKind,
}

impl Reply {
    /// A status with no body and no headers.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            kind: ReplyKind::Respond,
        }
    }

    /// A JSON answer (`content-type: application/json;charset=utf-8`).
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::status(status).header("content-type", "application/json;charset=utf-8").body(body.into())
    }

    /// A JSON answer from a value.
    pub fn json_value(status: u16, body: &serde_json::Value) -> Reply {
        Reply::json(status, body.to_string())
    }

    /// An XML answer (`content-type: text/xml;charset=utf-8`).
    pub fn xml(status: u16, body: impl Into<String>) -> Reply {
        Reply::status(status).header("content-type", "text/xml;charset=utf-8").body(body.into())
    }

    /// A JSON error answer in the service's shape: `Code`, `Message`, `RequestId`, `HostId`,
    /// `Recommend`.
    pub fn error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
        Reply::json_value(
            status,
            &serde_json::json!({
                "Code": code,
                "Message": message,
                "RequestId": request_id,
                "HostId": "onsmqtt.cn-hangzhou.aliyuncs.com",
                "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
            }),
        )
    }

    /// Closes the connection after reading the request, without answering.
    pub fn close() -> Reply {
        Reply { kind: ReplyKind::Close, ..Reply::status(0) }
    }

    /// Never answers.
    pub fn hang() -> Reply {
        Reply { kind: ReplyKind::Hang, ..Reply::status(0) }
    }

    /// Writes raw bytes, then closes the connection.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply { kind: ReplyKind::Raw(bytes.into()), ..Reply::status(0) }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    fn wants_close(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"))
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = reason(self.status);
        let mut out = format!("HTTP/1.1 {} {reason}\r\n", self.status).into_bytes();
        let mut has_length = false;
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
                has_length = true;
            }
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if !has_length {
            out.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

type Handler = Box<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    script: VecDeque<Reply>,
    handler: Option<Handler>,
    connections: usize,
    tasks: Vec<AbortHandle>,
}

/// A recording HTTP/1.1 server on `127.0.0.1`; see the [crate docs](crate).
pub struct Server {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    accept: AbortHandle,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Server {
    /// Starts a server answering with `replies` in order (then the default answer).
    pub async fn start(replies: impl IntoIterator<Item = Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State { script: replies.into_iter().collect(), ..State::default() }));
        let accept_state = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let st = accept_state.clone();
                let connection = {
                    let mut s = lock(&st);
                    s.connections += 1;
                    s.connections - 1
                };
                let task = tokio::spawn(serve_connection(stream, connection, st));
                lock(&accept_state).tasks.push(task.abort_handle());
            }
        })
        .abort_handle();
        Server { addr, state, accept }
    }

    /// Starts a server answering every request with `handler` (after any [`push`](Self::push)ed
    /// replies).
    pub async fn with_handler(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Server {
        let server = Server::start([]).await;
        server.set_handler(handler);
        server
    }

    /// Starts a server answering every request with a clone of `reply`.
    pub async fn always(reply: Reply) -> Server {
        Server::with_handler(move |_| reply.clone()).await
    }

    /// Sets (or replaces) the handler used once the scripted replies are used up.
    pub fn set_handler(&self, handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        lock(&self.state).handler = Some(Box::new(handler));
    }

    /// Appends a reply to the script.
    pub fn push(&self, reply: Reply) {
        lock(&self.state).script.push_back(reply);
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.state).requests.len()
    }

    /// How many TCP connections were accepted so far.
    pub fn connection_count(&self) -> usize {
        lock(&self.state).connections
    }

    /// The one request received; panics unless exactly one was.
    pub fn single_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:#?}");
        requests.into_iter().next().unwrap()
    }

    /// A configuration pointing at this server: fixed credentials ([`ACCESS_KEY_ID`],
    /// [`ACCESS_KEY_SECRET`]) and fast retries ([`fast_retry`] with 3 attempts). Adjust and
    /// `build()`.
    pub fn config(&self) -> ConfigBuilder {
        Config::builder()
            .endpoint(self.endpoint())
            .credentials(Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET))
            .retry(fast_retry(3))
    }

    /// A client with [`config`](Self::config).
    pub fn client(&self) -> Client {
        Client::new(self.config().build().expect("test configuration"))
    }

    /// A client with [`config`](Self::config) and this signature version.
    pub fn client_with(&self, version: SignatureVersion) -> Client {
        Client::new(self.config().signature_version(version).build().expect("test configuration"))
    }

    /// A client signing with STS credentials ([`SECURITY_TOKEN`]) and this signature version.
    pub fn sts_client(&self, version: SignatureVersion) -> Client {
        Client::new(
            self.config()
                .credentials(
                    Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET).with_security_token(SECURITY_TOKEN),
                )
                .signature_version(version)
                .build()
                .expect("test configuration"),
        )
    }

    /// A client that makes every call once.
    pub fn client_without_retries(&self) -> Client {
        Client::new(self.config().retry(RetryConfig::disabled()).build().expect("test configuration"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(state) = self.state.lock() {
            for task in &state.tasks {
                task.abort();
            }
        }
    }
}

/// Retries with tiny waits (1 ms initial, 10 ms cap) so retry tests run fast.
pub fn fast_retry(max_attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking test thread must not hide the requests from the others.
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn next_reply(state: &Mutex<State>, request: &Recorded) -> Reply {
    let mut s = lock(state);
    if let Some(reply) = s.script.pop_front() {
        return reply;
    }
    match &s.handler {
        Some(handler) => handler(request),
        None => Reply::json(200, r#"{"RequestId":"recording-server-default"}"#),
    }
}

/// The largest request head or body accepted (a guard against a runaway client).
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

async fn serve_connection(mut stream: TcpStream, connection: usize, state: Arc<Mutex<State>>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some((head, consumed)) = read_head(&mut stream, &mut buf).await else { return };
        buf.drain(..consumed);
        let Some(body) = read_body(&mut stream, &mut buf, &head).await else { return };
        let (path, raw_query) = match head.target.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (head.target.clone(), String::new()),
        };
        let client_close = head
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
        let recorded = {
            let mut s = lock(&state);
            let r = Recorded {
                index: s.requests.len(),
                connection,
                received_at: Instant::now(),
                method: head.method,
                query: parse_urlencoded(&raw_query),
                target: head.target,
                path,
                raw_query,
                headers: head.headers,
                body,
            };
            s.requests.push(r.clone());
            r
        };
        let reply = next_reply(&state, &recorded);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        match &reply.kind {
            ReplyKind::Respond => {
                if stream.write_all(&reply.to_bytes()).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
                if client_close || reply.wants_close() {
                    let _ = stream.shutdown().await;
                    return;
                }
            }
            ReplyKind::Close => {
                let _ = stream.shutdown().await;
                return;
            }
            ReplyKind::Hang => {
                // Keep the socket open until the client goes away.
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            ReplyKind::Raw(bytes) => {
                let _ = stream.write_all(bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
        }
    }
}

struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

/// Reads until a complete request head is in `buf`; `None` at end of stream or on garbage.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(Head, usize)> {
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 128];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let head = Head {
                        method: req.method.unwrap_or_default().to_owned(),
                        target: req.path.unwrap_or_default().to_owned(),
                        headers: req
                            .headers
                            .iter()
                            .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect(),
                    };
                    return Some((head, n));
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) => return None,
            }
        }
        if buf.len() > MAX_REQUEST_BYTES || !read_more(stream, buf).await {
            return None;
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

async fn read_body(stream: &mut TcpStream, buf: &mut Vec<u8>, head: &Head) -> Option<Vec<u8>> {
    let header =
        |name: &str| head.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        let mut body = Vec::new();
        loop {
            // chunk-size line
            let line_end = loop {
                if let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
                    break pos;
                }
                if buf.len() > MAX_REQUEST_BYTES || !read_more(stream, buf).await {
                    return None;
                }
            };
            let line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            if size == 0 {
                // trailers until an empty line
                loop {
                    if let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
                        buf.drain(..pos + 2);
                        if pos == 0 {
                            return Some(body);
                        }
                        continue;
                    }
                    if !read_more(stream, buf).await {
                        return None;
                    }
                }
            }
            while buf.len() < size + 2 {
                if body.len() + size > MAX_REQUEST_BYTES || !read_more(stream, buf).await {
                    return None;
                }
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
        }
    }
    let len: usize = match header("content-length") {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    if len > MAX_REQUEST_BYTES {
        return None;
    }
    while buf.len() < len {
        if !read_more(stream, buf).await {
            return None;
        }
    }
    Some(buf.drain(..len).collect())
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Percent-decodes one component; `+` stays `+`. Invalid UTF-8 is replaced (lossy).
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, then
/// percent-decoding. This is how the service reads both the query and a form body, so a client
/// that sent a literal `+` would see it arrive as a space.
pub fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Splits `a=1&b=2` into decoded `(name, value)` pairs in order ([`form_decode`] on both sides);
/// a part without `=` has an empty value; empty parts are skipped.
pub fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(part), String::new()),
        })
        .collect()
}

/// RFC 3986 percent-encoding as Alibaba Cloud canonicalizes: everything but `A-Z a-z 0-9 - _ . ~`
/// is encoded, uppercase hex.
pub fn rfc3986_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// Whether `s` looks like `YYYY-MM-DDTHH:MM:SSZ`.
pub fn is_iso8601_utc_seconds(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Parses an `Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..` value
/// into `(credential, signed headers, signature)`.
pub fn parse_v3_authorization(value: &str) -> Option<(String, Vec<String>, String)> {
    let rest = value.strip_prefix("ACS3-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.split_once('=')?;
        match k {
            "Credential" => credential = Some(v.to_owned()),
            "SignedHeaders" => signed = Some(v.split(';').map(str::to_owned).collect()),
            "Signature" => signature = Some(v.to_owned()),
            _ => return None,
        }
    }
    Some((credential?, signed?, signature?))
}

// ---------------------------------------------------------------------------------------------
// The spec, as data
// ---------------------------------------------------------------------------------------------

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The whole of `spec/onsmqtt`, loaded with the generator's own loader.
pub fn spec() -> onsmqtt_codegen::load::Loaded {
    onsmqtt_codegen::load::load_dir(&workspace_root(), "spec/onsmqtt")
        .unwrap_or_else(|e| panic!("cannot load the spec: {e:?}"))
}

/// The operations of `spec/onsmqtt`, in file-name order.
pub fn spec_operations() -> Vec<onsmqtt_codegen::spec::Operation> {
    spec().operations.into_iter().map(|(_, op)| op).collect()
}

/// The wire values of a shared enumeration of `service.yaml`.
pub fn spec_enum_values(name: &str) -> Vec<String> {
    let loaded = spec();
    let e = loaded
        .service
        .1
        .enums
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no enumeration {name} in service.yaml"));
    e.values.iter().map(|v| v.value.clone()).collect()
}

/// One operation of the spec by action name.
pub fn spec_operation(action: &str) -> onsmqtt_codegen::spec::Operation {
    spec_operations()
        .into_iter()
        .find(|op| op.name == action)
        .unwrap_or_else(|| panic!("no operation {action} in the spec"))
}

// ---------------------------------------------------------------------------------------------
// The official-SDK oracle
// ---------------------------------------------------------------------------------------------

/// The Python of the oracle venv, `target/oracle-venv/bin/python`. Panics, telling how to create
/// it, when it is missing: the oracle tests never skip silently.
pub fn oracle_python() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { workspace_root().join(p) })
        .unwrap_or_else(|| workspace_root().join("target"));
    let candidates =
        [target.join("oracle-venv/bin/python"), workspace_root().join("target/oracle-venv/bin/python")];
    for python in &candidates {
        if python.exists() {
            return python.clone();
        }
    }
    panic!(
        "the signature oracle is not installed: {} does not exist.\n\
         Run `cargo xtask oracle` once (it creates target/oracle-venv with the official Alibaba \
         Cloud Python SDK pinned), then run the tests again.",
        candidates[0].display()
    );
}

/// One verdict of `tests/oracle/verify.py`.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct OracleVerdict {
    /// Whether the signature (and the payload hash, for V3) matched.
    pub ok: bool,
    /// What the official SDK's signer computes (V3: the whole `Authorization` value; V1: the
    /// `Signature` parameter).
    pub expected: Option<String>,
    /// What the request carried.
    pub got: Option<String>,
    /// Why it did not match, when it did not.
    #[serde(default)]
    pub error: Option<String>,
}

/// Sends every request through `tests/oracle/verify.py` in one Python process and returns one
/// verdict per request, in order.
pub fn oracle_verify(requests: &[serde_json::Value]) -> Vec<OracleVerdict> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let python = oracle_python();
    let script = workspace_root().join("tests/oracle/verify.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let mut input = String::new();
    for r in requests {
        input.push_str(&r.to_string());
        input.push('\n');
    }
    // Write on a thread so a chatty child cannot deadlock us.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("wait for the oracle");
    writer.join().expect("writer thread").expect("write to the oracle");
    assert!(
        output.status.success(),
        "the oracle failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let verdicts: Vec<OracleVerdict> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad oracle line {l:?}: {e}")))
        .collect();
    assert_eq!(verdicts.len(), requests.len(), "one verdict per request");
    verdicts
}

// The README's examples are compiled as doc tests of `tests/user-app` (they need the client's
// `test-util` feature, as a user's tests would).
