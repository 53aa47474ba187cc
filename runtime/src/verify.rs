//! The server side of request signing: read who claims to have signed a received request, then
//! recompute its signature with that caller's secret and compare, V3 (ACS3-HMAC-SHA256) or V1
//! (RPC HMAC-SHA1), as Alibaba Cloud's API gateway does.
//!
//! ```
//! use alibabacloud_runtime::verify::{self, Request};
//!
//! # fn check(method: &str, raw_query: &str, headers: &http::HeaderMap, body: &[u8]) -> Result<(), verify::VerifyError> {
//! let request = Request { method, path: "/", query: raw_query, headers, body };
//! let claim = verify::claim(&request)?; // who signed, and how
//! let secret = "the secret of claim.access_key_id(), from your account store";
//! verify::verify(&request, &claim, secret)?; // SignatureDoesNotMatch and friends
//! # Ok(())
//! # }
//! ```
//!
//! What is checked here: the signature, that the headers which matter are signed (V3: `host` and
//! every `x-acs-*` header), that the V3 payload hash is the body's, and the V1 signature method and
//! version. What the server checks itself: whether the AccessKey exists and its security token
//! is valid, the timestamp's age ([`Claim::timestamp`] parses it) and nonce reuse.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::config::SignatureVersion;
use crate::encode::canonical_query;
use crate::sign::{self, V3_ALGORITHM};

/// A request as the server received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The path, as received (Alibaba Cloud's RPC APIs use `/`).
    pub path: &'a str,
    /// The raw query string, without `?`, still percent-encoded.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a http::HeaderMap,
    /// The raw body.
    pub body: &'a [u8],
}

/// Who claims to have signed a request, and the facts of the claim a server checks itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Claim {
    version: SignatureVersion,
    access_key_id: String,
    security_token: Option<String>,
    date: Option<String>,
    nonce: Option<String>,
    action: Option<String>,
    api_version: Option<String>,
    /// V3: the `SignedHeaders` list; V1: empty.
    signed_headers: Vec<String>,
    signature: String,
}

impl Claim {
    /// The signature scheme the request uses.
    pub fn signature_version(&self) -> SignatureVersion {
        self.version
    }

    /// The AccessKey ID the request names.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The STS security token, when the request carries one.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// The request time as sent (`x-acs-date`, or V1's `Timestamp`).
    pub fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }

    /// The request time, parsed; `InvalidTimeStamp.Format` when it is missing or malformed.
    pub fn timestamp(&self) -> Result<SystemTime, VerifyError> {
        let date = self.date.as_deref().ok_or(VerifyError::MissingTimestamp)?;
        crate::time::parse_utc(date).ok_or(VerifyError::BadTimestamp)
    }

    /// The signature nonce (`x-acs-signature-nonce`, or V1's `SignatureNonce`).
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The action (`x-acs-action`, or V1's `Action`).
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// The API version (`x-acs-version`, or V1's `Version`).
    pub fn api_version(&self) -> Option<&str> {
        self.api_version.as_deref()
    }
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("version", &self.version)
            .field("access_key_id", &self.access_key_id)
            .field("security_token", &self.security_token.as_ref().map(|_| "***"))
            .field("date", &self.date)
            .field("nonce", &self.nonce)
            .field("action", &self.action)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

/// Why a request's signature is not accepted. [`code`](Self::code) and
/// [`status`](Self::status) are what Alibaba Cloud answers in each case.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// Neither an `Authorization` header nor a V1 `Signature` parameter.
    MissingSignature,
    /// The `Authorization` header or the V1 parameters are malformed or incomplete.
    IncompleteSignature(String),
    /// An algorithm, signature method or signature version this verifier does not know.
    UnsupportedSignature(String),
    /// A header that must be signed (`host`, `x-acs-*`) is not in `SignedHeaders`.
    UnsignedHeader(String),
    /// `x-acs-content-sha256` is missing or is not the hash of the body.
    ContentHashMismatch,
    /// No AccessKey ID.
    MissingAccessKeyId,
    /// No timestamp.
    MissingTimestamp,
    /// The timestamp is not `YYYY-MM-DDTHH:MM:SSZ`.
    BadTimestamp,
    /// The query or form body is not valid percent-encoded UTF-8.
    BadEncoding,
    /// The signature does not match the one computed with the caller's secret.
    SignatureDoesNotMatch {
        /// What the server signed (V3: the string to sign; V1: the string to sign), to help the
        /// caller find the difference. It holds no secret.
        string_to_sign: String,
    },
}

