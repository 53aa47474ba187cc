//! API authentication as the Alibaba Cloud gateway does it: V3 (`ACS3-HMAC-SHA256`, the
//! `Authorization` header) and V1 (HMAC-SHA1, `Signature` in the query), recomputed from the
//! request and compared in constant time; timestamps within 15 minutes; nonces used once; STS
//! tokens matched to their AccessKey.
//!
//! Written here because the runtime crate's verification side (`alibabacloud_runtime::verify`) had
//! not landed when this was built; it follows the same canonicalisation as the runtime's signers.
//!
//! The codes are the gateway's (not in the operations' tables): `IncompleteSignature` (400, a
//! malformed or missing signature), `SignatureDoesNotMatch` (400), `InvalidAccessKeyId.NotFound`
//! (404), `InvalidTimeStamp.Expired` / `InvalidTimeStamp.Format` (400), `SignatureNonceUsed` (400),
//! `InvalidSecurityToken.MismatchWithAccessKey` (400).

use crate::http::RawRequest;
use crate::server::ApiError;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// How far a request's timestamp may be from now.
pub const MAX_SKEW_SECS: i64 = 15 * 60;
/// Most nonces remembered; beyond it, new requests are refused until old nonces age out.
pub const MAX_NONCES: usize = 1 << 20;

/// An account that may call the API.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// Account name (the owner of instances).
    pub name: String,
    /// AccessKey ID.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: String,
    /// When set, requests must carry this STS security token.
    pub security_token: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"***")
            .field("security_token", &self.security_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Which scheme signed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ACS3-HMAC-SHA256.
    V3,
    /// HMAC-SHA1 RPC.
    V1,
}

/// Verifies requests against the accounts, remembering nonces.
#[derive(Debug)]
pub struct Verifier {
    accounts: HashMap<String, Account>,
    nonces: Mutex<HashMap<String, i64>>,
}

const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn pct(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&")
}

fn incomplete(why: &str) -> ApiError {
    ApiError::new(
        400,
        "IncompleteSignature",
        format!("The request signature does not conform to Aliyun standards: {why}."),
    )
}

