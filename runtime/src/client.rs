//! The client and its request loop: credentials, signing, sending, reading a bounded body,
//! classifying the answer, and retrying.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use tracing::Instrument as _;

use super::call::{CallOptions, Effective};
use super::config::{Config, Resolved, SignatureVersion};
use super::credentials::Credentials;
use super::error::{
    ConfigError, DecodeError, Error, ServiceError, TimeoutError, TimeoutPhase, TransportError,
};
use super::error_body;
use super::params::{Operation, Params};
use super::rate_limit::Limiters;
use super::retry::{self, Failure};
use super::service::ServiceInfo;
use super::sign::{self, RequestContext, Signed};
use super::time;
use super::transport::{self, Transport, chain_any};
use super::url::HttpUrl;
use http_body_util::Full;

/// The product-independent core of a generated client: one configuration resolved for one
/// product, the connection pool, the rate limiters and the request loop. Each generated crate
/// wraps it in its own `Client`, whose methods build the operations.
///
/// Cloning is cheap and clones share one connection pool.
#[derive(Clone)]
pub struct ClientCore {
    inner: Arc<Inner>,
    /// Overrides for the calls made through this handle (see [`CallOptions`]).
    options: CallOptions,
}

struct Inner {
    config: Config,
    service: &'static ServiceInfo,
    /// The endpoint, signature and user agent for this product, or why the configuration does
    /// not give them (reported by every call).
    resolved: Result<Resolved, ConfigError>,
    /// The transport, or why it could not be built (reported by every call).
    http: Result<Transport, ConfigError>,
    /// The proxy the transport goes through, if any.
    proxy: Option<HttpUrl>,
    /// Transports for calls that override the connect timeout, by that timeout; a few at most,
    /// each with its own pool (the connector holds the connect timeout).
    overrides: Mutex<Vec<(Duration, Transport)>>,
    /// Client-side pacing per operation (see [`RateLimit`](super::RateLimit)).
    limiters: Limiters,
    /// The `host` and `user-agent` values, converted once (cloning them costs no copy).
    host_value: Option<HeaderValue>,
    user_agent_value: Option<HeaderValue>,
}

impl ClientCore {
    /// The core of a client of `service` with this configuration.
    ///
    /// Neither building the HTTP transport nor resolving the endpoint fails in practice; if one
    /// does, every call returns [`Error::Config`] saying why.
    pub fn new(config: Config, service: &'static ServiceInfo) -> ClientCore {
        let resolved = config.resolve(service);
        let proxy = match &resolved {
            Ok(r) => super::proxy::resolve(config.proxy(), &r.endpoint.url, |name| std::env::var(name).ok()),
            Err(_) => Ok(None),
        };
        let (http, proxy) = match proxy {
            Ok(proxy) => (build_http(config.connect_timeout, config.read_timeout, proxy.as_ref()), proxy),
            Err(e) => (Err(e), None),
        };
        let (host_value, user_agent_value) = match &resolved {
            Ok(r) => (
                HeaderValue::from_str(r.endpoint.url.host_header()).ok(),
                HeaderValue::from_str(&r.user_agent).ok(),
            ),
            Err(_) => (None, None),
        };
        let limiters = Limiters::default();
        let overrides = Mutex::new(Vec::new());
        let inner = Inner {
            config,
            service,
            resolved,
            http,
            proxy,
            overrides,
            limiters,
            host_value,
            user_agent_value,
        };
        ClientCore { inner: Arc::new(inner), options: CallOptions::default() }
    }

    /// Makes the calls sent through this handle use `options` (replacing any given before); the
    /// client it was cloned from is unaffected.
    pub fn set_call_options(&mut self, options: CallOptions) {
        self.options = options;
    }

    /// The mock rules that answer this client's calls, when it was configured with some.
    #[cfg(feature = "test-util")]
    pub(crate) fn mocks(&self) -> Option<&super::mock::Mocks> {
        self.inner.config.mocks.as_ref()
    }

    /// The settings a call made now runs with.
    pub(crate) fn settings(&self) -> Effective {
        self.options.effective(&self.inner.config)
    }

