//! A raw-TCP HTTP/1.1 server that misbehaves on purpose, for the fault-injection, security and
//! load tests. Each request (or, for [`Act::CloseOnAccept`], each connection) takes the next act
//! of a script; the last act repeats. The server counts connections and requests and keeps what
//! it read, so a test can tell exactly how many times the client tried.
//!
//! Included with `#[path = "common/faulty.rs"] mod faulty;`; not every test file uses every part.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One HTTP answer: status, extra headers, body. `{n}` in the body becomes the 1-based number of
/// the request it answers.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self { status, headers: vec![("content-type".into(), "application/json".into())], body: body.into() }
    }

    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Self { status, headers: vec![("content-type".into(), "text/html".into())], body: body.into() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The JSON a successful `QuerySessionByClientId` returns.
    pub fn online() -> Self {
        Self::new(200, r#"{"OnlineStatus":true,"RequestId":"OK-{n}"}"#)
    }

    /// The JSON a successful `SendMessage` returns.
    pub fn sent() -> Self {
        Self::new(200, r#"{"MsgId":"M-{n}","RequestId":"OK-{n}"}"#)
    }

    fn head(&self, body_len: usize) -> String {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (n, v) in &self.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {body_len}\r\n\r\n"));
        head
    }

    fn render(&self, n: usize) -> Vec<u8> {
        let body = self.body.replace("{n}", &n.to_string());
        let mut out = self.head(body.len()).into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// What the server does with the next request (or connection).
#[derive(Clone, Debug)]
pub enum Act {
    /// Accept the connection and close it at once, reading nothing.
    CloseOnAccept,
    /// Read the request, then close without answering.
    CloseAfterRequest,
    /// Read the request, send headers announcing 1000 bytes, send 10, then close.
    ResetMidBody,
    /// Read the request and never answer; record when the client closes the connection.
    Stall,
    /// Read the request, wait, then answer.
    SlowHeaders(Duration, Answer),
    /// Read the request, send the headers, then the body in `pieces` with `gap` before each.
    SlowBody { answer: Answer, pieces: usize, gap: Duration },
    /// Read the request and answer.
    Reply(Answer),
    /// Read the request and write these bytes as they are (`{n}` replaced), keeping the
    /// connection.
    Raw(String),
    /// Like [`Act::Raw`], then close the connection.
    RawThenClose(String),
    /// Read the request, answer (without `connection: close`), then close the connection: the
    /// client's pool still holds it for a moment.
    ReplyThenClose(Answer),
    /// Read the request and stream a body of `len` bytes (`Content-Length`, or chunked without a
    /// length) until done or the client goes away.
    Stream { status: u16, len: u64, chunked: bool },
}

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The whole request as bytes, head and body.
    pub raw: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

#[derive(Default)]
pub struct Stats {
    /// Connections accepted.
    pub connections: AtomicUsize,
    /// Requests read completely (head and body).
    pub requests: AtomicUsize,
    /// Connections closed by the client while the server stalled.
    pub peer_closed: AtomicUsize,
    /// Body bytes written by [`Act::Stream`].
    pub streamed: AtomicU64,
    /// A [`Act::Stream`] ended (finished or cut by the client).
    pub stream_ended: AtomicBool,
    /// A [`Act::Stream`] was cut by the client before its end.
    pub stream_cut: AtomicBool,
    /// Script position: the next act to use.
    next: AtomicUsize,
}

pub struct Faulty {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Faulty {
    /// Starts a server following `script` (must not be empty).
    pub async fn start(script: Vec<Act>) -> Faulty {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let stats = Arc::new(Stats::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let (stats2, seen2) = (stats.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                stats2.connections.fetch_add(1, Ordering::SeqCst);
                // Closing on accept uses up an act of its own.
                let pos = stats2.next.load(Ordering::SeqCst);
                if matches!(script[pos.min(script.len() - 1)], Act::CloseOnAccept) {
                    stats2.next.fetch_add(1, Ordering::SeqCst);
                    drop(sock);
                    continue;
                }
                let (stats3, seen3, script3) = (stats2.clone(), seen2.clone(), script.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, &script3, &stats3, &seen3).await;
                });
            }
        });
        Faulty { addr, stats, seen, task }
    }

    /// `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::SeqCst)
    }

    pub fn peer_closed(&self) -> usize {
        self.stats.peer_closed.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `cond` holds, for at most `limit`; returns whether it held.
    pub async fn wait_for(&self, limit: Duration, cond: impl Fn(&Stats) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if cond(&self.stats) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A local port nothing listens on: bound, then released.
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("local addr")
}

/// Reads one request from `sock` (with `buf` holding bytes already read). `None` at a clean end
/// of the connection or on a broken request.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Seen> {
    let mut tmp = [0u8; 8192];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let method = req.method.unwrap_or_default().to_owned();
                let target = req.path.unwrap_or_default().to_owned();
                let headers: Vec<(String, String)> = req
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect();
                let len = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                while buf.len() < head_len + len {
                    let n = sock.read(&mut tmp).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let raw: Vec<u8> = buf.drain(..head_len + len).collect();
                let body = raw[head_len..].to_vec();
                return Some(Seen { method, target, headers, body, raw });
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > 1 << 20 {
                    return None;
                }
                let n = sock.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            Err(_) => return None,
        }
    }
}

async fn serve(
    mut sock: TcpStream,
    script: &[Act],
    stats: &Stats,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(&mut sock, &mut buf).await else { return Ok(()) };
        let n = stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
        seen.lock().unwrap().push(request);
        let pos = stats.next.fetch_add(1, Ordering::SeqCst);
        let act = script[pos.min(script.len() - 1)].clone();
        match act {
            // A keep-alive connection reused after a `CloseOnAccept` act: close it as well.
            Act::CloseOnAccept | Act::CloseAfterRequest => return Ok(()),
            Act::ResetMidBody => {
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n";
                sock.write_all(head.as_bytes()).await?;
                sock.write_all(b"{\"Online\":").await?;
                sock.flush().await?;
                return Ok(());
            }
            Act::Stall => {
                // Wait for the client to go away; whatever it sends is ignored.
                let mut tmp = [0u8; 1024];
                loop {
                    match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => {
                            stats.peer_closed.fetch_add(1, Ordering::SeqCst);
                            return Ok(());
                        }
                        Ok(_) => {}
                    }
                }
            }
            Act::SlowHeaders(delay, answer) => {
                tokio::time::sleep(delay).await;
                sock.write_all(&answer.render(n)).await?;
            }
            Act::SlowBody { answer, pieces, gap } => {
                let body = answer.body.replace("{n}", &n.to_string()).into_bytes();
                sock.write_all(answer.head(body.len()).as_bytes()).await?;
                sock.flush().await?;
                let pieces = pieces.max(1);
                let size = body.len().div_ceil(pieces).max(1);
                for piece in body.chunks(size) {
                    tokio::time::sleep(gap).await;
                    sock.write_all(piece).await?;
                    sock.flush().await?;
                }
            }
            Act::Reply(answer) => sock.write_all(&answer.render(n)).await?,
            Act::Raw(raw) => sock.write_all(raw.replace("{n}", &n.to_string()).as_bytes()).await?,
            Act::RawThenClose(raw) => {
                sock.write_all(raw.replace("{n}", &n.to_string()).as_bytes()).await?;
                sock.flush().await?;
                return Ok(());
            }
            Act::ReplyThenClose(answer) => {
                sock.write_all(&answer.render(n)).await?;
                sock.flush().await?;
                return Ok(());
            }
            Act::Stream { status, len, chunked } => {
                let result = stream(&mut sock, status, len, chunked, stats).await;
                stats.stream_cut.store(result.is_err(), Ordering::SeqCst);
                stats.stream_ended.store(true, Ordering::SeqCst);
                return result;
            }
        }
    }
}