fn mismatch(string_to_sign: &str) -> ApiError {
    ApiError::new(
        400,
        "SignatureDoesNotMatch",
        format!(
            "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
        ),
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` to Unix seconds.
fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) =
        (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`, the form signed requests carry.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::service::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn now_secs() -> i64 {
    crate::state::now_ms() / 1000
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Verifier {
    /// A verifier for `accounts`.
    pub fn new(accounts: &[Account]) -> Self {
        Self {
            accounts: accounts.iter().map(|a| (a.access_key_id.clone(), a.clone())).collect(),
            nonces: Mutex::default(),
        }
    }

    /// Checks `req`, whose decoded query and form pairs are `pairs`; the account that signed it.
    pub fn verify(
        &self,
        req: &RawRequest,
        pairs: &[(String, String)],
    ) -> Result<(&Account, Scheme), ApiError> {
        let (account, scheme, nonce, timestamp, token) = match req.header("authorization") {
            Some(auth) => self.verify_v3(req, auth)?,
            None => self.verify_v1(req, pairs)?,
        };
        let ts = parse_utc(&timestamp).ok_or_else(|| {
            ApiError::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
        if (now_secs() - ts).abs() > MAX_SKEW_SECS {
            return Err(ApiError::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        match (&account.security_token, token) {
            (None, _) => {}
            (Some(want), Some(got)) if ct_eq(want.as_bytes(), got.as_bytes()) => {}
            (Some(_), _) => {
                return Err(ApiError::new(
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.",
                ));
            }
        }
        self.use_nonce(&nonce, ts)?;
        Ok((account, scheme))
    }

    fn account(&self, id: &str) -> Result<&Account, ApiError> {
        self.accounts.get(id).ok_or_else(|| {
            ApiError::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        })
    }

    fn use_nonce(&self, nonce: &str, ts: i64) -> Result<(), ApiError> {
        if nonce.is_empty() {
            return Err(incomplete("the signature nonce is missing"));
        }
        let mut seen = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        // Nonces older than the timestamp window cannot come back (their timestamp is refused):
        // forget them now and then, and whenever the table is full.
        if seen.len() % 4096 == 4095 {
            let horizon = now_secs() - MAX_SKEW_SECS;
            seen.retain(|_, t| *t >= horizon);
        }
        if seen.len() >= MAX_NONCES {
            let horizon = now_secs() - MAX_SKEW_SECS;
            seen.retain(|_, t| *t >= horizon);
            if seen.len() >= MAX_NONCES {
                return Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    "Too many requests in the timestamp window; retry later.",
                ));
            }
        }
        if seen.insert(nonce.to_owned(), ts).is_some() {
            return Err(ApiError::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn verify_v3<'s>(
        &'s self,
        req: &RawRequest,
        auth: &str,
    ) -> Result<(&'s Account, Scheme, String, String, Option<String>), ApiError> {
        let rest = auth
            .strip_prefix("ACS3-HMAC-SHA256 ")
            .ok_or_else(|| incomplete("unknown signature algorithm"))?;
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            match part.trim().split_once('=') {
                Some(("Credential", v)) => credential = Some(v),
                Some(("SignedHeaders", v)) => signed = Some(v),
                Some(("Signature", v)) => signature = Some(v),
                _ => {}
            }
        }
        let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
            return Err(incomplete("the Authorization header lacks Credential, SignedHeaders or Signature"));
        };
        let account = self.account(credential)?;
        let names: Vec<&str> = signed.split(';').collect();
        for must in [
            "host",
            "x-acs-action",
            "x-acs-content-sha256",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-version",
        ] {
            if !names.contains(&must) {
                return Err(incomplete(&format!("the header {must} is not signed")));
            }
        }
        let mut canonical_headers = String::new();
        for name in &names {
            let value = req
                .header(name)
                .ok_or_else(|| incomplete(&format!("the signed header {name} is missing")))?;
            canonical_headers.push_str(&format!("{name}:{}\n", value.trim()));
        }
        let hashed_payload = req.header("x-acs-content-sha256").unwrap_or_default();
        let body_hash = hex::encode(Sha256::digest(&req.body));
        if hashed_payload != body_hash {
            return Err(incomplete("x-acs-content-sha256 is not the SHA-256 of the body"));
        }
        let query =
            crate::server::params::decode_urlencoded(req.query.as_bytes()).map_err(|e| incomplete(&e))?;
        let canonical_request = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            req.method.as_str(),
            req.path,
            canonical_query(&query),
            canonical_headers,
            signed,
            hashed_payload
        );
        let string_to_sign =
            format!("ACS3-HMAC-SHA256\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())));
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(account.access_key_secret.as_bytes())
            .map_err(|_| incomplete("bad key"))?;
        mac.update(string_to_sign.as_bytes());
        let expected = hex::encode(mac.finalize().into_bytes());
        if !ct_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(mismatch(&string_to_sign));
        }
        let nonce = req.header("x-acs-signature-nonce").unwrap_or_default().to_owned();
        let date = req.header("x-acs-date").unwrap_or_default().to_owned();
        Ok((account, Scheme::V3, nonce, date, req.header("x-acs-security-token").map(str::to_owned)))
    }

    #[allow(clippy::type_complexity)]
    fn verify_v1<'s>(
        &'s self,
        req: &RawRequest,
        pairs: &[(String, String)],
    ) -> Result<(&'s Account, Scheme, String, String, Option<String>), ApiError> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let signature = get("Signature").ok_or_else(|| incomplete("the request carries no signature"))?;
        let id = get("AccessKeyId").ok_or_else(|| incomplete("AccessKeyId is missing"))?;
        let account = self.account(id)?;
        if get("SignatureMethod") != Some("HMAC-SHA1") || get("SignatureVersion") != Some("1.0") {
            return Err(incomplete("SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0"));
        }
        let signed: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "Signature").cloned().collect();
        let string_to_sign = format!("{}&%2F&{}", req.method.as_str(), pct(&canonical_query(&signed)));
        let key = format!("{}&", account.access_key_secret);
        let mut mac =
            <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).map_err(|_| incomplete("bad key"))?;
        mac.update(string_to_sign.as_bytes());
        let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if !ct_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(mismatch(&string_to_sign));
        }
        let nonce = get("SignatureNonce").unwrap_or_default().to_owned();
        let ts = get("Timestamp").unwrap_or_default().to_owned();
        Ok((account, Scheme::V1, nonce, ts, get("SecurityToken").map(str::to_owned)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_timestamps() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2021-05-21T07:08:19Z"), Some(1_621_580_899));
        assert_eq!(parse_utc("2021-13-21T07:08:19Z"), None);
        assert_eq!(parse_utc("2021-05-21 07:08:19"), None);
        assert_eq!(format_utc(1_621_580_899), "2021-05-21T07:08:19Z");
    }

    #[test]
    fn debug_hides_secrets() {
        let a = Account {
            name: "n".into(),
            access_key_id: "id".into(),
            access_key_secret: "hunter2".into(),
            security_token: Some("tok".into()),
        };
        let d = format!("{a:?}");
        assert!(!d.contains("hunter2") && !d.contains("tok\""));
    }
}
