//! API authentication as the Alibaba Cloud gateway does it. The signature itself (V3
//! `ACS3-HMAC-SHA256` and V1 HMAC-SHA1: who claims to have signed, recomputed and compared) is the
//! runtime's verification side, `alibabacloud_runtime::verify`; this module adds what a server
//! decides for itself: the AccessKey exists, the timestamp is within 15 minutes, a nonce is used
//! once, an STS token matches its AccessKey.
//!
//! Codes (the gateway's, not in the operations' tables): those of
//! [`VerifyError::code`](alibabacloud_runtime::verify::VerifyError::code) (`SignatureDoesNotMatch`,
//! `IncompleteSignature`, `MissingSignature`, ... all HTTP 400), `InvalidAccessKeyId.NotFound`
//! (404), `InvalidTimeStamp.Expired` (400), `SignatureNonceUsed` (400),
//! `InvalidSecurityToken.MismatchWithAccessKey` (400).

use crate::http::RawRequest;
use crate::server::ApiError;
use alibabacloud_runtime::SignatureVersion;
use alibabacloud_runtime::verify::{self, VerifyError};
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

fn rejected(e: &VerifyError) -> ApiError {
    let message = match e {
        VerifyError::SignatureDoesNotMatch { string_to_sign } => {
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            )
        }
        other => format!("The request signature does not conform to Aliyun standards: {other}."),
    };
    ApiError::new(e.status(), e.code(), message)
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

    /// Checks `req`: the account that signed it and how.
    pub fn verify(&self, req: &RawRequest) -> Result<(&Account, Scheme), ApiError> {
        let request = verify::Request {
            method: req.method.as_str(),
            path: &req.path,
            query: &req.query,
            headers: &req.headers,
            body: &req.body,
        };
        let claim = verify::claim(&request).map_err(|e| rejected(&e))?;
        let account = self.account(claim.access_key_id())?;
        verify::verify(&request, &claim, &account.access_key_secret).map_err(|e| rejected(&e))?;
        let ts = claim.date().and_then(parse_utc).ok_or_else(|| rejected(&VerifyError::BadTimestamp))?;
        if (now_secs() - ts).abs() > MAX_SKEW_SECS {
            return Err(ApiError::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        match (&account.security_token, claim.security_token()) {
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
        self.use_nonce(claim.nonce().unwrap_or_default(), ts)?;
        let scheme = match claim.signature_version() {
            SignatureVersion::V1 => Scheme::V1,
            _ => Scheme::V3,
        };
        Ok((account, scheme))
    }

    fn account(&self, id: &str) -> Result<&Account, ApiError> {
        self.accounts.get(id).ok_or_else(|| {
            ApiError::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        })
    }

    fn use_nonce(&self, nonce: &str, ts: i64) -> Result<(), ApiError> {
        if nonce.is_empty() {
            return Err(ApiError::new(
                400,
                "MissingSignatureNonce",
                "The input parameter \"SignatureNonce\" that is mandatory for processing this request is not supplied.",
            ));
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
