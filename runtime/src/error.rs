//! The errors a call can return.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use super::credentials::CredentialsError;

/// Everything that can go wrong with a call.
///
/// `E` is the operation's own service error type (for example
/// `QuerySessionByClientIdError`), which names the error codes that operation documents and keeps
/// the underlying [`ServiceError`] for anything else.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The service answered with an error: an HTTP error status, or a `Success: false` body.
    Service(E),
    /// A parameter broke a constraint declared by the API; nothing was sent.
    InvalidInput(InvalidInput),
    /// No usable credentials could be obtained; nothing was sent.
    Credentials(CredentialsError),
    /// The HTTP exchange could not be completed (DNS, connection refused or reset, TLS).
    Transport(TransportError),
    /// Connecting or waiting for the response took longer than the configured timeout.
    Timeout(TimeoutError),
    /// A successful answer whose body is not the expected JSON, or is too large.
    Decode(DecodeError),
    /// The client could not be set up (for example its TLS stack failed to initialise); nothing was
    /// sent.
    Config(ConfigError),
}

impl<E> Error<E> {
    /// Converts the service error with `f`, keeping every other variant.
    pub fn map_service<F>(self, f: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Service(e) => Error::Service(f(e)),
            Error::InvalidInput(e) => Error::InvalidInput(e),
            Error::Credentials(e) => Error::Credentials(e),
            Error::Transport(e) => Error::Transport(e),
            Error::Timeout(e) => Error::Timeout(e),
            Error::Decode(e) => Error::Decode(e),
            Error::Config(e) => Error::Config(e),
        }
    }

    /// The service error, if the service answered with one.
    pub fn as_service(&self) -> Option<&E> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The service error, if the service answered with one.
    pub fn into_service(self) -> Option<E> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(e) => e.fmt(f),
            Error::InvalidInput(e) => e.fmt(f),
            Error::Credentials(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::Timeout(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
            Error::Config(e) => e.fmt(f),
        }
    }
}

/// Each variant is transparent: `source()` is the wrapped error's own source, so a report that
/// walks the chain does not repeat a message.
impl<E: StdError + 'static> StdError for Error<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Service(e) => e.source(),
            Error::InvalidInput(e) => e.source(),
            Error::Credentials(e) => e.source(),
            Error::Transport(e) => e.source(),
            Error::Timeout(e) => e.source(),
            Error::Decode(e) => e.source(),
            Error::Config(e) => e.source(),
        }
    }
}

/// An error answer from the service.
///
/// Displays as `Code: Message (request id ...)`. When the answer carried no error code (for
/// example an HTML page from a proxy), the code is `Http<status>` such as `Http502` and the message
/// names the status and quotes the start of the body.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServiceError {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) code_in_body: bool,
    pub(crate) message: String,
    pub(crate) request_id: Option<String>,
    pub(crate) host_id: Option<String>,
    pub(crate) recommend: Option<String>,
    pub(crate) access_denied_detail: Option<serde_json::Value>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) attempts: u32,
}

impl ServiceError {
    /// A service error with a status, a code and a message, for tests and mocks of code that
    /// handles errors; the client builds its own from the service's answers.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            code_in_body: true,
            message: message.into(),
            request_id: None,
            host_id: None,
            recommend: None,
            access_denied_detail: None,
            retry_after: None,
            attempts: 1,
        }
    }

    /// Sets the request id (see [`new`](Self::new)).
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Sets how long the service asks to wait before trying again, as its `x-acs-retry-after`
    /// header does (see [`new`](Self::new)).
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// The HTTP status of the answer (200 for a `Success: false` body).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The service error code, e.g. `InvalidParameter.ClientId`, or `Http<status>` when the answer
    /// had none.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The service's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request id to quote when asking Alibaba Cloud support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The host that answered, as the service reports it.
    pub fn host_id(&self) -> Option<&str> {
        self.host_id.as_deref()
    }

    /// A link to the service's troubleshooting page for this error.
    pub fn recommend(&self) -> Option<&str> {
        self.recommend.as_deref()
    }

    /// For authorization failures, the service's details about the missing permission (a JSON
    /// object with fields such as `AuthAction`, `PolicyType` and `NoPermissionType`).
    pub fn access_denied_detail(&self) -> Option<&serde_json::Value> {
        self.access_denied_detail.as_ref()
    }

    /// How long the service asked to wait before trying again (header `x-acs-retry-after`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// How many attempts were made, this one included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the answer carried an error code of its own (otherwise [`code`](Self::code) is
    /// derived from the HTTP status).
    pub fn has_service_code(&self) -> bool {
        self.code_in_body
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl StdError for ServiceError {}

/// A parameter broke a constraint the API declares; the call was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidInput {
    param: &'static str,
    expected: String,
    actual: String,
}

impl InvalidInput {
    pub(crate) fn new(param: &'static str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Self { param, expected: expected.into(), actual: actual.into() }
    }

