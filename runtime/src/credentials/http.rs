//! The small HTTP client the credentials providers share: STS, ECS instance metadata and
//! credentials URIs. Bodies are bounded, URLs (which may carry a signature or a security token in
//! their query) never appear in errors beyond scheme, host and path.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};

use super::CredentialsError;

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
    client: OnceLock<Result<reqwest::Client, CredentialsError>>,
}

/// A request to send.
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: reqwest::Url,
    /// Headers; the `bool` marks a sensitive value (kept out of the transport's debug output).
    pub headers: Vec<(&'static str, String, bool)>,
    /// An `application/x-www-form-urlencoded` body.
    pub form: Option<String>,
}

/// An answer, whatever its status.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
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
        Self { connect_timeout, read_timeout, direct, client: OnceLock::new() }
    }

    fn client(&self) -> Result<&reqwest::Client, CredentialsError> {
        self.client
            .get_or_init(|| build(self.connect_timeout, self.read_timeout, self.direct))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Sends `request` and reads the (bounded) body.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
        let client = self.client().map_err(|error| SendError { unreachable: false, error })?;
        let shown = display_url(&request.url);
        let needs_length = request.method == Method::POST || request.method == Method::PUT;
        let mut req = reqwest::Request::new(request.method, request.url);
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
            *req.body_mut() = Some(reqwest::Body::from(form));
        } else if needs_length {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        let fail = |e: reqwest::Error| {
            let unreachable = e.is_connect() || e.is_timeout();
            let e = e.without_url();
            SendError {
                unreachable,
                error: CredentialsError::with_source(format!("request to {shown} failed: {}", chain(&e)), e),
            }
        };
        let mut response = client.execute(req).await.map_err(fail)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(SendError {
                    unreachable: false,
                    error: CredentialsError::new(format!(
                        "the answer of {shown} is larger than {MAX_BODY} bytes (HTTP {status})"
                    )),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, body })
    }
}

/// `scheme://host[:port]/path`, without the query.
pub(crate) fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
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

fn build(
    connect_timeout: Duration,
    read_timeout: Duration,
    direct: bool,
) -> Result<reqwest::Client, CredentialsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CredentialsError::new(format!("could not set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .http1_only()
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .timeout(connect_timeout + read_timeout * 2)
        .redirect(reqwest::redirect::Policy::none());
    if direct {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| CredentialsError::new(format!("could not build the HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_query_or_userinfo() {
        let url = reqwest::Url::parse("https://u:p@sts.aliyuncs.com/?Signature=abc&SecurityToken=t").unwrap();
        assert_eq!(display_url(&url), "https://sts.aliyuncs.com/");
        let url = reqwest::Url::parse("http://100.100.100.200/latest/api/token").unwrap();
        assert_eq!(display_url(&url), "http://100.100.100.200/latest/api/token");
    }

    #[test]
    fn snippets_are_short_and_clean() {
        let r = HttpResponse { status: 500, body: b"line1\nline2\r\x00".to_vec() };
        assert_eq!(r.snippet(100), "line1 line2");
        let r = HttpResponse { status: 500, body: "x".repeat(300).into_bytes() };
        assert_eq!(r.snippet(10), format!("{}...", "x".repeat(10)));
    }

    #[tokio::test]
    async fn connection_refused_is_unreachable_and_hides_the_query() {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let client = HttpClient::new(Duration::from_secs(1), Duration::from_secs(1), true);
        let url = reqwest::Url::parse(&format!("http://{addr}/x?SecurityToken=secret-token")).unwrap();
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