impl VerifyError {
    /// The error code Alibaba Cloud answers with.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingSignature => "MissingSignature",
            VerifyError::IncompleteSignature(_) | VerifyError::UnsignedHeader(_) => "IncompleteSignature",
            VerifyError::UnsupportedSignature(_) => "InvalidSignatureMethod",
            VerifyError::ContentHashMismatch => "ContentSHA256NotMatched",
            VerifyError::MissingAccessKeyId => "MissingAccessKeyId",
            VerifyError::MissingTimestamp => "MissingTimestamp",
            VerifyError::BadTimestamp => "InvalidTimeStamp.Format",
            VerifyError::BadEncoding => "InvalidParameter",
            VerifyError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status Alibaba Cloud answers with (400 for all of these).
    pub fn status(&self) -> u16 {
        400
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingSignature => f.write_str("the request is not signed"),
            VerifyError::IncompleteSignature(why) => write!(f, "the signature is incomplete: {why}"),
            VerifyError::UnsupportedSignature(what) => write!(f, "unsupported signature: {what}"),
            VerifyError::UnsignedHeader(name) => write!(f, "the header {name} must be signed"),
            VerifyError::ContentHashMismatch => {
                f.write_str("x-acs-content-sha256 is missing or is not the SHA-256 of the body")
            }
            VerifyError::MissingAccessKeyId => f.write_str("the request names no AccessKey ID"),
            VerifyError::MissingTimestamp => f.write_str("the request carries no timestamp"),
            VerifyError::BadTimestamp => f.write_str("the timestamp is not in the form YYYY-MM-DDTHH:MM:SSZ"),
            VerifyError::BadEncoding => f.write_str("the query or body is not valid percent-encoded UTF-8"),
            VerifyError::SignatureDoesNotMatch { string_to_sign } => write!(
                f,
                "the request signature does not match the one computed; the server signed {string_to_sign:?}"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Decodes `application/x-www-form-urlencoded` data (a query string or a form body) into pairs,
/// in order: `+` is a space, `%XX` a byte, and the result must be UTF-8. A pair without `=` has an
/// empty value; empty pieces (`a=1&&b=2`) are skipped.
pub fn decode_form(raw: &[u8]) -> Result<Vec<(String, String)>, VerifyError> {
    let mut out = Vec::new();
    for piece in raw.split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &b""[..]),
        };
        out.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(out)
}

fn decode_component(raw: &[u8]) -> Result<String, VerifyError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).ok_or(VerifyError::BadEncoding)?;
                let text = std::str::from_utf8(hex).map_err(|_| VerifyError::BadEncoding)?;
                bytes.push(u8::from_str_radix(text, 16).map_err(|_| VerifyError::BadEncoding)?);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| VerifyError::BadEncoding)
}

/// One header's value as text; several values join with `,`.
fn header_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Vec<Cow<'_, str>> = values.map(|v| String::from_utf8_lossy(v.as_bytes())).collect();
    Some(parts.join(","))
}

/// Reads the claim of a request: V3 when it has an `Authorization` header, V1 when its query
/// has a `Signature`.
pub fn claim(req: &Request<'_>) -> Result<Claim, VerifyError> {
    if let Some(auth) = header_text(req.headers, "authorization") {
        return claim_v3(req, &auth);
    }
    let query = decode_form(req.query.as_bytes())?;
    if query.iter().any(|(k, _)| k == "Signature") {
        return claim_v1(&query);
    }
    Err(VerifyError::MissingSignature)
}