    /// The API name of the parameter, e.g. `ClientIdList`.
    pub fn param(&self) -> &str {
        self.param
    }

    /// What the API accepts, e.g. `at most 10 items`.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// What was given, e.g. `12 items`.
    pub fn actual(&self) -> &str {
        &self.actual
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid parameter `{}`: expected {}, got {}", self.param, self.expected, self.actual)
    }
}

impl StdError for InvalidInput {}

/// A successful answer whose body could not be decoded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DecodeError {
    action: &'static str,
    kind: DecodeKind,
    request_id: Option<String>,
}

#[derive(Clone, Debug)]
enum DecodeKind {
    Json { message: String, line: usize, column: usize },
    Shape { mismatch: crate::de::Mismatch },
    TooLarge { limit: usize },
}

impl DecodeError {
    pub(crate) fn json(action: &'static str, err: &serde_json::Error, request_id: Option<String>) -> Self {
        Self {
            action,
            kind: DecodeKind::Json { message: err.to_string(), line: err.line(), column: err.column() },
            request_id,
        }
    }

    pub(crate) fn shape(
        action: &'static str,
        mismatch: crate::de::Mismatch,
        request_id: Option<String>,
    ) -> Self {
        Self { action, kind: DecodeKind::Shape { mismatch }, request_id }
    }

    pub(crate) fn too_large(action: &'static str, limit: usize) -> Self {
        Self { action, kind: DecodeKind::TooLarge { limit }, request_id: None }
    }

    /// The operation whose answer could not be decoded.
    pub fn action(&self) -> &str {
        self.action
    }

    /// The 1-based line and column where the body stopped being valid JSON (`None` when it
    /// was JSON of the wrong shape, see [`path`](Self::path), or too large).
    pub fn position(&self) -> Option<(usize, usize)> {
        match &self.kind {
            DecodeKind::Json { line, column, .. } => Some((*line, *column)),
            DecodeKind::Shape { .. } | DecodeKind::TooLarge { .. } => None,
        }
    }

    /// For valid JSON of the wrong shape, the member that did not fit, e.g. `Items[2].ClientId`
    /// (empty when the answer as a whole did not fit).
    pub fn path(&self) -> Option<&str> {
        match &self.kind {
            DecodeKind::Shape { mismatch } => Some(mismatch.path()),
            _ => None,
        }
    }

    /// Whether the body was refused because it exceeded the configured maximum size.
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, DecodeKind::TooLarge { .. })
    }

    /// The request id, when it could be read from the body.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeKind::Json { message, .. } => {
                write!(f, "could not decode the {} response: {message}", self.action)?
            }
            DecodeKind::Shape { mismatch } => {
                write!(f, "could not decode the {} response: {mismatch}", self.action)?
            }
            DecodeKind::TooLarge { limit } => write!(
                f,
                "the {} response body is larger than the configured maximum of {limit} bytes",
                self.action
            )?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl StdError for DecodeError {}

/// The HTTP exchange could not be completed.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    pub(crate) endpoint: String,
    pub(crate) connect: bool,
    pub(crate) attempts: u32,
    pub(crate) source: Box<dyn StdError + Send + Sync>,
}

impl TransportError {
    /// How many attempts were made.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the failure happened while connecting, before anything was sent.
    pub fn is_connect(&self) -> bool {
        self.connect
    }

    /// The endpoint the request went to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.connect { "could not connect to" } else { "the HTTP exchange failed with" };
        write!(
            f,
            "{what} {} after {} attempt{}: {}",
            self.endpoint,
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            root_cause(&*self.source)
        )
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// Which timeout expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the connection (TCP and TLS) took longer than the connect timeout.
    Connect,
    /// Waiting for the response headers or body went longer than the read timeout without data.
    Read,
    /// The whole call, retries included, took longer than its deadline
    /// ([`ConfigBuilder::deadline`](crate::ConfigBuilder::deadline),
    /// [`CallOptions::deadline`](crate::CallOptions::deadline)).
    Deadline,
}

/// A connect or read timeout, or the call's deadline, expired.
#[derive(Debug)]
#[non_exhaustive]
pub struct TimeoutError {
    pub(crate) phase: TimeoutPhase,
    pub(crate) timeout: Duration,
    pub(crate) endpoint: String,
    pub(crate) attempts: u32,
    pub(crate) source: Box<dyn StdError + Send + Sync>,
}

impl TimeoutError {
    /// Whether connecting or reading timed out.
    pub fn phase(&self) -> TimeoutPhase {
        self.phase
    }

    /// The configured timeout (or deadline) that expired.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many attempts were made.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.phase {
            TimeoutPhase::Connect => "connecting to",
            TimeoutPhase::Read => "waiting for the response from",
            TimeoutPhase::Deadline => {
                return write!(
                    f,
                    "the call to {} did not finish within its deadline of {:?} ({} attempt{} made)",
                    self.endpoint,
                    self.timeout,
                    self.attempts,
                    if self.attempts == 1 { "" } else { "s" }
                );
            }
        };
        write!(
            f,
            "timed out {what} {} (timeout {:?}) after {} attempt{}",
            self.endpoint,
            self.timeout,
            self.attempts,
            if self.attempts == 1 { "" } else { "s" }
        )
    }
}

