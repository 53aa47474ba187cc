//! Round trips for the tests (feature `roundtrip`): a random request goes out through the typed
//! client and is parsed by the server side; a random output or error is encoded by the server
//! side and decoded by the client. Nothing may change on the way.

use super::{ApiError, Checks, Reply, Wire};
use crate::http::{RawRequest, Respond};
use alibabacloud_onsmqtt::ServiceError;
use arbitrary::{Arbitrary, Result, Unstructured};
use std::sync::Mutex;

impl<'a> Arbitrary<'a> for ApiError {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let status = *u.choose(&[400u16, 403, 404, 409, 429, 500, 503])?;
        let len = u.int_in_range(1..=24)?;
        let mut code = String::with_capacity(len);
        for _ in 0..len {
            code.push(char::from(*u.choose(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.")?));
        }
        let message: String = u.arbitrary()?;
        Ok(ApiError::new(status, code, format!("m{message}")))
    }
}

/// A value within `checks`.
pub fn value<T: Wire>(u: &mut Unstructured<'_>, checks: &Checks) -> Result<T> {
    T::random(u, checks)
}

/// Present or not, within `checks`.
pub fn optional<T: Wire>(u: &mut Unstructured<'_>, checks: &Checks) -> Result<Option<T>> {
    if u.arbitrary()? { T::random(u, checks).map(Some) } else { Ok(None) }
}

/// Up to five elements (at least one when `required`), within `checks.max_items`.
pub fn list<T>(
    u: &mut Unstructured<'_>,
    required: bool,
    checks: &Checks,
    mut element: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let min = usize::from(required);
    let max = checks.max_items.map_or(5, |m| usize::try_from(m).unwrap_or(5).min(5)).max(min);
    let n = u.int_in_range(min..=max)?;
    (0..n).map(|_| element(u)).collect()
}

/// A known or unknown enumeration value.
pub fn enum_value<T: Wire>(u: &mut Unstructured<'_>) -> Result<T> {
    T::random(u, &Checks::NONE)
}

/// [`enum_value`] or nothing.
pub fn opt_enum_value<T: Wire>(u: &mut Unstructured<'_>) -> Result<Option<T>> {
    optional(u, &Checks::NONE)
}

/// A few enumeration values.
pub fn enum_list<T: Wire>(u: &mut Unstructured<'_>) -> Result<Vec<T>> {
    list(u, false, &Checks::NONE, enum_value)
}

/// The answer the test server gives, and what it parsed.
#[derive(Debug, Default)]
pub struct Canned {
    reply: Mutex<Option<(String, Reply)>>,
    parsed: Mutex<Option<Result<String, ApiError>>>,
}

impl Canned {
    /// The reply to `action`'s next requests.
    pub fn set(&self, action: &str, reply: Reply) {
        *self.reply.lock().unwrap_or_else(|p| p.into_inner()) = Some((action.to_owned(), reply));
        *self.parsed.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn take_parsed(&self) -> Option<Result<String, ApiError>> {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Respond for Canned {
    async fn respond(&self, req: RawRequest) -> Reply {
        let parsed = match req.params() {
            Ok(params) => {
                let action =
                    req.header("x-acs-action").or(params.get("Action")).unwrap_or_default().to_owned();
                crate::generated::parse_debug(&action, &params)
                    .unwrap_or_else(|| Err(ApiError::new(404, "InvalidAction.NotFound", action)))
            }
            Err(e) => Err(e),
        };
        *self.parsed.lock().unwrap_or_else(|p| p.into_inner()) = Some(parsed);
        match &*self.reply.lock().unwrap_or_else(|p| p.into_inner()) {
            Some((_, reply)) => reply.clone(),
            None => Reply { status: 500, body: b"{}".to_vec() },
        }
    }
}

/// What the client received.
#[derive(Debug, Clone)]
pub enum Got {
    /// An error answer of the service.
    Service(ServiceError),
    /// Any other failure.
    Other(String),
}

/// One round trip: what went out and what came back, both ways.
#[derive(Debug)]
pub struct Trip {
    /// Whether errors travel inside HTTP 200.
    pub failure_in_body: bool,
    /// The random request, printed.
    pub sent_request: String,
    /// What the server parsed from the client's request, printed; `None` when nothing arrived.
    pub parsed_request: Option<Result<String, ApiError>>,
    /// The random answer, printed (output) or as an error.
    pub sent: std::result::Result<String, ApiError>,
    /// What the client decoded, printed.
    pub got: std::result::Result<String, Got>,
}

impl Trip {
    /// Collects the round trip's results.
    pub fn new(
        failure_in_body: bool,
        sent_request: String,
        canned: &Canned,
        sent: std::result::Result<String, ApiError>,
        got: std::result::Result<String, Got>,
    ) -> Self {
        Self { failure_in_body, sent_request, parsed_request: canned.take_parsed(), sent, got }
    }

    /// What changed on the way, if anything.
    pub fn mismatch(&self) -> Option<String> {
        let failure_in_body = self.failure_in_body;
        match &self.parsed_request {
            Some(Ok(parsed)) if *parsed == self.sent_request => {}
            other => return Some(format!("request sent {}\nparsed {other:?}", self.sent_request)),
        }
        match (&self.sent, &self.got) {
            (Ok(a), Ok(b)) if a == b => None,
            (Err(e), Err(Got::Service(s)))
                if s.code() == e.code
                    && s.message() == e.message
                    && s.status() == if failure_in_body { 200 } else { e.status } =>
            {
                None
            }
            (sent, got) => Some(format!("answer sent {sent:?}\ndecoded {got:?}")),
        }
    }
}
