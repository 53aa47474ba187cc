//! The HTTP/1.1 transport: hyper-util's pooled client over our own connector (TCP, an optional
//! HTTP proxy with a `CONNECT` tunnel for HTTPS, rustls with the ring provider and the webpki
//! roots), with the connect timeout around the whole connection set-up and the read timeout
//! around every wait for the answer.
//!
//! Why not reqwest: its layers (URL re-parsing, redirect and retry bookkeeping, header copies)
//! cost more per call than our signing does (BENCHMARKS.md), and this client needs none of them:
//! it never follows redirects, retries on its own, and speaks HTTP/1.1 only.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::url::{HttpUrl, unbracketed};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body as _, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// A boxed error from the transport's layers.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// The largest answer head a proxy may send to a `CONNECT`.
const MAX_PROXY_HEAD: usize = 8 * 1024;

/// One pooled HTTP/1.1 client with its timeouts and proxy.
#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<Connector, Full<Bytes>>,
    read_timeout: Duration,
    /// `Proxy-Authorization` for plain-HTTP requests sent through the proxy.
    proxy_auth: Option<HeaderValue>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport").field("read_timeout", &self.read_timeout).finish_non_exhaustive()
    }
}

/// Why an exchange failed.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Nothing was sent: connecting (TCP, proxy, TLS) failed or timed out.
    pub connect: bool,
    /// A timeout (connect or read) ended it.
    pub timeout: bool,
    pub source: BoxError,
}

impl Failure {
    fn timeout(connect: bool, what: &str, after: Duration) -> Failure {
        let source = io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out after {after:?}"));
        Failure { connect, timeout: true, source: Box::new(source) }
    }
}

impl Transport {
    /// A transport with these timeouts, through `proxy` (`http://` or `https://`, user info as
    /// basic authentication) when given.
    pub(crate) fn new(
        connect_timeout: Duration,
        read_timeout: Duration,
        proxy: Option<&HttpUrl>,
    ) -> Result<Transport, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("could not set up TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let proxy = proxy.map(ProxyTarget::new).transpose()?.map(Arc::new);
        let proxy_auth = proxy.as_ref().and_then(|p| p.auth.clone());
        let connector =
            Connector { tls: tokio_rustls::TlsConnector::from(Arc::new(tls)), proxy, connect_timeout };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Transport { client, read_timeout, proxy_auth })
    }

    /// This transport, the same pool and connections, with another read timeout.
    pub(crate) fn with_read_timeout(&self, read_timeout: Duration) -> Transport {
        Transport { read_timeout, ..self.clone() }
    }

    #[cfg(test)]
    pub(crate) fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// Sends `request` and waits (at most the read timeout) for the answer's head.
    pub(crate) async fn send(
        &self,
        mut request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, Failure> {
        if let Some(auth) = &self.proxy_auth
            && request.uri().scheme_str() == Some("http")
        {
            request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, auth.clone());
        }
        match tokio::time::timeout(self.read_timeout, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                let connect = e.is_connect();
                let timeout = chain_has_timeout(&e);
                Err(Failure { connect, timeout, source: Box::new(e) })
            }
            Err(_) => Err(Failure::timeout(false, "waiting for the answer", self.read_timeout)),
        }
    }

    /// Reads the body, never holding more than `limit` bytes. Returns the bytes and whether the
    /// body was cut. For an error status past the limit only a short prefix is kept (for the
    /// message).
    pub(crate) async fn read_body(
        &self,
        body: &mut Incoming,
        limit: usize,
        success: bool,
    ) -> Result<(Bytes, bool), Failure> {
        const ERROR_PREFIX: usize = 1024;
        // The `content-length` the answer declared, if any.
        let declared = body.size_hint().exact().map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut cap = limit;
        if declared.is_some_and(|n| n > limit) {
            if success {
                return Ok((Bytes::new(), true));
            }
            cap = limit.min(ERROR_PREFIX);
        }
        let mut truncated = declared.is_some_and(|n| n > limit);
        // Most answers arrive in one chunk: keep it as it is, without a copy.
        let Some(first) = self.next_chunk(body).await? else { return Ok((Bytes::new(), truncated)) };
        if first.len() > cap {
            return Ok((first.slice(..cap), true));
        }
        let Some(second) = self.next_chunk(body).await? else { return Ok((first, truncated)) };
        let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(cap).min(64 * 1024));
        buf.extend_from_slice(&first);
        let mut next = Some(second);
        while let Some(chunk) = next {
            let room = cap - buf.len();
            if chunk.len() > room {
                buf.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            buf.extend_from_slice(&chunk);
            next = self.next_chunk(body).await?;
        }
        Ok((Bytes::from(buf), truncated))
    }

    /// The next piece of an answer's body (`None` at its end), waiting at most the read timeout.
    async fn next_chunk(&self, body: &mut Incoming) -> Result<Option<Bytes>, Failure> {
        loop {
            let frame = match tokio::time::timeout(self.read_timeout, body.frame()).await {
                Err(_) => return Err(Failure::timeout(false, "reading the answer", self.read_timeout)),
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => {
                    return Err(Failure { connect: false, timeout: false, source: Box::new(e) });
                }
                Ok(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing this client reads.
            if let Ok(data) = frame.into_data() {
                return Ok(Some(data));
            }
        }
    }
}

/// Whether an I/O timeout is somewhere in the error's chain.
fn chain_has_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    chain_any(err, |e| e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::TimedOut))
}

