//! The hand-written half of the server side: what the generated code in
//! [`crate::generated`] calls to read parameters, check constraints and encode answers.
//!
//! Choices where the service's documentation is silent (each answer is what the real gateway is
//! known to send, or the closest code of the operation's own table):
//! - A required parameter left out: `InvalidParameter.<Name>` when the operation lists that
//!   templated code, else its `ParameterCheckFailed` / `ParameterFieldCheckFailed` /
//!   `InvalidParameter`, else the gateway's `MissingParameter` (HTTP 400).
//! - A value that is not of its type or breaks a declared bound: the same codes, with the gateway's
//!   `InvalidParameter` (HTTP 400) as the fallback.
//! - The same parameter twice (in the query, the body or both): the first one counts.

pub mod params;
#[cfg(feature = "roundtrip")]
pub mod roundtrip;

pub use params::{Params, Reader};

use std::fmt;

/// Declared constraints of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checks {
    /// Smallest allowed integer.
    pub minimum: Option<i64>,
    /// Largest allowed integer.
    pub maximum: Option<i64>,
    /// Fewest characters.
    pub min_length: Option<u64>,
    /// Most characters.
    pub max_length: Option<u64>,
    /// Most list elements.
    pub max_items: Option<u64>,
}

impl Checks {
    /// No constraint.
    pub const NONE: Checks =
        Checks { minimum: None, maximum: None, min_length: None, max_length: None, max_items: None };

    /// With a smallest integer.
    pub const fn minimum(self, v: i64) -> Self {
        Self { minimum: Some(v), ..self }
    }

    /// With a largest integer.
    pub const fn maximum(self, v: i64) -> Self {
        Self { maximum: Some(v), ..self }
    }

    /// With a fewest characters.
    pub const fn min_length(self, v: u64) -> Self {
        Self { min_length: Some(v), ..self }
    }

    /// With a most characters.
    pub const fn max_length(self, v: u64) -> Self {
        Self { max_length: Some(v), ..self }
    }

    /// With a most list elements.
    pub const fn max_items(self, v: u64) -> Self {
        Self { max_items: Some(v), ..self }
    }
}

/// The codes an operation answers a bad parameter with, from its error table.
#[derive(Debug, Clone, Copy)]
pub struct Codes {
    /// `InvalidParameter.` (the parameter name follows) and its status, when the table lists it.
    pub templated: Option<(&'static str, u16)>,
    /// A fixed code such as `ParameterCheckFailed`, when the table lists one.
    pub fixed: Option<(&'static str, u16)>,
}

impl Codes {
    /// The answer to a parameter that is missing (`missing`) or invalid.
    pub fn reject(&self, name: &str, missing: bool, why: &str) -> ApiError {
        let message = if missing {
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            )
        } else {
            format!("The specified parameter \"{name}\" is not valid: {why}.")
        };
        if let Some((prefix, status)) = self.templated {
            return ApiError::new(status, format!("{prefix}{name}"), message);
        }
        if let Some((code, status)) = self.fixed {
            return ApiError::new(status, code, message);
        }
        let code = if missing { "MissingParameter" } else { "InvalidParameter" };
        ApiError::new(400, code, message)
    }
}

/// An error answer: HTTP status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The code, e.g. `InstanceNotFound`.
    pub code: String,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// An error answer. The service never sends an empty message (a client takes one for none):
    /// an empty `message` becomes a generic one.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.is_empty() {
            message.push_str("The request failed.");
        }
        Self { status, code: code.into(), message }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (HTTP {}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The catch-all variant every generated error enum has.
pub trait OtherError {
    /// `Other(e)`.
    fn other(e: ApiError) -> Self;
}

/// Who is calling and which request this is.
#[derive(Debug, Clone)]
pub struct Context {
    /// The ID of this request, sent back as `RequestId`.
    pub request_id: String,
    /// The AccessKey ID that signed the request.
    pub access_key_id: String,
    /// The account that AccessKey belongs to.
    pub account: String,
}

impl Context {
    /// A context for tests that bypass authentication.
    pub fn for_tests() -> Self {
        Self { request_id: new_request_id(), access_key_id: "test".to_owned(), account: "test".to_owned() }
    }
}

/// A new request ID in the service's format (an upper-case UUID).
pub fn new_request_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        b = fastrand::u128(..).to_le_bytes();
    }
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// An encoded answer: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

/// A success answer.
pub fn ok_reply<T: serde::Serialize>(out: &T) -> Reply {
    match serde_json::to_vec(out) {
        Ok(body) => Reply { status: 200, body },
        Err(e) => error_reply(
            &Context::for_tests(),
            ApiError::new(500, "InternalError", format!("cannot encode the answer: {e}")),
            false,
        ),
    }
}