fn claim_v3(req: &Request<'_>, auth: &str) -> Result<Claim, VerifyError> {
    let incomplete = |why: &str| VerifyError::IncompleteSignature(why.to_owned());
    let (algorithm, rest) = auth.trim().split_once(' ').ok_or_else(|| incomplete("no algorithm"))?;
    if algorithm != V3_ALGORITHM {
        return Err(VerifyError::UnsupportedSignature(format!("algorithm {algorithm:?}")));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or_else(|| incomplete("a part without '='"))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return Err(incomplete("an unknown part")),
        };
        if slot.replace(value.to_owned()).is_some() {
            return Err(incomplete("a part given twice"));
        }
    }
    let access_key_id = credential.filter(|c| !c.is_empty()).ok_or(VerifyError::MissingAccessKeyId)?;
    let signed = signed.ok_or_else(|| incomplete("no SignedHeaders"))?;
    let signature = signature.filter(|s| !s.is_empty()).ok_or_else(|| incomplete("no Signature"))?;
    let signed_headers: Vec<String> = signed.split(';').map(str::to_owned).collect();
    if signed_headers.iter().any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase())) {
        return Err(incomplete("SignedHeaders must list lowercase header names"));
    }
    let header = |name: &str| header_text(req.headers, name);
    Ok(Claim {
        version: SignatureVersion::V3,
        access_key_id,
        security_token: header("x-acs-security-token"),
        date: header("x-acs-date"),
        nonce: header("x-acs-signature-nonce"),
        action: header("x-acs-action"),
        api_version: header("x-acs-version"),
        signed_headers,
        signature,
    })
}

fn claim_v1(query: &[(String, String)]) -> Result<Claim, VerifyError> {
    let mut seen = std::collections::HashSet::new();
    let mut get = |name: &str| -> Result<Option<String>, VerifyError> {
        let mut values = query.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.clone());
        if values.next().is_some() && seen.insert(name.to_owned()) {
            return Err(VerifyError::IncompleteSignature(format!("{name} given twice")));
        }
        Ok(first)
    };
    let method = get("SignatureMethod")?;
    if method.as_deref() != Some("HMAC-SHA1") {
        return Err(VerifyError::UnsupportedSignature(format!("SignatureMethod {method:?}")));
    }
    let version = get("SignatureVersion")?;
    if version.as_deref() != Some("1.0") {
        return Err(VerifyError::UnsupportedSignature(format!("SignatureVersion {version:?}")));
    }
    let access_key_id =
        get("AccessKeyId")?.filter(|v| !v.is_empty()).ok_or(VerifyError::MissingAccessKeyId)?;
    let signature = get("Signature")?.filter(|v| !v.is_empty()).ok_or(VerifyError::MissingSignature)?;
    Ok(Claim {
        version: SignatureVersion::V1,
        access_key_id,
        security_token: get("SecurityToken")?,
        date: get("Timestamp")?,
        nonce: get("SignatureNonce")?,
        action: get("Action")?,
        api_version: get("Version")?,
        signed_headers: Vec::new(),
        signature,
    })
}

/// Recomputes the signature of `req` with `secret` (the secret of [`Claim::access_key_id`]) and
/// compares it with the one the request carries, in constant time.
pub fn verify(req: &Request<'_>, claim: &Claim, secret: &str) -> Result<(), VerifyError> {
    match claim.version {
        SignatureVersion::V3 => verify_v3(req, claim, secret),
        SignatureVersion::V1 => verify_v1(req, claim, secret),
    }
}

