//! **Not API.** Hooks for the benchmarks (`benches/` in the repository) into the crate-private
//! request path: parameter encoding, the canonical query and the two signers.
//! Hidden from the docs and exempt from semver: anything here may change or vanish in any release.

use std::borrow::Cow;

use super::client::ClientCore;
use super::credentials::Credentials;
use super::encode;
use super::params::{Location, Operation, Params};
use super::sign::{self, RequestContext, SignedRequest};

/// Request parameters, as the generated `encode` functions build them.
#[derive(Clone, Debug)]
pub struct BenchParams(Params);

/// Builds parameters the way generated code does: one push per pair, in order, all in the query
/// (or all in the form body when `form`).
pub fn params<N: Into<Cow<'static, str>>>(
    pairs: impl IntoIterator<Item = (N, String)>,
    form: bool,
) -> BenchParams {
    let location = if form { Location::Form } else { Location::Query };
    let mut p = Params::new();
    for (name, value) in pairs {
        p.push(location, name, value);
    }
    BenchParams(p)
}

/// The canonical (sorted, percent-encoded) query string of the parameters.
pub fn canonical_query(params: &BenchParams) -> String {
    encode::canonical_query(params.0.iter().map(|(_, name, value)| (name, value)))
}

/// A signed request; only its size is visible.
#[derive(Debug)]
pub struct BenchSigned(SignedRequest);

impl BenchSigned {
    /// Bytes of query, header names and values, and body.
    pub fn len(&self) -> usize {
        let headers: usize = self.0.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        self.0.query.len() + headers + self.0.body.len()
    }

    /// Whether the request is empty (never).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Signs a POST of `action` to `host`: ACS3-HMAC-SHA256, or HMAC-SHA1 when `v1`.
pub fn sign(
    v1: bool,
    action: &str,
    host: &str,
    params: &BenchParams,
    creds: &Credentials,
    date: &str,
    nonce: &str,
) -> BenchSigned {
    let ctx = RequestContext {
        action,
        version: "2020-04-20",
        method: &http::Method::POST,
        host,
        user_agent: "AlibabaCloud (bench) alibabacloud-runtime/bench",
        date,
        nonce,
        extra_headers: &[],
    };
    BenchSigned(if v1 {
        sign::sign_v1(&ctx, &params.0, creds)
    } else {
        sign::sign_v3(&ctx, &params.0, creds)
    })
}

/// The whole per-attempt preparation of a `QuerySessionByClientId` call as `client` makes it:
/// date, nonce, signature (the client's signature version) and the transport's request. Returns
/// the number of headers.
pub fn prepare(client: &ClientCore, params: &BenchParams, creds: &Credentials) -> usize {
    static OPERATION: Operation = Operation {
        action: "QuerySessionByClientId",
        method: http::Method::POST,
        idempotent: true,
        retryable_codes: &["InternalError", "SystemOverFlow"],
        failure_in_body: false,
        qps_limit: None,
    };
    client.prepare(&OPERATION, &params.0, creds).map_or(0, |r| r.headers().len())
}

/// The current time as the signatures carry it.
pub fn date_now() -> String {
    super::time::format_utc(std::time::SystemTime::now())
}

/// A fresh signature nonce.
pub fn nonce() -> String {
    sign::new_nonce()
}