/// An error answer; for operations that report failures in the body, an HTTP 200 carrying
/// `Success: false`.
pub fn error_reply(ctx: &Context, e: ApiError, failure_in_body: bool) -> Reply {
    let body = if failure_in_body {
        serde_json::json!({
            "RequestId": ctx.request_id,
            "Success": false,
            "Code": e.code,
            "Message": e.message,
        })
    } else {
        serde_json::json!({
            "RequestId": ctx.request_id,
            "HostId": "onsmqtt.local",
            "Code": e.code,
            "Message": e.message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}", e.code),
        })
    };
    let status = if failure_in_body { 200 } else { e.status };
    Reply { status, body: serde_json::to_vec(&body).unwrap_or_default() }
}

/// A value read from its wire text, and the checks a declared bound makes on it.
pub trait Wire: Sized {
    /// `None` when the text is not a value of the type.
    fn from_wire(value: &str) -> Option<Self>;

    /// Why the value breaks `checks`, if it does.
    fn violates(&self, checks: &Checks) -> Option<String> {
        let _ = checks;
        None
    }

    /// A random value within `checks`, for the round-trip tests.
    #[cfg(feature = "roundtrip")]
    fn random(u: &mut arbitrary::Unstructured<'_>, checks: &Checks) -> arbitrary::Result<Self> {
        let _ = checks;
        let pick: usize = u.int_in_range(0..=crate::generated::ENUM_VALUES.len())?;
        let text = crate::generated::ENUM_VALUES.get(pick).copied().unwrap_or("SOMETHING_NEW");
        Self::from_wire(text).ok_or(arbitrary::Error::IncorrectFormat)
    }
}

impl Wire for String {
    fn from_wire(value: &str) -> Option<Self> {
        Some(value.to_owned())
    }

    fn violates(&self, checks: &Checks) -> Option<String> {
        let n = self.chars().count() as u64;
        match (checks.min_length, checks.max_length) {
            (Some(lo), _) if n < lo => Some(format!("shorter than {lo} characters")),
            (_, Some(hi)) if n > hi => Some(format!("longer than {hi} characters")),
            _ => None,
        }
    }

    #[cfg(feature = "roundtrip")]
    fn random(u: &mut arbitrary::Unstructured<'_>, checks: &Checks) -> arbitrary::Result<Self> {
        let s: String = u.arbitrary()?;
        let max = checks.max_length.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        let mut s: String = s.chars().take(max).collect();
        let min = checks.min_length.map_or(0, |m| usize::try_from(m).unwrap_or(0));
        while s.chars().count() < min {
            s.push('a');
        }
        Ok(s)
    }
}

impl Wire for bool {
    fn from_wire(value: &str) -> Option<Self> {
        // The Python SDK sends `True`/`False`.
        if value.eq_ignore_ascii_case("true") {
            Some(true)
        } else if value.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }

    #[cfg(feature = "roundtrip")]
    fn random(u: &mut arbitrary::Unstructured<'_>, _: &Checks) -> arbitrary::Result<Self> {
        u.arbitrary()
    }
}

macro_rules! wire_int {
    ($t:ty) => {
        impl Wire for $t {
            fn from_wire(value: &str) -> Option<Self> {
                value.trim().parse().ok()
            }

            fn violates(&self, checks: &Checks) -> Option<String> {
                let v = i64::from(*self);
                match (checks.minimum, checks.maximum) {
                    (Some(lo), _) if v < lo => Some(format!("less than {lo}")),
                    (_, Some(hi)) if v > hi => Some(format!("greater than {hi}")),
                    _ => None,
                }
            }

            #[cfg(feature = "roundtrip")]
            fn random(u: &mut arbitrary::Unstructured<'_>, checks: &Checks) -> arbitrary::Result<Self> {
                let lo = checks.minimum.map_or(<$t>::MIN, |m| <$t>::try_from(m).unwrap_or(<$t>::MIN));
                let hi = checks.maximum.map_or(<$t>::MAX, |m| <$t>::try_from(m).unwrap_or(<$t>::MAX));
                if lo > hi { Ok(lo) } else { u.int_in_range(lo..=hi) }
            }
        }
    };
}

wire_int!(i32);
wire_int!(i64);

/// `Debug` of a sensitive value, as the client prints it: `***`, or `Some(***)` / `None`.
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

impl fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T> fmt::Debug for Redacted<'_, Option<T>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(***)" } else { "None" })
    }
}

/// Serialisers for values the wire spells as text: enumerations, and numbers or booleans the
/// spec marks `wire: string`.
pub mod ser {
    use serde::Serializer;
    use std::fmt::Display;

    /// As its text.
    pub fn display<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// As its text; `None` is left out by `skip_serializing_if`.
    pub fn opt_display<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// A list of texts.
    pub fn display_list<T: Display, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(ToString::to_string))
    }
}