fn verify_v3(req: &Request<'_>, claim: &Claim, secret: &str) -> Result<(), VerifyError> {
    // The headers that decide what the request does must be covered by the signature.
    for name in req.headers.keys() {
        let name = name.as_str();
        let must_sign = name == "host" || (name.starts_with("x-acs-") && name != "x-acs-signature");
        if must_sign && !claim.signed_headers.iter().any(|h| h == name) {
            return Err(VerifyError::UnsignedHeader(name.to_owned()));
        }
    }
    if !claim.signed_headers.iter().any(|h| h == "host") {
        return Err(VerifyError::UnsignedHeader("host".to_owned()));
    }
    let body_hash = sign::sha256_hex(req.body);
    match header_text(req.headers, "x-acs-content-sha256") {
        Some(declared) if declared.trim().eq_ignore_ascii_case(&body_hash) => {}
        _ => return Err(VerifyError::ContentHashMismatch),
    }
    let mut signed: Vec<(String, String)> = Vec::with_capacity(claim.signed_headers.len());
    for name in &claim.signed_headers {
        let value = header_text(req.headers, name).ok_or_else(|| {
            VerifyError::IncompleteSignature(format!("the signed header {name} is missing"))
        })?;
        signed.push((name.clone(), value));
    }
    let pairs = decode_form(req.query.as_bytes())?;
    let query = canonical_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let expected = sign::v3_sign_pairs(
        req.method,
        req.path,
        &query,
        signed.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        &body_hash,
        secret,
    );
    if constant_time_eq(expected.signature.as_bytes(), claim.signature.to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::SignatureDoesNotMatch { string_to_sign: expected.string_to_sign })
    }
}

fn verify_v1(req: &Request<'_>, claim: &Claim, secret: &str) -> Result<(), VerifyError> {
    let mut params = decode_form(req.query.as_bytes())?;
    let is_form = header_text(req.headers, "content-type")
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with(sign::FORM_CONTENT_TYPE));
    if is_form && !req.body.is_empty() {
        params.extend(decode_form(req.body)?);
    }
    let string_to_sign =
        sign::v1_string_to_sign(req.method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let expected = sign::v1_signature(secret, &string_to_sign);
    if constant_time_eq(expected.as_bytes(), claim.signature.as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::SignatureDoesNotMatch { string_to_sign })
    }
}

/// Equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0
}