async fn stream(
    sock: &mut TcpStream,
    status: u16,
    len: u64,
    chunked: bool,
    stats: &Stats,
) -> std::io::Result<()> {
    let framing =
        if chunked { "transfer-encoding: chunked".to_owned() } else { format!("content-length: {len}") };
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\n{framing}\r\n\r\n",
        reason(status)
    );
    sock.write_all(head.as_bytes()).await?;
    let piece = vec![b'x'; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(piece.len() as u64)).unwrap_or(piece.len());
        if chunked {
            sock.write_all(format!("{n:x}\r\n").as_bytes()).await?;
        }
        sock.write_all(&piece[..n]).await?;
        if chunked {
            sock.write_all(b"\r\n").await?;
        }
        stats.streamed.fetch_add(n as u64, Ordering::SeqCst);
        left -= n as u64;
    }
    if chunked {
        sock.write_all(b"0\r\n\r\n").await?;
    }
    sock.flush().await
}

/// Counts panics anywhere in the process (client tasks included, which a test would not see).
pub fn count_panics() -> &'static AtomicUsize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
    &PANICS
}

/// Percent-decodes a query string or form body into its pairs, in order (`+` is a space, as in
/// `application/x-www-form-urlencoded`).
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    let decode = |p: &str| {
        let p = p.replace('+', " ");
        percent_encoding::percent_decode_str(&p).decode_utf8().expect("UTF-8 after decoding").into_owned()
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}