    /// The transport for calls with these timeouts: the client's own; the client's pool with
    /// another read timeout; or, for another connect timeout, one made (once) for it.
    fn transport(&self, settings: &Effective) -> Result<Cow<'_, Transport>, ConfigError> {
        let main = self.inner.http.as_ref().map_err(Clone::clone)?;
        let config = &self.inner.config;
        let read = settings.read_timeout;
        if settings.connect_timeout == config.connect_timeout {
            return Ok(if read == config.read_timeout {
                Cow::Borrowed(main)
            } else {
                Cow::Owned(main.with_read_timeout(read))
            });
        }
        let key = settings.connect_timeout;
        let mut cache = self.inner.overrides.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, http)) = cache.iter().find(|(k, _)| *k == key) {
            return Ok(Cow::Owned(http.with_read_timeout(read)));
        }
        let http = build_http(key, read, self.inner.proxy.as_ref())?;
        if cache.len() >= MAX_OVERRIDE_TRANSPORTS {
            cache.remove(0);
        }
        cache.push((key, http.clone()));
        Ok(Cow::Owned(http))
    }

    /// The configuration of this client.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The product this client calls.
    pub fn service(&self) -> &'static ServiceInfo {
        self.inner.service
    }

    /// The endpoint requests go to, e.g. `https://<product>.cn-hangzhou.aliyuncs.com`; empty when
    /// the configuration gives none this product can use (every call then says why).
    pub fn endpoint(&self) -> &str {
        self.inner.resolved.as_ref().map_or("", |r| r.endpoint.display.as_str())
    }

    /// The signature scheme requests are signed with.
    pub fn signature_version(&self) -> SignatureVersion {
        match &self.inner.resolved {
            Ok(r) => r.signature_version,
            Err(_) => self.inner.config.signature_version().unwrap_or(self.inner.service.default_signature),
        }
    }

    /// The `User-Agent` every request carries.
    pub fn user_agent(&self) -> &str {
        self.inner.resolved.as_ref().map_or("", |r| r.user_agent.as_str())
    }

    /// What a generated `send()` returns: `input` encoded by `encode` (or the reason it was
    /// refused), sent, and the answer decoded into `O`, a service error into `E`. With the
    /// `test-util` feature and mock rules on the client (see [`Mocks`](crate::mock::Mocks)),
    /// the rules answer instead, once the input passes the same checks; `service_error` lets
    /// them classify an `E` for retries.
    pub fn call<I, O, E>(
        self,
        op: &'static Operation,
        input: I,
        encode: fn(I) -> Result<Params, crate::InvalidInput>,
        service_error: fn(&E) -> &ServiceError,
    ) -> super::call::Call<O, E>
    where
        I: Clone + fmt::Debug + Send + Sync + 'static,
        O: Clone + Send + 'static,
        E: Clone + Send + 'static,
    {
        #[cfg(feature = "test-util")]
        if self.mocks().is_some() {
            let checked = encode(input.clone()).map(drop);
            return super::call::Call::mocked(self, op, input, checked, service_error);
        }
        #[cfg(not(feature = "test-util"))]
        let _ = service_error;
        super::call::Call::new(self, op, encode(input))
    }

    /// Sends one operation with retries, returning the successful answer or the last error.
    pub async fn execute(
        &self,
        op: &'static Operation,
        params: Params,
    ) -> Result<Response, Error<ServiceError>> {
        let span = tracing::info_span!(
            "call",
            service = self.inner.service.code,
            action = op.action,
            attempt = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let settings = self.settings();
        let Some(deadline) = settings.deadline else {
            return self.run(op, &params, &settings, None, span.clone()).instrument(span).await;
        };
        let attempts = AtomicU32::new(0);
        let run = self.run(op, &params, &settings, Some(&attempts), span.clone());
        match tokio::time::timeout(deadline, run).instrument(span).await {
            Ok(result) => result,
            Err(_) => {
                let attempts = attempts.load(Ordering::Relaxed);
                tracing::debug!(attempts, "the call passed its deadline");
                Err(Error::Timeout(deadline_error(deadline, self.endpoint(), attempts)))
            }
        }
    }

    async fn run(
        &self,
        op: &'static Operation,
        params: &Params,
        settings: &Effective,
        attempts: Option<&AtomicU32>,
        span: tracing::Span,
    ) -> Result<Response, Error<ServiceError>> {
        let config = &self.inner.config;
        let http = self.transport(settings).map_err(Error::Config)?;
        if let Err(e) = &self.inner.resolved {
            return Err(Error::Config(e.clone()));
        }
        let deadline_at = settings.deadline.map(|d| tokio::time::Instant::now() + d);
        let max_attempts = settings.retry.max_attempts;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            if let Some(attempts) = attempts {
                attempts.store(attempt, Ordering::Relaxed);
            }
            span.record("attempt", attempt);
            self.inner.limiters.acquire(config.rate_limit, op).await;

            let creds = config.credentials.provide_credentials().await.map_err(Error::Credentials)?;
            creds.derived().valid(&creds).map_err(Error::Credentials)?;
            let request = self.prepare(op, params, &creds).map_err(Error::Config)?;
            let secrets = Secrets::of(&creds);

            let started = Instant::now();
            let failed = match self.attempt(&http, op, request, &secrets, settings, &span).await {
                Ok(response) => {
                    tracing::debug!(
                        attempt,
                        status = response.status,
                        elapsed_ms = elapsed_ms(started),
                        bytes = response.body.len(),
                        "call succeeded"
                    );
                    return Ok(response);
                }
                Err(failed) => failed,
            };
            let mut error = failed.error;
            set_attempts(&mut error, attempt);
            if failed.retry && attempt < max_attempts {
                if let Some(delay) = retry::backoff(&settings.retry, attempt, failed.retry_after) {
                    if deadline_at.is_some_and(|at| tokio::time::Instant::now() + delay >= at) {
                        tracing::debug!(attempt, error = %error, "the next attempt would pass the deadline");
                        return Err(error);
                    }
                    tracing::debug!(
                        attempt,
                        elapsed_ms = elapsed_ms(started),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %error,
                        "attempt failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    continue;
                }
                tracing::debug!(
                    attempt,
                    "the service asked to wait longer than {:?}; not retrying",
                    retry::MAX_RETRY_AFTER
                );
            }
            tracing::debug!(attempt, elapsed_ms = elapsed_ms(started), error = %error, "call failed");
            return Err(error);
        }
    }

    /// Signs one attempt (a fresh date and nonce each time) and builds the transport's request.
    pub(crate) fn prepare(
        &self,
        op: &Operation,
        params: &Params,
        creds: &Credentials,
    ) -> Result<http::Request<Full<Bytes>>, ConfigError> {
        let resolved = self.inner.resolved.as_ref().map_err(Clone::clone)?;
        let date = request_date();
        let nonce = HeaderValue::from_maybe_shared(Bytes::from(sign::new_nonce()))
            .map_err(|_| ConfigError::new("the signature nonce is not a valid header value"))?;
        let (Ok(date_str), Ok(nonce_str)) = (date.to_str(), nonce.to_str()) else {
            return Err(ConfigError::new("the request date or nonce is not a valid header value"));
        };
        let ctx = RequestContext {
            action: op.action,
            version: self.inner.service.api_version,
            method: &op.method,
            host: resolved.endpoint.url.host_header(),
            user_agent: &resolved.user_agent,
            date: date_str,
            nonce: nonce_str,
            extra_headers: &[],
        };
        let signed = match resolved.signature_version {
            SignatureVersion::V3 => sign::sign_v3_borrowed(&ctx, params, creds),
            SignatureVersion::V1 => sign::sign_v1_borrowed(&ctx, params, creds),
        };
        let mut known = [
            ("host", self.inner.host_value.as_ref()),
            ("user-agent", self.inner.user_agent_value.as_ref()),
            ("x-acs-date", Some(&date)),
            ("x-acs-signature-nonce", Some(&nonce)),
        ];
        // Only values that are there can be taken.
        known.iter_mut().for_each(|(name, value)| {
            if value.is_none() {
                *name = "";
            }
        });
        build_request(resolved, self.inner.service, op, signed, &known)
    }

    /// One exchange: send, read the bounded body, classify. Whatever of `secrets` the server
    /// echoes back is masked before anything is made of the answer.
    async fn attempt(
        &self,
        http: &Transport,
        op: &'static Operation,
        request: http::Request<Full<Bytes>>,
        secrets: &Secrets<'_>,
        settings: &Effective,
        span: &tracing::Span,
    ) -> Result<Response, Failed> {
        let config = &self.inner.config;
        let started = Instant::now();
        let response = match http.send(request).await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_failure(op, e, settings)),
        };
        let (head, mut incoming) = response.into_parts();
        let status = head.status;
        let headers = head.headers;
        tracing::debug!(
            status = status.as_u16(),
            elapsed_ms = elapsed_ms(started),
            "response headers received"
        );
        let limit = config.max_response_bytes;
        let (body, truncated) = match http.read_body(&mut incoming, limit, status.is_success()).await {
            Ok(b) => b,
            Err(e) => return Err(self.transport_failure(op, e, settings)),
        };
        let body = secrets.mask_body(body);

        if status.is_success() {
            if truncated {
                return Err(Failed {
                    retry: false,
                    retry_after: None,
                    error: Error::Decode(DecodeError::too_large(op.action, limit)),
                });
            }
            if op.failure_in_body
                && let Some(err) = error_body::failure_in_body(status.as_u16(), &headers, &body)
            {
                return Err(self.service_failure(op, secrets.mask_error(err), span));
            }
            if !span.is_disabled()
                && let Some(mut id) = request_id(&headers, &body)
            {
                secrets.mask(&mut id);
                span.record("request_id", id.as_str());
            }
            return Ok(Response { action: op.action, status: status.as_u16(), headers, body });
        }
        let err = error_body::service_error(status.as_u16(), &headers, &body, truncated, limit);
        Err(self.service_failure(op, secrets.mask_error(err), span))
    }

    fn service_failure(&self, op: &Operation, err: ServiceError, span: &tracing::Span) -> Failed {
        if let Some(id) = err.request_id() {
            span.record("request_id", id);
        }
        Failed {
            retry: retry::should_retry_service(op, &err),
            retry_after: err.retry_after,
            error: Error::Service(err),
        }
    }

    fn transport_failure(&self, op: &Operation, err: transport::Failure, settings: &Effective) -> Failed {
        let failure = classify_transport(&err);
        let endpoint = self.endpoint().to_owned();
        // The transport's errors never quote the URL (which may carry the V1 signature and the
        // security token).
        let transport::Failure { connect, timeout, source } = err;
        let error = if timeout {
            let (phase, timeout) = if connect {
                (TimeoutPhase::Connect, settings.connect_timeout)
            } else {
                (TimeoutPhase::Read, settings.read_timeout)
            };
            Error::Timeout(TimeoutError { phase, timeout, endpoint, attempts: 0, source })
        } else {
            Error::Transport(TransportError { endpoint, connect, attempts: 0, source })
        };
        Failed { retry: retry::should_retry_failure(op, failure), retry_after: None, error }
    }
}