/// The hex SHA-256 of a body, as `x-acs-content-sha256` carries it.
pub fn content_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::params::{Location, Params};
    use crate::sign::{RequestContext, SignedRequest, sign_v1, sign_v3};

    fn params() -> Params {
        let mut p = Params::new();
        p.push(Location::Query, "InstanceId", "post-cn-0pp12gl****");
        p.push(Location::Query, "ClientId", "GID_test@@@a b+c/é");
        p.push(Location::Form, "Tag.1.Key", "k=v&x");
        p
    }

    fn ctx(method: &'static http::Method) -> RequestContext<'static> {
        RequestContext {
            action: "DescribeThings",
            version: "2020-04-20",
            method,
            host: "example.cn-hangzhou.aliyuncs.com",
            user_agent: "test",
            date: "2026-12-01T10:00:00Z",
            nonce: "0123456789abcdef0123456789abcdef",
            extra_headers: &[],
        }
    }

    fn headers_of(signed: &SignedRequest) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (n, v) in &signed.headers {
            map.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn check(signed: &SignedRequest, method: &str, secret: &str) -> Result<Claim, VerifyError> {
        let headers = headers_of(signed);
        let req = Request { method, path: "/", query: &signed.query, headers: &headers, body: &signed.body };
        let claim = claim(&req)?;
        verify(&req, &claim, secret)?;
        Ok(claim)
    }

    #[test]
    fn accepts_what_the_signers_sign() {
        let plain = Credentials::new("AKID", "s3cret");
        let sts = Credentials::new("STS.AKID", "s3cret").with_security_token("tok/en+=");
        for creds in [&plain, &sts] {
            for method in [&http::Method::POST, &http::Method::GET] {
                let v3 = sign_v3(&ctx(method), &params(), creds);
                let claim = check(&v3, method.as_str(), "s3cret").unwrap();
                assert_eq!(claim.signature_version(), SignatureVersion::V3);
                assert_eq!(claim.access_key_id(), creds.access_key_id());
                assert_eq!(claim.security_token(), creds.security_token());
                assert_eq!(claim.action(), Some("DescribeThings"));
                assert_eq!(claim.api_version(), Some("2020-04-20"));
                assert_eq!(claim.nonce(), Some("0123456789abcdef0123456789abcdef"));
                assert!(claim.timestamp().is_ok());

                let v1 = sign_v1(&ctx(method), &params(), creds);
                let claim = check(&v1, method.as_str(), "s3cret").unwrap();
                assert_eq!(claim.signature_version(), SignatureVersion::V1);
                assert_eq!(claim.access_key_id(), creds.access_key_id());
                assert_eq!(claim.security_token(), creds.security_token());
                assert_eq!(claim.date(), Some("2026-12-01T10:00:00Z"));
                assert!(!format!("{claim:?}").contains("tok/en"));
            }
        }
    }

    #[test]
    fn refuses_a_wrong_secret_or_an_altered_request() {
        let creds = Credentials::new("AKID", "s3cret");
        let v3 = sign_v3(&ctx(&http::Method::POST), &params(), &creds);
        let e = check(&v3, "POST", "other").unwrap_err();
        assert_eq!(e.code(), "SignatureDoesNotMatch");
        assert_eq!(check(&v3, "GET", "s3cret").unwrap_err().code(), "SignatureDoesNotMatch");

        let mut altered = v3.clone();
        altered.query = altered.query.replace("InstanceId=", "InstanceId=x");
        assert_eq!(check(&altered, "POST", "s3cret").unwrap_err().code(), "SignatureDoesNotMatch");

        let mut altered = v3.clone();
        altered.body.push(b'1');
        assert_eq!(check(&altered, "POST", "s3cret").unwrap_err(), VerifyError::ContentHashMismatch);

        let mut altered = v3.clone();
        for (n, v) in &mut altered.headers {
            if n == "x-acs-action" {
                *v = "DeleteThings".to_owned();
            }
        }
        assert_eq!(check(&altered, "POST", "s3cret").unwrap_err().code(), "SignatureDoesNotMatch");

        // An x-acs header added after signing is refused, not ignored.
        let mut altered = v3.clone();
        altered.headers.push(("x-acs-extra".to_owned(), "1".to_owned()));
        assert_eq!(check(&altered, "POST", "s3cret").unwrap_err().code(), "IncompleteSignature");

        let v1 = sign_v1(&ctx(&http::Method::POST), &params(), &creds);
        assert_eq!(check(&v1, "POST", "other").unwrap_err().code(), "SignatureDoesNotMatch");
        let mut altered = v1.clone();
        altered.body = b"Tag.1.Key=other".to_vec();
        assert_eq!(check(&altered, "POST", "s3cret").unwrap_err().code(), "SignatureDoesNotMatch");
        let mut altered = v1.clone();
        altered.query = altered.query.replace("HMAC-SHA1", "HMAC-SHA256");
        assert_eq!(check(&altered, "POST", "s3cret").unwrap_err().code(), "InvalidSignatureMethod");
    }

    #[test]
    fn malformed_claims_are_errors() {
        let headers = http::HeaderMap::new();
        let req = Request { method: "POST", path: "/", query: "Action=X", headers: &headers, body: b"" };
        assert_eq!(claim(&req).unwrap_err(), VerifyError::MissingSignature);
        let req = Request { method: "POST", path: "/", query: "a=%zz", headers: &headers, body: b"" };
        assert_eq!(claim(&req).unwrap_err(), VerifyError::BadEncoding);
        let req = Request { method: "POST", path: "/", query: "a=%FF", headers: &headers, body: b"" };
        assert_eq!(claim(&req).unwrap_err(), VerifyError::BadEncoding);
        for auth in [
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 Credential=A,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=A,SignedHeaders=Host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=A,Credential=B,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=A,Bogus=1,SignedHeaders=host,Signature=ab",
            "HMAC-MD5 Credential=A,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=ab",
        ] {
            let mut headers = http::HeaderMap::new();
            headers.insert("authorization", http::HeaderValue::from_str(auth).unwrap());
            let req = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"" };
            assert!(claim(&req).is_err(), "{auth}");
        }
        for query in [
            "Signature=x&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0",
            "Signature=x&SignatureMethod=HMAC-SHA1&SignatureVersion=2.0&AccessKeyId=A",
            "Signature=&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=A",
            "Signature=x&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=A&AccessKeyId=B",
        ] {
            let req = Request { method: "POST", path: "/", query, headers: &headers, body: b"" };
            assert!(claim(&req).is_err(), "{query}");
        }
        let req = Request {
            method: "POST",
            path: "/",
            query: "Signature=x&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=A&Timestamp=soon",
            headers: &headers,
            body: b"",
        };
        assert_eq!(claim(&req).unwrap().timestamp().unwrap_err().code(), "InvalidTimeStamp.Format");
    }

    /// The published examples, as a server receives them, verify with their secret and fail
    /// with another.
    #[test]
    fn published_vectors_verify() {
        let v = crate::sign::tests::vectors();
        for case in v["v1"].as_array().unwrap() {
            let mut params = crate::sign::tests::str_map(&case["params"]);
            params.push(("Signature".to_owned(), case["signature"].as_str().unwrap().to_owned()));
            let query = canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let headers = http::HeaderMap::new();
            let method = case["method"].as_str().unwrap();
            let req = Request { method, path: "/", query: &query, headers: &headers, body: b"" };
            let claim = claim(&req).unwrap();
            verify(&req, &claim, case["secret"].as_str().unwrap()).unwrap();
            assert_eq!(verify(&req, &claim, "wrong").unwrap_err().code(), "SignatureDoesNotMatch");
        }
        for case in v["v3"].as_array().unwrap() {
            let query = crate::sign::tests::str_map(&case["query"]);
            let query = canonical_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let mut headers = http::HeaderMap::new();
            for (n, v) in crate::sign::tests::str_map(&case["headers"]) {
                headers.insert(http::HeaderName::from_bytes(n.as_bytes()).unwrap(), v.parse().unwrap());
            }
            headers.insert("authorization", case["authorization"].as_str().unwrap().parse().unwrap());
            let method = case["method"].as_str().unwrap();
            let body = case["body"].as_str().unwrap().as_bytes();
            let req = Request { method, path: "/", query: &query, headers: &headers, body };
            let claim = claim(&req).unwrap();
            assert_eq!(claim.access_key_id(), case["access_key_id"].as_str().unwrap());
            verify(&req, &claim, case["secret"].as_str().unwrap()).unwrap();
            assert_eq!(verify(&req, &claim, "wrong").unwrap_err().code(), "SignatureDoesNotMatch");
        }
    }

    #[test]
    fn form_decoding() {
        assert_eq!(
            decode_form(b"a=1&&b=x+y%2B%20&c&d=%E9").unwrap_err(),
            VerifyError::BadEncoding,
            "a lone %E9 is not UTF-8"
        );
        let pairs = decode_form(b"a=1&&b=x+y%2B%20&c&%C3%A9=%C3%A9").unwrap();
        let expect = [("a", "1"), ("b", "x y+ "), ("c", ""), ("é", "é")];
        assert_eq!(pairs.len(), expect.len());
        for ((k, v), (ek, ev)) in pairs.iter().zip(expect) {
            assert_eq!((k.as_str(), v.as_str()), (ek, ev));
        }
        assert_eq!(content_sha256(b""), sign::EMPTY_SHA256);
    }
}