/// Whether `err` or any error in its chain (I/O payloads included) satisfies `pred`.
pub(crate) fn chain_any(
    err: &(dyn std::error::Error + 'static),
    pred: impl Fn(&(dyn std::error::Error + 'static)) -> bool,
) -> bool {
    let mut cur = Some(err);
    let mut depth = 0;
    while let Some(e) = cur {
        if pred(e) {
            return true;
        }
        // An io::Error's `source()` skips its payload; look at the payload too.
        if let Some(io) = e.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && pred(inner)
        {
            return true;
        }
        cur = e.source();
        depth += 1;
        if depth > 32 {
            break;
        }
    }
    false
}

/// The proxy's address, whether it speaks TLS, and its credentials.
#[derive(Debug)]
struct ProxyTarget {
    host: String,
    port: u16,
    tls: bool,
    auth: Option<HeaderValue>,
}

impl ProxyTarget {
    fn new(url: &HttpUrl) -> Result<ProxyTarget, String> {
        let unusable = || format!("the proxy {} is not usable", url.display());
        let tls = url.is_https();
        let host = unbracketed(url.host()).to_owned();
        let port = url.port_or_default();
        let auth = if let Some((user, password)) = url.credentials() {
            let pair = format!("{user}:{password}");
            let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pair);
            let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| unusable())?;
            value.set_sensitive(true);
            Some(value)
        } else {
            None
        };
        Ok(ProxyTarget { host, port, tls, auth })
    }
}

/// Opens connections for the pool: TCP, then the proxy's TLS and tunnel, then TLS to the
/// server, all within the connect timeout.
#[derive(Clone)]
struct Connector {
    tls: tokio_rustls::TlsConnector,
    proxy: Option<Arc<ProxyTarget>>,
    connect_timeout: Duration,
}

/// What a connection is read and written through.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A connection the pool holds.
pub(crate) struct Conn {
    io: TokioIo<Box<dyn Io>>,
    /// A plain-HTTP request through a proxy: requests carry the absolute URI.
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let limit = this.connect_timeout;
            match tokio::time::timeout(limit, this.connect(dst)).await {
                Ok(result) => result,
                Err(_) => Err(Box::new(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting timed out after {limit:?}"),
                )) as BoxError),
            }
        })
    }
}

impl Connector {
    async fn connect(self, dst: Uri) -> Result<Conn, BoxError> {
        let https = match dst.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(format!("unsupported URI scheme in {dst}").into()),
        };
        let host = dst.host().ok_or("the URI has no host")?;
        let host = unbracketed(host);
        let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
        let Some(proxy) = &self.proxy else {
            let tcp = tcp(host, port).await?;
            let io: Box<dyn Io> = if https { Box::new(self.tls(host, tcp).await?) } else { Box::new(tcp) };
            return Ok(Conn { io: TokioIo::new(io), proxied: false });
        };
        let tcp = tcp(&proxy.host, proxy.port).await?;
        let to_proxy: Box<dyn Io> =
            if proxy.tls { Box::new(self.tls(&proxy.host, tcp).await?) } else { Box::new(tcp) };
        if !https {
            return Ok(Conn { io: TokioIo::new(to_proxy), proxied: true });
        }
        let tunnel = tunnel(to_proxy, host, port, proxy.auth.as_ref()).await?;
        let io: Box<dyn Io> = Box::new(self.tls(host, tunnel).await?);
        Ok(Conn { io: TokioIo::new(io), proxied: false })
    }

    async fn tls<S: Io + 'static>(
        &self,
        host: &str,
        stream: S,
    ) -> Result<tokio_rustls::client::TlsStream<S>, BoxError> {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| format!("{host:?} is not a valid TLS server name"))?;
        Ok(self.tls.connect(name, stream).await?)
    }
}

async fn tcp(host: &str, port: u16) -> Result<tokio::net::TcpStream, BoxError> {
    let stream = tokio::net::TcpStream::connect((host, port)).await?;
    // Requests go out in one write; waiting to coalesce them would only add latency.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Asks the proxy for a tunnel to `host:port` and reads its answer's head.
async fn tunnel(
    mut io: Box<dyn Io>,
    host: &str,
    port: u16,
    auth: Option<&HeaderValue>,
) -> Result<Box<dyn Io>, BoxError> {
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(auth) = auth {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(auth.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    io.write_all(&head).await?;
    io.flush().await?;
    let mut answer = Vec::with_capacity(256);
    let mut buf = [0u8; 512];
    loop {
        let n = io.read(&mut buf).await?;
        if n == 0 {
            return Err("the proxy closed the connection before answering the CONNECT".into());
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if answer.len() > MAX_PROXY_HEAD {
            return Err("the proxy's answer to the CONNECT is too long".into());
        }
    }
    let status_line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status_line.starts_with("HTTP/1.") && status == "200" {
        // Bytes after the head would belong to the TLS handshake, which the client starts:
        // a proxy sends none.
        Ok(io)
    } else {
        Err(format!("the proxy refused the tunnel: {}", status_line.trim()).into())
    }
}