impl fmt::Debug for ClientCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCore")
            .field("service", &self.inner.service.code)
            .field("endpoint", &self.endpoint())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The credentials a server could echo back (a gateway's error page quoting the request, whose
/// V1 query or V3 headers carry the security token): they must never reach an error, a log line or
/// a `Debug` string. Holds the AccessKey secret and the token, each also percent-encoded (as in the
/// V1 query) and with `/` JSON-escaped, made once per credentials (see
/// [`Derived::secret_forms`](super::derived::Derived::secret_forms)). Values shorter than
/// [`MIN_SECRET_LEN`](super::derived::MIN_SECRET_LEN) are left alone: real ones are far longer, and
/// masking a toy value would mangle ordinary messages.
struct Secrets<'c>(&'c [String]);

impl<'c> Secrets<'c> {
    const MASK: &'static str = "***";

    fn of(creds: &'c Credentials) -> Secrets<'c> {
        Secrets(creds.derived().secret_forms(creds))
    }

    fn found_in(&self, text: &str) -> bool {
        self.0.iter().any(|f| text.contains(f.as_str()))
    }

    /// Masks every secret in `text`.
    fn mask(&self, text: &mut String) {
        if self.found_in(text) {
            for form in self.0 {
                *text = text.replace(form.as_str(), Self::MASK);
            }
        }
    }

    /// The body with every secret masked; the same bytes when there is none (the usual case,
    /// checked without copying).
    fn mask_body(&self, body: Bytes) -> Bytes {
        if self.0.is_empty() {
            return body;
        }
        let text = String::from_utf8_lossy(&body);
        if !self.found_in(&text) {
            return body;
        }
        let mut text = text.into_owned();
        self.mask(&mut text);
        Bytes::from(text)
    }

    /// Masks the fields of a service error that may come from headers rather than the body.
    fn mask_error(&self, mut err: ServiceError) -> ServiceError {
        for field in [Some(&mut err.code), Some(&mut err.message)]
            .into_iter()
            .chain([err.request_id.as_mut(), err.host_id.as_mut(), err.recommend.as_mut()])
            .flatten()
        {
            self.mask(field);
        }
        err
    }
}

impl fmt::Debug for Secrets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(***)")
    }
}

/// A failed attempt, and whether another one may help.
struct Failed {
    retry: bool,
    retry_after: Option<Duration>,
    error: Error<ServiceError>,
}

fn set_attempts(error: &mut Error<ServiceError>, attempts: u32) {
    match error {
        Error::Service(e) => e.attempts = attempts,
        Error::Transport(e) => e.attempts = attempts,
        Error::Timeout(e) => e.attempts = attempts,
        _ => {}
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A successful answer, handed to the generated code for decoding.
#[derive(Debug)]
pub struct Response {
    action: &'static str,
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Response {
    /// Decodes the JSON body with serde.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, DecodeError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| DecodeError::json(self.action, &e, request_id(&self.headers, &self.body)))
    }

    /// Decodes the JSON body into a generated type: parsed once here, then read by `T`'s
    /// [`FromJson`](crate::de::FromJson) impl.
    pub fn decode<T: crate::de::FromJson>(&self) -> Result<T, DecodeError> {
        let value = self.json::<serde_json::Value>()?;
        T::from_json(value)
            .map_err(|m| DecodeError::shape(self.action, m, request_id(&self.headers, &self.body)))
    }

    /// The HTTP status (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// The request id of an answer: the `RequestId` of a JSON body, else the `x-acs-request-id` header.
fn request_id(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let from_body = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut members)) => match members.remove("RequestId") {
            Some(serde_json::Value::String(id)) => Some(id),
            _ => None,
        },
        _ => None,
    };
    from_body.or_else(|| headers.get("x-acs-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned))
}

/// The most transports kept for calls that override timeouts.
const MAX_OVERRIDE_TRANSPORTS: usize = 4;

/// The error of a call that passed its deadline after `attempts` attempts.
pub(crate) fn deadline_error(deadline: Duration, endpoint: &str, attempts: u32) -> TimeoutError {
    TimeoutError {
        phase: TimeoutPhase::Deadline,
        timeout: deadline,
        endpoint: endpoint.to_owned(),
        attempts,
        source: Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline elapsed")),
    }
}

/// Builds the HTTP transport (see [`transport`]) with these timeouts and the proxy chosen for the
/// endpoint.
fn build_http(
    connect_timeout: Duration,
    read_timeout: Duration,
    proxy: Option<&HttpUrl>,
) -> Result<Transport, ConfigError> {
    Transport::new(connect_timeout, read_timeout, proxy).map_err(ConfigError::new)
}

/// Turns a signed request into the transport's request. Values were validated before; a failure
/// here is reported, never a panic.
///
/// `known` holds values already converted (host, user agent, date, nonce): a header whose name
/// and value match one takes it without a copy. Constant values are static.
fn build_request(
    resolved: &Resolved,
    service: &'static ServiceInfo,
    op: &Operation,
    signed: Signed<'_>,
    known: &[(&str, Option<&HeaderValue>)],
) -> Result<http::Request<Full<Bytes>>, ConfigError> {
    let mut path_and_query = String::with_capacity(2 + signed.query.len());
    path_and_query.push('/');
    if !signed.query.is_empty() {
        path_and_query.push('?');
        path_and_query.push_str(&signed.query);
    }
    let path_and_query = http::uri::PathAndQuery::from_maybe_shared(Bytes::from(path_and_query))
        .map_err(|_| ConfigError::new("the request's query cannot be sent in HTTP"))?;
    let mut parts = http::uri::Parts::default();
    let endpoint = resolved.endpoint.url.uri();
    parts.scheme = endpoint.scheme().cloned();
    parts.authority = endpoint.authority().cloned();
    parts.path_and_query = Some(path_and_query);
    let uri =
        http::Uri::from_parts(parts).map_err(|_| ConfigError::new("the endpoint is not a valid URI"))?;
    let mut request = http::Request::new(Full::new(Bytes::new()));
    *request.method_mut() = op.method.clone();
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.reserve(signed.headers.len() + 1);
    for (name, value) in signed.headers {
        let header_name = match known_header(&name) {
            Some(known) => known,
            None => HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConfigError::new(format!("invalid header name {name:?}")))?,
        };
        let taken = known
            .iter()
            .find(|(n, v)| *n == name && v.is_some_and(|v| v.as_bytes() == value.as_bytes()))
            .and_then(|(_, v)| v.cloned());
        let converted = match taken.or_else(|| static_value(&name, &value, service, op)) {
            Some(v) => Ok(v),
            // A computed value moves into the header; a borrowed one is copied.
            None => match value {
                Cow::Owned(v) => HeaderValue::from_maybe_shared(Bytes::from(v)),
                Cow::Borrowed(v) => HeaderValue::from_str(v),
            },
        };
        let mut header_value = converted
            .map_err(|_| ConfigError::new(format!("the value of header {name} cannot be sent in HTTP")))?;
        if header_name == http::header::AUTHORIZATION || name == "x-acs-security-token" {
            header_value.set_sensitive(true);
        }
        headers.insert(header_name, header_value);
    }
    if op.method != http::Method::GET && op.method != http::Method::HEAD {
        if signed.body.is_empty() {
            // The transport omits the length of an empty body; some gateways refuse a POST
            // without one (411), so state it like the official SDKs do. It is not signed.
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        *request.body_mut() = Full::new(Bytes::from(signed.body));
    }
    Ok(request)
}

/// A constant value of a header the signers set, as a static header value (no copy).
fn static_value(
    name: &str,
    value: &str,
    service: &'static ServiceInfo,
    op: &Operation,
) -> Option<HeaderValue> {
    let constant: &'static str = match name {
        "accept" if value == "application/json" => "application/json",
        "x-acs-version" if value == service.api_version => service.api_version,
        "x-acs-action" if value == op.action => op.action,
        "x-acs-content-sha256" if value == sign::EMPTY_SHA256 => sign::EMPTY_SHA256,
        "content-type" if value == sign::FORM_CONTENT_TYPE => sign::FORM_CONTENT_TYPE,
        _ => return None,
    };
    // `from_static` panics on a byte a header cannot carry: check first (the action comes from
    // the spec).
    constant
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| HeaderValue::from_static(constant))
}