impl StdError for TimeoutError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// The configuration is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// What is wrong, without the `invalid configuration:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.message)
    }
}

impl StdError for ConfigError {}

/// The message of the innermost error of a chain, which is usually the informative one
/// (`Connection refused (os error 111)`, `invalid peer certificate: ...`).
pub(crate) fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    let mut depth = 0;
    while let Some(next) = cur.source() {
        cur = next;
        depth += 1;
        if depth > 32 {
            break;
        }
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, request_id: Option<&str>) -> ServiceError {
        ServiceError {
            status: 400,
            code: code.to_owned(),
            code_in_body: true,
            message: "The ClientId is invalid.".to_owned(),
            request_id: request_id.map(str::to_owned),
            host_id: None,
            recommend: None,
            access_denied_detail: None,
            retry_after: None,
            attempts: 1,
        }
    }

    #[test]
    fn public_constructor() {
        let e = ServiceError::new(400, "InvalidParameter.ClientId", "bad").with_request_id("R");
        assert_eq!(e.to_string(), "InvalidParameter.ClientId: bad (request id R)");
        assert_eq!((e.status(), e.attempts(), e.has_service_code()), (400, 1, true));
    }

    #[test]
    fn service_error_display() {
        let e = service("InvalidParameter.ClientId", Some("E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001"));
        assert_eq!(
            e.to_string(),
            "InvalidParameter.ClientId: The ClientId is invalid. (request id E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001)"
        );
        let e = service("InvalidParameter.ClientId", None);
        assert_eq!(e.to_string(), "InvalidParameter.ClientId: The ClientId is invalid.");
    }

    #[derive(Debug)]
    struct OpError(ServiceError);
    impl fmt::Display for OpError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.fmt(f)
        }
    }
    impl StdError for OpError {}

    #[test]
    fn error_display_and_map_service() {
        let e: Error<ServiceError> = Error::Service(service("Throttling.User", Some("R")));
        assert_eq!(e.to_string(), "Throttling.User: The ClientId is invalid. (request id R)");
        let mapped: Error<OpError> = e.map_service(OpError);
        assert_eq!(mapped.to_string(), "Throttling.User: The ClientId is invalid. (request id R)");
        assert_eq!(mapped.as_service().map(|e| e.0.code()), Some("Throttling.User"));
        assert!(mapped.into_service().is_some());

        let e: Error<OpError> =
            Error::InvalidInput(InvalidInput::new("PageSize", "a value from 1 to 100", "0"));
        assert_eq!(e.to_string(), "invalid parameter `PageSize`: expected a value from 1 to 100, got 0");
        assert!(e.as_service().is_none());
        let e: Error<ServiceError> = e.map_service(|o| o.0);
        assert!(matches!(e, Error::InvalidInput(_)));
    }

    #[test]
    fn transport_error_shows_root_cause_and_keeps_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let t = TransportError {
            endpoint: "http://127.0.0.1:9".to_owned(),
            connect: true,
            attempts: 3,
            source: Box::new(io),
        };
        assert_eq!(
            t.to_string(),
            "could not connect to http://127.0.0.1:9 after 3 attempts: connection refused"
        );
        let e: Error<ServiceError> = Error::Transport(t);
        assert_eq!(e.source().map(|s| s.to_string()).as_deref(), Some("connection refused"));
    }

    #[test]
    fn timeout_and_decode_display() {
        let t = TimeoutError {
            phase: TimeoutPhase::Read,
            timeout: Duration::from_secs(10),
            endpoint: "https://example.cn-hangzhou.aliyuncs.com".to_owned(),
            attempts: 1,
            source: "operation timed out".into(),
        };
        assert_eq!(
            t.to_string(),
            "timed out waiting for the response from https://example.cn-hangzhou.aliyuncs.com (timeout 10s) after 1 attempt"
        );
        let err = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        let d = DecodeError::json("ListInstances", &err, Some("R1".into()));
        assert_eq!(
            d.to_string(),
            "could not decode the ListInstances response: invalid type: string \"x\", expected u32 at line 1 column 3 (request id R1)"
        );
        assert_eq!(d.position(), Some((1, 3)));
        assert!(!d.is_too_large());
        let d = DecodeError::too_large("ListInstances", 10);
        assert!(d.is_too_large());
        assert_eq!(
            d.to_string(),
            "the ListInstances response body is larger than the configured maximum of 10 bytes"
        );
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: Send + Sync + 'static + StdError>() {}
        check::<Error<ServiceError>>();
        check::<ServiceError>();
        check::<TransportError>();
        check::<TimeoutError>();
        check::<DecodeError>();
        check::<ConfigError>();
        check::<InvalidInput>();
        check::<CredentialsError>();
    }
}
