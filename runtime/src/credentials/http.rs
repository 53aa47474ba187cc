//! The small HTTP client the credentials providers share: STS, ECS instance metadata and
//! credentials URIs. Bodies are bounded, URLs (which may carry a signature or a security token in
//! their query) never appear in errors beyond scheme, host and path.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use http_body_util::Full;

use super::CredentialsError;
use crate::proxy::{self, Proxy};
use crate::transport::{self, Transport};
use crate::url::HttpUrl;

/// The `User-Agent` of credentials requests.
pub(crate) const USER_AGENT: &str =
    concat!("alibabacloud-runtime-rust/", env!("CARGO_PKG_VERSION"), " credentials");

/// The largest body accepted from a credentials endpoint.
const MAX_BODY: usize = 64 * 1024;

/// A lazily built HTTP client with its own timeouts.
pub(crate) struct HttpClient {
    connect_timeout: Duration,
    read_timeout: Duration,
    /// Bypass proxies from the environment (for the link-local metadata service).
    direct: bool,
    /// One transport per proxy in use (a provider talks to one or two hosts).
    transports: Mutex<Vec<(Option<HttpUrl>, Transport)>>,
}

/// A request to send.
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: HttpUrl,
    /// Headers; the `bool` marks a sensitive value (kept out of the transport's debug output).
    pub headers: Vec<(&'static str, String, bool)>,
    /// An `application/x-www-form-urlencoded` body.
    pub form: Option<String>,
}

/// An answer, whatever its status.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub body: Bytes,
}

impl HttpResponse {
    /// The body as text, for messages: at most `max` characters, control characters replaced.
    pub(crate) fn snippet(&self, max: usize) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut out: String = text.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }).collect();
        if text.chars().count() > max {
            out.push_str("...");
        }
        out.trim().to_owned()
    }
}

/// A request that got no answer.
#[derive(Debug)]
pub(crate) struct SendError {
    /// Nothing answered: connecting failed or timed out, or the answer never came.
    pub unreachable: bool,
    pub error: CredentialsError,
}

impl HttpClient {
    pub(crate) fn new(connect_timeout: Duration, read_timeout: Duration, direct: bool) -> Self {
        Self { connect_timeout, read_timeout, direct, transports: Mutex::new(Vec::new()) }
    }

    /// The transport for requests to `url`: through the proxy the environment names for it
    /// (as for API calls, see [`Proxy::FromEnv`]) unless this client goes direct.
    fn transport(&self, url: &HttpUrl) -> Result<Transport, CredentialsError> {
        let proxy = if self.direct {
            None
        } else {
            proxy::resolve(&Proxy::FromEnv, url, |name| std::env::var(name).ok())
                .map_err(|e| CredentialsError::new(e.to_string()))?
        };
        let mut cache = self.transports.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, t)) = cache.iter().find(|(p, _)| *p == proxy) {
            return Ok(t.clone());
        }
        let t = Transport::new(self.connect_timeout, self.read_timeout, proxy.as_ref())
            .map_err(|e| CredentialsError::new(format!("could not build the HTTP client: {e}")))?;
        cache.push((proxy, t.clone()));
        Ok(t)
    }

    /// Sends `request` and reads the (bounded) body.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
        let client = self.transport(&request.url).map_err(|error| SendError { unreachable: false, error })?;
        let shown = request.url.display();
        let needs_length = request.method == Method::POST || request.method == Method::PUT;
        let mut req = http::Request::new(Full::new(Bytes::new()));
        *req.method_mut() = request.method;
        *req.uri_mut() = request.url.uri().clone();
        let headers = req.headers_mut();
        headers.insert(http::header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        for (name, value, sensitive) in request.headers {
            let mut value = HeaderValue::from_str(&value).map_err(|_| SendError {
                unreachable: false,
                error: CredentialsError::new(format!("the {name} header of {shown} cannot be sent in HTTP")),
            })?;
            value.set_sensitive(sensitive);
            headers.insert(HeaderName::from_static(name), value);
        }
        if let Some(form) = request.form {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            *req.body_mut() = Full::new(Bytes::from(form));
        } else if needs_length {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        let fail = |e: transport::Failure| {
            let unreachable = e.connect || e.timeout;
            SendError {
                unreachable,
                error: CredentialsError::with_boxed_source(
                    format!("request to {shown} failed: {}", chain(&*e.source)),
                    e.source,
                ),
            }
        };
        // The whole exchange, body included, is bounded too.
        let total = self.connect_timeout + self.read_timeout * 2;
        let exchange = async {
            let response = client.send(req).await.map_err(fail)?;
            let status = response.status().as_u16();
            let mut incoming = response.into_body();
            let (body, cut) = client.read_body(&mut incoming, MAX_BODY, true).await.map_err(fail)?;
            if cut {
                return Err(SendError {
                    unreachable: false,
                    error: CredentialsError::new(format!(
                        "the answer of {shown} is larger than {MAX_BODY} bytes (HTTP {status})"
                    )),
                });
            }
            Ok(HttpResponse { status, body })
        };
        match tokio::time::timeout(total, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SendError {
                unreachable: true,
                error: CredentialsError::new(format!("request to {shown} timed out after {total:?}")),
            }),
        }
    }
}
/// An error and its sources, joined with `: ` (repeated messages once).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_short_and_clean() {
        let r = HttpResponse { status: 500, body: Bytes::from_static(b"line1\nline2\r\x00") };
        assert_eq!(r.snippet(100), "line1 line2");
        let r = HttpResponse { status: 500, body: Bytes::from("x".repeat(300)) };
        assert_eq!(r.snippet(10), format!("{}...", "x".repeat(10)));
    }

    /// Answers every connection with `answer`, then closes it.
    async fn serve(answer: Vec<u8>) -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(&answer).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn answers_over_the_bound_are_refused_declared_or_not() {
        let big = "x".repeat(MAX_BODY + 1);
        let declared = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{big}", big.len());
        let streamed = format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{big}");
        let fits = format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}", &big[1..]);
        let client = HttpClient::new(Duration::from_secs(2), Duration::from_secs(2), true);
        for answer in [declared, streamed] {
            let addr = serve(answer.into_bytes()).await;
            let url = HttpUrl::parse(&format!("http://{addr}/creds")).unwrap();
            let err = client
                .send(HttpRequest { method: Method::GET, url, headers: vec![], form: None })
                .await
                .unwrap_err();
            assert!(!err.unreachable);
            let msg = err.error.to_string();
            assert!(msg.contains(&format!("larger than {MAX_BODY} bytes (HTTP 200)")), "{msg}");
        }
        let addr = serve(fits.into_bytes()).await;
        let url = HttpUrl::parse(&format!("http://{addr}/creds")).unwrap();
        let ok =
            client.send(HttpRequest { method: Method::GET, url, headers: vec![], form: None }).await.unwrap();
        assert_eq!((ok.status, ok.body.len()), (200, MAX_BODY));
    }

    #[tokio::test]
    async fn connection_refused_is_unreachable_and_hides_the_query() {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let client = HttpClient::new(Duration::from_secs(1), Duration::from_secs(1), true);
        let url = HttpUrl::parse(&format!("http://{addr}/x?SecurityToken=secret-token")).unwrap();
        let err = client
            .send(HttpRequest { method: Method::GET, url, headers: vec![], form: None })
            .await
            .unwrap_err();
        assert!(err.unreachable);
        let msg = err.error.to_string();
        assert!(msg.contains(&format!("request to http://{addr}/x failed")), "{msg}");
        assert!(!msg.contains("secret-token"), "{msg}");
    }
}