/// The `x-acs-date` of a request made now. Formatted once a second per thread; the header value
/// is shared after that (a clone is a reference count).
fn request_date() -> HeaderValue {
    thread_local! {
        static LAST: RefCell<Option<(u64, HeaderValue)>> = const { RefCell::new(None) };
    }
    let now = SystemTime::now();
    let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
        return HeaderValue::from_maybe_shared(Bytes::from(time::format_utc(now)))
            .unwrap_or_else(|_| HeaderValue::from_static("1970-01-01T00:00:00Z"));
    };
    let secs = since_epoch.as_secs();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((at, value)) if *at == secs => value.clone(),
            _ => {
                let value = HeaderValue::from_maybe_shared(Bytes::from(time::format_utc(now)))
                    .unwrap_or_else(|_| HeaderValue::from_static("1970-01-01T00:00:00Z"));
                *last = Some((secs, value.clone()));
                value
            }
        }
    })
}

/// The names the signers use, as static header names: no parsing, no allocation per request.
fn known_header(name: &str) -> Option<HeaderName> {
    use http::header;
    Some(match name {
        "host" => header::HOST,
        "user-agent" => header::USER_AGENT,
        "accept" => header::ACCEPT,
        "content-type" => header::CONTENT_TYPE,
        "authorization" => header::AUTHORIZATION,
        "x-acs-action" => HeaderName::from_static("x-acs-action"),
        "x-acs-version" => HeaderName::from_static("x-acs-version"),
        "x-acs-date" => HeaderName::from_static("x-acs-date"),
        "x-acs-signature-nonce" => HeaderName::from_static("x-acs-signature-nonce"),
        "x-acs-content-sha256" => HeaderName::from_static("x-acs-content-sha256"),
        "x-acs-accesskey-id" => HeaderName::from_static("x-acs-accesskey-id"),
        "x-acs-security-token" => HeaderName::from_static("x-acs-security-token"),
        _ => return None,
    })
}

/// Whether the TLS layer refused the server (a bad certificate, a protocol mismatch): repeating
/// cannot help.
fn is_tls_rejection(err: &(dyn std::error::Error + 'static)) -> bool {
    chain_any(err, |e| {
        e.downcast_ref::<rustls::Error>().is_some_and(|t| {
            matches!(
                t,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::PeerIncompatible(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::UnsupportedNameType
                    | rustls::Error::AlertReceived(_)
            )
        })
    })
}

/// How far a failed exchange got.
fn classify_transport(err: &transport::Failure) -> Failure {
    if is_tls_rejection(&*err.source) {
        Failure::Permanent
    } else if err.connect {
        // Nothing was written: DNS, refused, unreachable, connect timeout, proxy, TLS handshake.
        Failure::NotSent
    } else {
        // Reset, read timeout, broken body: the server may have acted on the request.
        Failure::MaybeSent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Location;
    use crate::{Credentials, RetryConfig};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A made-up product: the runtime knows none.
    static TEST_SERVICE: ServiceInfo = ServiceInfo::new(
        "widgets",
        "2020-04-20",
        "widgets.{region}.example.com",
        "widgets-vpc.{region}.example.com",
        SignatureVersion::V3,
        "widgets-sdk",
        "1.2.3",
    );

    fn core(config: Config) -> ClientCore {
        ClientCore::new(config, &TEST_SERVICE)
    }

    static QUERY_OP: Operation = Operation {
        action: "QuerySessionByClientId",
        method: http::Method::POST,
        idempotent: true,
        retryable_codes: &[],
        failure_in_body: false,
        qps_limit: None,
    };
    static MUTATING_OP: Operation = Operation {
        action: "AddCustomAuthConnectBlack",
        method: http::Method::POST,
        idempotent: false,
        retryable_codes: &[],
        failure_in_body: true,
        qps_limit: None,
    };
    static GET_OP: Operation = Operation {
        action: "GetCaCertificate",
        method: http::Method::GET,
        idempotent: true,
        retryable_codes: &[],
        failure_in_body: false,
        qps_limit: None,
    };
    static BODY_FAILURE_OP: Operation = Operation {
        action: "ListInstances",
        method: http::Method::POST,
        idempotent: true,
        retryable_codes: &["Custom.Busy"],
        failure_in_body: true,
        qps_limit: None,
    };

    /// A raw request as the test server saw it.
    #[derive(Debug)]
    struct Seen {
        head: String,
        body: Vec<u8>,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.head.lines().skip(1).find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim())
            })
        }
        fn request_line(&self) -> &str {
            self.head.lines().next().unwrap_or("")
        }
    }

    /// Serves one canned answer per connection, in order; the last repeats. Records requests.
    async fn server(answers: Vec<String>) -> (String, Arc<std::sync::Mutex<Vec<Seen>>>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let (seen2, count2) = (seen.clone(), count.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let n = count2.fetch_add(1, Ordering::SeqCst);
                let answer = answers[n.min(answers.len() - 1)].clone();
                let seen3 = seen2.clone();
                tokio::spawn(async move {
                    if let Some(head) = answer.strip_prefix("STALL:") {
                        // A head and the start of a body, then silence.
                        let mut buf = [0u8; 4096];
                        let _ = sock.read(&mut buf).await;
                        let _ = sock.write_all(head.as_bytes()).await;
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    if let Some(raw) = answer.strip_prefix("RAW:") {
                        // Answer at once, before reading anything.
                        let _ = sock.write_all(raw.as_bytes()).await;
                        let _ = sock.shutdown().await;
                        return;
                    }
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    let head_end = loop {
                        let Ok(r) = sock.read(&mut tmp).await else { return };
                        if r == 0 {
                            return;
                        }
                        buf.extend_from_slice(&tmp[..r]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (n, v) = l.split_once(':')?;
                            n.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let Ok(r) = sock.read(&mut tmp).await else { return };
                        if r == 0 {
                            break;
                        }
                        buf.extend_from_slice(&tmp[..r]);
                    }
                    let body = buf[head_end..].to_vec();
                    seen3.lock().unwrap().push(Seen { head, body });
                    if answer == "HANG" {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    if answer == "CLOSE" {
                        return;
                    }
                    let _ = sock.write_all(answer.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        (format!("http://{addr}"), seen, count)
    }

    fn answer(status: &str, headers: &[(&str, &str)], body: &str) -> String {
        let mut s = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
        for (k, v) in headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        s.push_str(body);
        s
    }

    fn client(endpoint: &str, retry: RetryConfig) -> ClientCore {
        core(
            Config::builder()
                .endpoint(endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .retry(retry)
                .read_timeout(Duration::from_millis(500))
                .connect_timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
        )
    }

    fn fast_retry(n: u32) -> RetryConfig {
        RetryConfig {
            max_attempts: n,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        }
    }

    fn params() -> Params {
        let mut p = Params::new();
        p.push(Location::Query, "InstanceId", "post-cn-0pp12gl****");
        p.push(Location::Query, "ClientId", "GID_test@@@test");
        p
    }

    #[tokio::test]
    async fn v3_request_on_the_wire() {
        let (endpoint, seen, _) = server(vec![answer(
            "200 OK",
            &[("content-type", "application/json")],
            r#"{"OnlineStatus": true, "RequestId": "E4581CCF"}"#,
        )])
        .await;
        let c = client(&endpoint, fast_retry(1));
        let resp = c.execute(&QUERY_OP, params()).await.unwrap();
        assert_eq!(resp.status(), 200);
        let v: serde_json::Value = resp.json().unwrap();
        assert_eq!(v["OnlineStatus"], true);

        let seen = seen.lock().unwrap();
        let req = &seen[0];
        assert_eq!(
            req.request_line(),
            "POST /?ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A HTTP/1.1"
        );
        let host = endpoint.trim_start_matches("http://");
        assert_eq!(req.header("host"), Some(host));
        assert_eq!(req.header("accept"), Some("application/json"));
        assert_eq!(req.header("x-acs-action"), Some("QuerySessionByClientId"));
        assert_eq!(req.header("x-acs-version"), Some("2020-04-20"));
        assert_eq!(req.header("x-acs-content-sha256"), Some(sign::EMPTY_SHA256));
        assert_eq!(req.header("content-length"), Some("0"));
        assert!(req.header("user-agent").unwrap().starts_with("widgets-sdk/1.2.3 ("));
        assert_eq!(req.header("x-acs-signature-nonce").map(str::len), Some(32));

        // Recompute the signature from what arrived: every header but the transport's own and
        // Authorization is signed.
        let auth = req.header("authorization").unwrap();
        let signed_list = auth.split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap();
        let mut sent: Vec<(String, String)> = req
            .head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
            .filter(|(n, _)| n != "authorization" && n != "content-length")
            .collect();
        sent.sort();
        let names: Vec<&str> = sent.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.join(";"), signed_list);
        let query = req.request_line().split(' ').nth(1).unwrap().trim_start_matches("/?");
        let sig = sign::v3_sign("POST", "/", query, &sent, sign::EMPTY_SHA256, "testsecret");
        assert_eq!(auth, sig.authorization("testid"));
    }

    #[tokio::test]
    async fn v1_and_form_body_on_the_wire() {
        let (endpoint, seen, _) =
            server(vec![answer("200 OK", &[], r#"{"Code":200,"Success":true,"RequestId":"R4"}"#)]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret").with_security_token("tok"))
                .signature_version(SignatureVersion::V1)
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        );
        let mut p = Params::new();
        p.push(Location::Form, "ClientId", "GID a*b~c/d+é");
        p.push(Location::Form, "InstanceId", "mqtt-cn-xx");
        c.execute(&MUTATING_OP, p).await.unwrap();
        let seen = seen.lock().unwrap();
        let req = &seen[0];
        assert_eq!(req.body, b"ClientId=GID%20a%2Ab~c%2Fd%2B%C3%A9&InstanceId=mqtt-cn-xx");
        assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(req.header("authorization"), None);
        let line = req.request_line();
        assert!(line.starts_with("POST /?AccessKeyId=testid&Action=AddCustomAuthConnectBlack&Format=JSON&SecurityToken=tok&SignatureMethod=HMAC-SHA1&SignatureNonce="), "{line}");
        assert!(line.contains("&Signature="), "{line}");
    }

    #[tokio::test]
    async fn get_has_no_body() {
        let (endpoint, seen, _) = server(vec![answer("200 OK", &[], "{}")]).await;
        let c = client(&endpoint, fast_retry(1));
        let mut p = Params::new();
        p.push(Location::Query, "Sn", "007");
        c.execute(&GET_OP, p).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].request_line(), "GET /?Sn=007 HTTP/1.1");
        assert_eq!(seen[0].header("content-length"), None);
        assert!(seen[0].body.is_empty());
    }

    #[tokio::test]
    async fn service_error_then_success_is_retried_for_idempotent_calls() {
        let (endpoint, seen, count) = server(vec![
            answer(
                "429 Too Many Requests",
                &[("x-acs-retry-after", "20")],
                r#"{"Code":"Throttling.User","Message":"slow down","RequestId":"R-429"}"#,
            ),
            answer("503 Service Unavailable", &[], "<html><body>busy</body></html>"),
            answer("200 OK", &[], r#"{"OnlineStatus": false, "RequestId": "ok"}"#),
        ])
        .await;
        let c = client(&endpoint, fast_retry(3));
        let started = Instant::now();
        c.execute(&QUERY_OP, params()).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(count.load(Ordering::SeqCst), 3);
        // Each attempt is signed afresh.
        let seen = seen.lock().unwrap();
        let nonces: std::collections::HashSet<_> =
            seen.iter().map(|s| s.header("x-acs-signature-nonce").unwrap().to_owned()).collect();
        assert_eq!(nonces.len(), 3);
    }

    #[tokio::test]
    async fn final_error_carries_the_attempt_count() {
        let (endpoint, _, count) = server(vec![answer(
            "503 Service Unavailable",
            &[],
            r#"{"Code":"ServiceUnavailable","Message":"busy","RequestId":"R-503"}"#,
        )])
        .await;
        let c = client(&endpoint, fast_retry(3));
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        let Error::Service(se) = &err else { panic!("{err:?}") };
        assert_eq!((se.status(), se.code(), se.attempts()), (503, "ServiceUnavailable", 3));
        assert_eq!(count.load(Ordering::SeqCst), 3);
        assert_eq!(err.to_string(), "ServiceUnavailable: busy (request id R-503)");
    }

    #[tokio::test]
    async fn non_retryable_and_mutating_errors_are_not_retried() {
        let (endpoint, _, count) = server(vec![answer(
            "500 Internal Server Error",
            &[],
            r#"{"Code":"MqttInstanceNotFound","Message":"no such instance","RequestId":"R"}"#,
        )])
        .await;
        let c = client(&endpoint, fast_retry(3));
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert_eq!(err.as_service().map(ServiceError::code), Some("MqttInstanceNotFound"));
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let (endpoint, _, count) = server(vec![answer("503 Service Unavailable", &[], "")]).await;
        let c = client(&endpoint, fast_retry(3));
        let err = c.execute(&MUTATING_OP, Params::new()).await.unwrap_err();
        assert_eq!(err.as_service().map(ServiceError::code), Some("Http503"));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn success_false_in_a_200_body() {
        let (endpoint, _, count) = server(vec![answer(
            "200 OK",
            &[],
            r#"{"Code":500,"Success":false,"Message":"instance not found","RequestId":"R9"}"#,
        )])
        .await;
        let c = client(&endpoint, fast_retry(3));
        let err = c.execute(&BODY_FAILURE_OP, Params::new()).await.unwrap_err();
        let se = err.as_service().unwrap();
        assert_eq!((se.status(), se.code(), se.message()), (200, "500", "instance not found"));
        assert_eq!(se.request_id(), Some("R9"));
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let (endpoint, _, count) = server(vec![
            answer("200 OK", &[], r#"{"Code":"Custom.Busy","Success":"false"}"#),
            answer("200 OK", &[], r#"{"Success":true}"#),
        ])
        .await;
        let c = client(&endpoint, fast_retry(3));
        c.execute(&BODY_FAILURE_OP, Params::new()).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn connection_refused_is_retried_even_for_mutating_calls() {
        // Bind then drop, so the port is (very likely) closed.
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let c = client(&format!("http://{addr}"), fast_retry(3));
        let err = c.execute(&MUTATING_OP, Params::new()).await.unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        assert!(t.is_connect());
        assert_eq!(t.attempts(), 3);
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("could not connect to http://{addr} after 3 attempts: ")), "{msg}");
        assert!(std::error::Error::source(&err).is_some());
        // No URL (and so no query) in the chain.
        let mut chain = String::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = cur {
            chain.push_str(&e.to_string());
            cur = e.source();
        }
        assert!(!chain.contains("Signature"), "{chain}");
    }

    #[tokio::test]
    async fn https_to_a_plain_http_server_fails_in_the_tls_layer() {
        // The ring provider is configured on the client itself: no process-wide provider is
        // needed for the handshake to start (and fail here, as the server speaks plain HTTP).
        let raw = format!("RAW:{}", answer("400 Bad Request", &[], "not tls"));
        let (endpoint, _, count) = server(vec![raw]).await;
        let endpoint = endpoint.replace("http://", "https://");
        let c = client(&endpoint, fast_retry(2));
        let err = c.execute(&MUTATING_OP, Params::new()).await.unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        assert!(t.is_connect(), "{err}");
        assert!(count.load(Ordering::SeqCst) >= 1);
        assert!(err.to_string().starts_with(&format!("could not connect to {endpoint}")), "{err}");
    }

    #[tokio::test]
    async fn a_body_that_stalls_is_a_read_timeout() {
        let stall = "STALL:HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"RequestId\":".to_owned();
        let (endpoint, _, count) = server(vec![stall]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .retry(fast_retry(2))
                .read_timeout(Duration::from_millis(150))
                .build()
                .unwrap(),
        );
        let started = Instant::now();
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        let Error::Timeout(t) = &err else { panic!("{err:?}") };
        assert_eq!((t.phase(), t.attempts()), (TimeoutPhase::Read, 2));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn chunked_bodies_are_joined() {
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                       5\r\n{\"Req\r\n8\r\nuestId\":\r\n5\r\n\"R9\"}\r\n0\r\n\r\n";
        let (endpoint, _, _) = server(vec![chunked.to_owned()]).await;
        let c = client(&endpoint, fast_retry(1));
        let resp = c.execute(&QUERY_OP, params()).await.unwrap();
        assert_eq!(resp.body().as_ref(), br#"{"RequestId":"R9"}"#);
    }

    #[tokio::test]
    async fn read_timeout_is_retried_only_for_idempotent_calls() {
        let (endpoint, _, count) = server(vec!["HANG".to_owned()]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .retry(fast_retry(2))
                .read_timeout(Duration::from_millis(100))
                .build()
                .unwrap(),
        );
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        let Error::Timeout(t) = &err else { panic!("{err:?}") };
        assert_eq!((t.phase(), t.attempts()), (TimeoutPhase::Read, 2));
        assert_eq!(count.load(Ordering::SeqCst), 2);

        let (endpoint, _, count) = server(vec!["HANG".to_owned()]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .retry(fast_retry(3))
                .read_timeout(Duration::from_millis(100))
                .build()
                .unwrap(),
        );
        let err = c.execute(&MUTATING_OP, Params::new()).await.unwrap_err();
        assert!(matches!(err, Error::Timeout(ref t) if t.attempts() == 1), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn closed_connection_is_a_transport_error() {
        let (endpoint, _, count) = server(vec!["CLOSE".to_owned()]).await;
        let c = client(&endpoint, fast_retry(2));
        let err = c.execute(&MUTATING_OP, Params::new()).await.unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        assert!(!t.is_connect());
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert!(matches!(err, Error::Transport(ref t) if t.attempts() == 2), "{err:?}");
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let big = format!(r#"{{"RequestId":"{}"}}"#, "x".repeat(5000));
        let (endpoint, _, _) = server(vec![answer("200 OK", &[], &big)]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .max_response_bytes(1000)
                .build()
                .unwrap(),
        );
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert!(matches!(err, Error::Decode(ref d) if d.is_too_large()), "{err:?}");

        // Chunked, without a length: stopped at the limit all the same.
        let chunked = format!(
            "HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            big.len(),
            big
        );
        let (endpoint, _, _) = server(vec![chunked]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .max_response_bytes(1000)
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        );
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        let se = err.as_service().unwrap();
        assert_eq!(se.code(), "Http500");
        assert!(se.message().contains("larger than 1000 bytes"), "{}", se.message());
    }

    #[tokio::test]
    async fn shape_errors_name_the_member_not_the_body() {
        let body = r#"{"RequestId":"R8","Items":[{"Id":"a"},{"Id":7}],"Secret":"s3cr3t-value"}"#;
        let (endpoint, _, _) = server(vec![answer("200 OK", &[], body)]).await;
        let c = client(&endpoint, fast_retry(1));
        let resp = c.execute(&QUERY_OP, params()).await.unwrap();
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Item {
            id: String,
        }
        impl crate::de::FromJson for Item {
            fn from_json(value: crate::de::Value) -> Result<Self, crate::de::Mismatch> {
                let mut o = crate::de::Object::new(value)?;
                Ok(Item { id: o.req("Id")? })
            }
        }
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Out {
            items: Vec<Item>,
        }
        impl crate::de::FromJson for Out {
            fn from_json(value: crate::de::Value) -> Result<Self, crate::de::Mismatch> {
                let mut o = crate::de::Object::new(value)?;
                Ok(Out { items: o.list("Items")? })
            }
        }
        let err = resp.decode::<Out>().unwrap_err();
        assert_eq!(err.request_id(), Some("R8"));
        assert_eq!(err.position(), None);
        assert_eq!(err.path(), Some("Items[1].Id"));
        let text = err.to_string();
        assert_eq!(
            text,
            "could not decode the QuerySessionByClientId response: `Items[1].Id`: expected a string, \
             found a number (request id R8)"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
        // Not JSON at all: the position, as serde_json reports it.
        let (endpoint, _, _) = server(vec![answer("200 OK", &[], "{\"Items\": [")]).await;
        let c = client(&endpoint, fast_retry(1));
        let err = c.execute(&QUERY_OP, params()).await.unwrap().decode::<Out>().unwrap_err();
        assert_eq!(err.position().map(|p| p.0), Some(1));
        assert_eq!(err.path(), None);
        let ok = resp.decode::<Item>().unwrap_err();
        assert_eq!(ok.path(), Some(""), "the top level has no `Id`: {ok}");
    }

    #[tokio::test]
    async fn decode_errors_keep_position_not_body() {
        let (endpoint, _, _) = server(vec![answer("200 OK", &[], r#"{"RequestId":"R7","Total":"x"}"#)]).await;
        let c = client(&endpoint, fast_retry(1));
        let resp = c.execute(&QUERY_OP, params()).await.unwrap();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Out {
            #[serde(rename = "Total")]
            total: u32,
        }
        let err = resp.json::<Out>().unwrap_err();
        assert_eq!(err.request_id(), Some("R7"));
        assert_eq!(err.position().map(|p| p.0), Some(1));
        assert!(
            err.to_string().starts_with(
                "could not decode the QuerySessionByClientId response: invalid type: string \"x\""
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn missing_credentials_fail_before_sending() {
        #[derive(Debug)]
        struct NoCreds;
        impl crate::ProvideCredentials for NoCreds {
            fn provide_credentials(&self) -> crate::credentials::CredentialsFuture<'_> {
                Box::pin(async { Err(crate::CredentialsError::new("none here")) })
            }
        }
        let (endpoint, _, count) = server(vec![answer("200 OK", &[], "{}")]).await;
        let c = core(Config::builder().endpoint(&endpoint).credentials_provider(NoCreds).build().unwrap());
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert_eq!(err.to_string(), "could not obtain credentials: none here");
        let c = client(&endpoint, fast_retry(1));
        let c2 = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("bad\nid", "s"))
                .build()
                .unwrap(),
        );
        assert!(matches!(c2.execute(&QUERY_OP, params()).await, Err(Error::Credentials(_))));
        assert_eq!(count.load(Ordering::SeqCst), 0);
        drop(c);
    }

    #[test]
    fn client_is_cheap_send_sync_and_debug_hides_secrets() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<ClientCore>();
        let c = core(
            Config::builder()
                .region("cn-hangzhou")
                .credentials(Credentials::new("AKID", "TopSecret").with_security_token("Tok"))
                .build()
                .unwrap(),
        );
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("TopSecret") && !dbg.contains("Tok\""), "{dbg}");
        assert!(c.inner.http.is_ok());
        let fut = c.execute(&QUERY_OP, Params::new());
        fn is_send<T: Send>(_: &T) {}
        is_send(&fut);
    }

    #[test]
    fn echoed_secrets_are_masked_in_every_form() {
        let creds = Credentials::new("id", "SECRET-d3adb33f").with_security_token("CAIS+tok/en==");
        let secrets = Secrets::of(&creds);
        assert_eq!(format!("{secrets:?}"), "Secrets(***)");
        let body = Bytes::from_static(
            br#"{"Message":"SecurityToken=CAIS%2Btok%2Fen%3D%3D x-acs-security-token: CAIS+tok/en== json CAIS+tok\/en== secret SECRET-d3adb33f"}"#,
        );
        let masked = secrets.mask_body(body);
        assert_eq!(
            &masked[..],
            br#"{"Message":"SecurityToken=*** x-acs-security-token: *** json *** secret ***"}"#
        );
        // Nothing to mask: the very same bytes, not a copy.
        let clean = Bytes::from_static(b"{\"RequestId\":\"R\"}");
        assert_eq!(secrets.mask_body(clean.clone()).as_ptr(), clean.as_ptr());
        let err = secrets
            .mask_error(ServiceError::new(400, "Bad", "CAIS+tok/en==").with_request_id("CAIS+tok/en=="));
        assert_eq!((err.message(), err.request_id()), ("***", Some("***")));
        // Toy values are too short to mask safely: ordinary words would be mangled.
        let toy_creds = Credentials::new("id", "s").with_security_token("tok");
        let toy = Secrets::of(&toy_creds);
        let mut text = "token s".to_owned();
        toy.mask(&mut text);
        assert_eq!(text, "token s");
    }

    #[tokio::test]
    async fn the_deadline_bounds_the_whole_call_retries_included() {
        // Every attempt hangs past a 200 ms read timeout; 10 attempts would take 2 s and more.
        let (endpoint, _, count) = server(vec!["HANG".to_owned()]).await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .retry(fast_retry(10))
                .read_timeout(Duration::from_millis(200))
                .deadline(Duration::from_millis(500))
                .build()
                .unwrap(),
        );
        let started = Instant::now();
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        let elapsed = started.elapsed();
        let Error::Timeout(t) = &err else { panic!("{err:?}") };
        assert_eq!((t.phase(), t.timeout()), (TimeoutPhase::Deadline, Duration::from_millis(500)));
        // About 3 attempts fit (at 0, 200 and 400 ms); a loaded machine may fit fewer, never 10.
        let attempts = t.attempts();
        assert!((2..=4).contains(&attempts), "{attempts}");
        assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert_eq!(count.load(Ordering::SeqCst), attempts as usize);
        assert_eq!(
            err.to_string(),
            format!(
                "the call to {endpoint} did not finish within its deadline of 500ms ({attempts} attempts made)"
            )
        );
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_returns_the_last_error_at_once() {
        let (endpoint, _, count) = server(vec![answer(
            "429 Too Many Requests",
            &[("x-acs-retry-after", "5000")],
            r#"{"Code":"Throttling.User","Message":"slow down","RequestId":"R"}"#,
        )])
        .await;
        let c = core(
            Config::builder()
                .endpoint(&endpoint)
                .credentials(Credentials::new("testid", "testsecret"))
                .deadline(Duration::from_secs(2))
                .build()
                .unwrap(),
        );
        let started = Instant::now();
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert_eq!(err.as_service().map(ServiceError::code), Some("Throttling.User"));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn call_options_override_retries_timeouts_and_deadline_for_one_call() {
        let (endpoint, _, count) = server(vec![answer("503 Service Unavailable", &[], "")]).await;
        let c = client(&endpoint, fast_retry(3));
        let mut once = c.clone();
        once.set_call_options(CallOptions::new().retry(RetryConfig::disabled()));
        let err = once.execute(&QUERY_OP, params()).await.unwrap_err();
        assert_eq!(err.as_service().map(ServiceError::attempts), Some(1));
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // The client it was cloned from keeps its own policy.
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert_eq!(err.as_service().map(ServiceError::attempts), Some(3));
        assert_eq!(count.load(Ordering::SeqCst), 4);

        // A shorter read timeout for one call, on the client's own pool.
        let (endpoint, _, _) = server(vec!["HANG".to_owned()]).await;
        let c = client(&endpoint, RetryConfig::disabled());
        let quick_read = CallOptions::new().read_timeout(Duration::from_millis(100));
        let mut quick = c.clone();
        quick.set_call_options(quick_read);
        // Then another connect timeout too: a transport made for it, and reused.
        let mut own_pool = c.clone();
        own_pool.set_call_options(quick_read.connect_timeout(Duration::from_secs(7)));
        for (core, transports) in [(&quick, 0), (&quick, 0), (&own_pool, 1), (&own_pool, 1)] {
            let started = Instant::now();
            let err = core.execute(&QUERY_OP, params()).await.unwrap_err();
            let Error::Timeout(t) = &err else { panic!("{err:?}") };
            assert_eq!((t.phase(), t.timeout()), (TimeoutPhase::Read, Duration::from_millis(100)));
            assert!(started.elapsed() < Duration::from_secs(3));
            assert_eq!(c.inner.overrides.lock().unwrap().len(), transports);
        }
        // The client's own calls keep the configured read timeout.
        assert_eq!(c.transport(&c.settings()).unwrap().read_timeout(), c.config().read_timeout);

        // A deadline for one call only.
        let mut bounded = c.clone();
        bounded.set_call_options(CallOptions::new().deadline(Duration::from_millis(150)));
        let err = bounded.execute(&QUERY_OP, params()).await.unwrap_err();
        assert!(matches!(err, Error::Timeout(ref t) if t.phase() == TimeoutPhase::Deadline), "{err:?}");
    }

    #[test]
    fn a_zero_deadline_is_refused_in_the_config() {
        let err = Config::builder().region("cn-hangzhou").deadline(Duration::ZERO).build().unwrap_err();
        assert_eq!(err.message(), "the deadline must be greater than zero");
    }

    /// The test server doubles as an HTTP proxy: a proxied request arrives in absolute form.
    #[tokio::test]
    async fn an_explicit_proxy_carries_the_request_with_its_credentials() {
        let (proxy, seen, count) =
            server(vec![answer("200 OK", &[], r#"{"OnlineStatus": true, "RequestId": "via-proxy"}"#)]).await;
        let with_auth = proxy.replace("http://", "http://puser:hunter22pw@");
        let c = core(
            Config::builder()
                .endpoint("http://widgets.unreachable.invalid:8080")
                .credentials(Credentials::new("testid", "testsecret"))
                .proxy(crate::Proxy::url(&with_auth))
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        );
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter22pw"), "{dbg}");
        let response = c.execute(&QUERY_OP, params()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let seen = seen.lock().unwrap();
        assert!(
            seen[0].request_line().starts_with("POST http://widgets.unreachable.invalid:8080/"),
            "{}",
            seen[0].head
        );
        assert_eq!(seen[0].header("host"), Some("widgets.unreachable.invalid:8080"));
        // puser:hunter22pw
        assert_eq!(seen[0].header("proxy-authorization"), Some("Basic cHVzZXI6aHVudGVyMjJwdw=="));
    }

    #[tokio::test]
    async fn an_https_endpoint_is_tunnelled_through_the_proxy() {
        let (proxy, seen, count) = server(vec![answer("403 Forbidden", &[], "")]).await;
        let c = core(
            Config::builder()
                .endpoint("https://widgets.unreachable.invalid")
                .credentials(Credentials::new("testid", "testsecret"))
                .proxy(crate::Proxy::url(proxy.replace("http://", "http://user:pa55@")))
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        );
        // The proxy refuses the tunnel: a transport error, after the proxy saw CONNECT.
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        assert!(t.is_connect(), "nothing reached the server: {err:?}");
        assert!(format!("{err:#} {:?}", std::error::Error::source(&err)).contains("403"), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let seen = seen.lock().unwrap();
        assert!(
            seen[0].request_line().starts_with("CONNECT widgets.unreachable.invalid:443 "),
            "{}",
            seen[0].head
        );
        // base64("user:pa55")
        assert_eq!(seen[0].header("proxy-authorization"), Some("Basic dXNlcjpwYTU1"));
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("pa55") && !shown.contains("dXNlcjpwYTU1"), "{shown}");
    }

    #[tokio::test]
    async fn with_proxies_disabled_the_request_goes_direct() {
        let (proxy, _, count) = server(vec![answer("200 OK", &[], "{}")]).await;
        let c = core(
            Config::builder()
                .endpoint("http://widgets.unreachable.invalid:8080")
                .credentials(Credentials::new("testid", "testsecret"))
                .proxy(crate::Proxy::Disabled)
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        );
        let err = c.execute(&QUERY_OP, params()).await.unwrap_err();
        assert!(matches!(err, Error::Transport(ref t) if t.is_connect()), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 0);
        drop(proxy);
    }

    /// `HTTP_PROXY` and `NO_PROXY` are read from the process environment, which a test must not
    /// change in its own process: the test runs itself again as a child with the variables set.
    #[test]
    fn environment_proxies_are_honoured() {
        const CHILD: &str = "ALIBABACLOUD_RUNTIME_TEST_PROXY_CHILD";
        if let Ok(mode) = std::env::var(CHILD) {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let proxy_count: usize = std::env::var("EXPECT_PROXIED").unwrap().parse().unwrap();
                let c = core(
                    Config::builder()
                        .endpoint(std::env::var("TEST_ENDPOINT").unwrap())
                        .credentials(Credentials::new("testid", "testsecret"))
                        .retry(RetryConfig::disabled())
                        .build()
                        .unwrap(),
                );
                let result = c.execute(&QUERY_OP, params()).await;
                assert_eq!(result.is_ok(), proxy_count == 1, "{mode}: {result:?}");
            });
            return;
        }
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let (proxy, _, count) = rt.block_on(server(vec![answer("200 OK", &[], r#"{"RequestId":"p"}"#)]));
        let exe = std::env::current_exe().unwrap();
        let run = |mode: &str, vars: &[(&str, &str)], proxied: usize| {
            let before = count.load(Ordering::SeqCst);
            let out = std::process::Command::new(&exe)
                .args(["--exact", "client::tests::environment_proxies_are_honoured", "--test-threads=1"])
                .env_remove("HTTP_PROXY")
                .env_remove("http_proxy")
                .env_remove("HTTPS_PROXY")
                .env_remove("https_proxy")
                .env_remove("NO_PROXY")
                .env_remove("no_proxy")
                .env(CHILD, mode)
                .env("EXPECT_PROXIED", proxied.to_string())
                .env("TEST_ENDPOINT", "http://widgets.unreachable.invalid:8080")
                .envs(vars.iter().copied())
                .output()
                .unwrap();
            assert!(out.status.success(), "{mode}: {}", String::from_utf8_lossy(&out.stdout));
            assert_eq!(count.load(Ordering::SeqCst) - before, proxied, "{mode}");
        };
        run("HTTP_PROXY", &[("HTTP_PROXY", &proxy)], 1);
        run("http_proxy", &[("http_proxy", &proxy)], 1);
        run("HTTPS_PROXY only", &[("HTTPS_PROXY", &proxy)], 0);
        run("NO_PROXY", &[("HTTP_PROXY", &proxy), ("NO_PROXY", "localhost,.unreachable.invalid")], 0);
    }
}
