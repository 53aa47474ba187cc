//! The two STS calls the providers make: `AssumeRole`, signed with the RPC HMAC-SHA1 scheme by
//! this crate's own signer, and the anonymous `AssumeRoleWithOIDC`.

use std::time::{Duration, SystemTime};

use http::Method;

use super::super::params::{Location, Params};
use super::super::sign::{self, RequestContext};
use super::super::time;
use super::env::Env;
use super::http::{HttpClient, HttpRequest, HttpResponse, USER_AGENT};
use super::{Credentials, CredentialsError};
use crate::de::{self, FromJson, Mismatch, Object, Value};
use crate::url::{HttpUrl, without_userinfo};

/// The STS API version.
pub(crate) const STS_VERSION: &str = "2015-04-01";
/// The default, smallest and largest session durations STS accepts, in seconds (the largest is
/// what a role's maximum session duration can be set to, 12 hours; STS refuses more than the
/// role's own setting).
pub(crate) const DEFAULT_DURATION_SECONDS: u32 = 3600;
pub(crate) const MIN_DURATION_SECONDS: u32 = 900;
pub(crate) const MAX_DURATION_SECONDS: u32 = 43_200;
/// Timeouts of STS calls (as the official SDKs).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) const ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
pub(crate) const ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
pub(crate) const STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
pub(crate) const VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";

/// Where STS requests go, decided when a provider is built.
#[derive(Clone, Debug, Default)]
pub(crate) struct StsLocation {
    /// An explicit endpoint: `host[:port]` (HTTPS) or a full `http(s)://host[:port]` URL.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub vpc: bool,
}

impl StsLocation {
    /// The endpoint URL: the explicit one, else `sts[-vpc].<region>.aliyuncs.com` with the region
    /// given or from `ALIBABA_CLOUD_STS_REGION`, else `sts.aliyuncs.com`. The VPC endpoint is
    /// chosen by `vpc` or `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`, and needs a region.
    pub(crate) fn resolve(&self, env: &Env) -> Result<HttpUrl, CredentialsError> {
        let text = match &self.endpoint {
            Some(endpoint) => {
                let endpoint = endpoint.trim();
                if endpoint.contains("://") { endpoint.to_owned() } else { format!("https://{endpoint}") }
            }
            None => {
                let vpc = self.vpc || env.is_true(VPC_ENDPOINT_ENABLED);
                let region =
                    self.region.clone().filter(|r| !r.trim().is_empty()).or_else(|| env.get(STS_REGION));
                match region {
                    Some(region) => {
                        let region = region.trim();
                        if region.is_empty()
                            || !region
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        {
                            return Err(CredentialsError::new(format!(
                                "the STS region {region:?} is not a region id such as cn-hangzhou"
                            )));
                        }
                        let prefix = if vpc { "sts-vpc" } else { "sts" };
                        format!("https://{prefix}.{region}.aliyuncs.com")
                    }
                    None => "https://sts.aliyuncs.com".to_owned(),
                }
            }
        };
        HttpUrl::parse(&text).map_err(|why| {
            CredentialsError::new(format!(
                "the STS endpoint {:?} is not usable: {why}",
                without_userinfo(&text)
            ))
        })
    }
}

/// `endpoint` with path `/` and this (encoded) query: where STS requests go.
fn at_root(endpoint: &HttpUrl, query: &str) -> Result<HttpUrl, CredentialsError> {
    endpoint.with_path_and_query(&format!("/?{query}")).map_err(|why| {
        CredentialsError::new(format!("the STS request to {} cannot be sent: {why}", endpoint.display()))
    })
}

/// The role session name: the one given, else `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else a
/// generated `credentials-rust-<microseconds>`.
pub(crate) fn session_name(given: Option<String>, env: &Env) -> String {
    given.filter(|s| !s.trim().is_empty()).or_else(|| env.get(ROLE_SESSION_NAME)).unwrap_or_else(|| {
        let micros =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
        format!("credentials-rust-{micros}")
    })
}

/// Checks a session duration: unset means the default, 3600 s.
pub(crate) fn check_duration(seconds: Option<u32>) -> Result<u32, CredentialsError> {
    match seconds {
        None => Ok(DEFAULT_DURATION_SECONDS),
        Some(s) if !(MIN_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&s) => {
            Err(CredentialsError::new(format!(
                "the role session duration {s} s is outside the range STS accepts, \
                 {MIN_DURATION_SECONDS} to {MAX_DURATION_SECONDS} s"
            )))
        }
        Some(s) => Ok(s),
    }
}

/// What `AssumeRole` sends besides the caller's credentials.
#[derive(Clone, Debug)]
pub(crate) struct AssumeRole<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub duration_seconds: u32,
    pub policy: Option<&'a str>,
    pub external_id: Option<&'a str>,
}

/// Calls `AssumeRole` with `source` credentials: a POST with the common parameters and the
/// signature in the query and the role parameters in the form body, all of them signed.
pub(crate) async fn assume_role(
    http: &HttpClient,
    endpoint: &HttpUrl,
    source: &Credentials,
    req: &AssumeRole<'_>,
) -> Result<Credentials, CredentialsError> {
    let mut params = Params::new();
    params.push(Location::Form, "RoleArn", req.role_arn);
    params.push(Location::Form, "RoleSessionName", req.role_session_name);
    params.push(Location::Form, "DurationSeconds", req.duration_seconds.to_string());
    if let Some(policy) = req.policy {
        params.push(Location::Form, "Policy", policy);
    }
    if let Some(external_id) = req.external_id {
        params.push(Location::Form, "ExternalId", external_id);
    }
    let date = time::format_utc(SystemTime::now());
    let nonce = sign::new_nonce();
    let host = endpoint.host_header();
    let ctx = RequestContext {
        action: "AssumeRole",
        version: STS_VERSION,
        method: &Method::POST,
        host,
        user_agent: USER_AGENT,
        date: &date,
        nonce: &nonce,
        extra_headers: &[],
    };
    let signed = sign::sign_v1(&ctx, &params, source);
    let url = at_root(endpoint, &signed.query)?;
    tracing::debug!(
        endpoint = %endpoint.display(),
        role_arn = req.role_arn,
        role_session_name = req.role_session_name,
        access_key_id = source.access_key_id(),
        "calling STS AssumeRole"
    );
    let request = HttpRequest {
        method: Method::POST,
        url,
        headers: vec![
            ("accept", "application/json".to_owned(), false),
            ("x-acs-action", "AssumeRole".to_owned(), false),
            ("x-acs-version", STS_VERSION.to_owned(), false),
        ],
        form: Some(String::from_utf8_lossy(&signed.body).into_owned()),
    };
    let mut secrets = vec![source.access_key_secret()];
    secrets.extend(source.security_token());
    let response = http.send(request).await.map_err(|e| e.error.context("STS AssumeRole"))?;
    parse_sts_answer("AssumeRole", &response, &secrets)
}

/// What `AssumeRoleWithOIDC` sends.
#[derive(Clone, Debug)]
pub(crate) struct AssumeRoleWithOidc<'a> {
    pub role_arn: &'a str,
    pub oidc_provider_arn: &'a str,
    pub oidc_token: &'a str,
    pub role_session_name: &'a str,
    pub duration_seconds: u32,
    pub policy: Option<&'a str>,
}

/// Calls `AssumeRoleWithOIDC`: anonymous (no signature), the common parameters in the query and
/// the role parameters (the OIDC token among them) in the form body.
pub(crate) async fn assume_role_with_oidc(
    http: &HttpClient,
    endpoint: &HttpUrl,
    req: &AssumeRoleWithOidc<'_>,
) -> Result<Credentials, CredentialsError> {
    let date = time::format_utc(SystemTime::now());
    let query = super::super::encode::canonical_query([
        ("Action", "AssumeRoleWithOIDC"),
        ("Format", "JSON"),
        ("Version", STS_VERSION),
        ("Timestamp", date.as_str()),
    ]);
    let duration = req.duration_seconds.to_string();
    let mut form: Vec<(&str, &str)> = vec![
        ("RoleArn", req.role_arn),
        ("OIDCProviderArn", req.oidc_provider_arn),
        ("OIDCToken", req.oidc_token),
        ("RoleSessionName", req.role_session_name),
        ("DurationSeconds", &duration),
    ];
    if let Some(policy) = req.policy {
        form.push(("Policy", policy));
    }
    let url = at_root(endpoint, &query)?;
    tracing::debug!(
        endpoint = %endpoint.display(),
        role_arn = req.role_arn,
        oidc_provider_arn = req.oidc_provider_arn,
        role_session_name = req.role_session_name,
        "calling STS AssumeRoleWithOIDC"
    );
    let request = HttpRequest {
        method: Method::POST,
        url,
        headers: vec![("accept", "application/json".to_owned(), false)],
        form: Some(super::super::encode::canonical_query(form)),
    };
    let response = http.send(request).await.map_err(|e| e.error.context("STS AssumeRoleWithOIDC"))?;
    parse_sts_answer("AssumeRoleWithOIDC", &response, &[req.oidc_token])
}

/// Replaces every occurrence of a secret in `text` with `***`.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "***");
    }
    out
}

/// Reads an STS answer: the credentials of a success, or the error code, message and request id
/// of a failure.
fn parse_sts_answer(
    action: &str,
    response: &HttpResponse,
    secrets: &[&str],
) -> Result<Credentials, CredentialsError> {
    struct Answer {
        request_id: Option<String>,
        code: Option<String>,
        message: Option<String>,
        credentials: Option<StsCredentials>,
    }
    impl FromJson for Answer {
        fn from_json(value: Value) -> Result<Self, Mismatch> {
            let mut o = Object::new(value)?;
            Ok(Answer {
                request_id: o.opt("RequestId")?,
                code: o.opt("Code")?,
                message: o.opt("Message")?,
                credentials: o.opt("Credentials")?,
            })
        }
    }
    struct StsCredentials {
        access_key_id: Option<String>,
        access_key_secret: Option<String>,
        security_token: Option<String>,
        expiration: Option<String>,
    }
    impl FromJson for StsCredentials {
        fn from_json(value: Value) -> Result<Self, Mismatch> {
            let mut o = Object::new(value)?;
            Ok(StsCredentials {
                access_key_id: o.opt("AccessKeyId")?,
                access_key_secret: o.opt("AccessKeySecret")?,
                security_token: o.opt("SecurityToken")?,
                expiration: o.opt("Expiration")?,
            })
        }
    }
    let parsed = de::from_slice::<Answer>(&response.body);
    if response.status != 200 {
        let detail = match &parsed {
            Ok(Answer { code: Some(code), message, request_id, .. }) => {
                let mut d = format!("{code}: {}", message.as_deref().unwrap_or("(no message)"));
                if let Some(id) = request_id {
                    d.push_str(&format!(" (request id {id})"));
                }
                d
            }
            _ => response.snippet(200),
        };
        return Err(CredentialsError::new(redact(
            &format!("STS {action} failed with HTTP {}: {detail}", response.status),
            secrets,
        )));
    }
    let answer = parsed.map_err(|e| {
        CredentialsError::new(format!(
            "STS {action} answered HTTP 200 with a body that is not the expected JSON: {e}"
        ))
    })?;
    let Some(c) = answer.credentials else {
        return Err(CredentialsError::new(format!("STS {action} answered without Credentials")));
    };
    let missing =
        |name: &str| CredentialsError::new(format!("STS {action} answered without Credentials.{name}"));
    let id = c.access_key_id.filter(|v| !v.is_empty()).ok_or_else(|| missing("AccessKeyId"))?;
    let secret = c.access_key_secret.filter(|v| !v.is_empty()).ok_or_else(|| missing("AccessKeySecret"))?;
    let token = c.security_token.filter(|v| !v.is_empty()).ok_or_else(|| missing("SecurityToken"))?;
    let expiration = c.expiration.ok_or_else(|| missing("Expiration"))?;
    let expiration = parse_expiration(&expiration, &format!("STS {action}"))?;
    Ok(Credentials::new(id, secret).with_security_token(token).with_expiration(expiration))
}

/// Parses an `Expiration` such as `2026-11-25T16:33:53Z`.
pub(crate) fn parse_expiration(text: &str, what: &str) -> Result<SystemTime, CredentialsError> {
    time::parse_utc(text).ok_or_else(|| {
        CredentialsError::new(format!(
            "{what} answered an Expiration that is not an ISO-8601 UTC time: {text:?}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let none = Env::from_pairs(&[]);
        let resolve = |loc: StsLocation, env: &Env| loc.resolve(env).map(|u| u.display());
        assert_eq!(resolve(StsLocation::default(), &none).unwrap(), "https://sts.aliyuncs.com/");
        let regional = StsLocation { region: Some("cn-shanghai".into()), ..Default::default() };
        assert_eq!(resolve(regional.clone(), &none).unwrap(), "https://sts.cn-shanghai.aliyuncs.com/");
        let vpc = StsLocation { vpc: true, ..regional };
        assert_eq!(resolve(vpc, &none).unwrap(), "https://sts-vpc.cn-shanghai.aliyuncs.com/");
        let env = Env::from_pairs(&[(STS_REGION, "cn-beijing"), (VPC_ENDPOINT_ENABLED, "TRUE")]);
        assert_eq!(
            resolve(StsLocation::default(), &env).unwrap(),
            "https://sts-vpc.cn-beijing.aliyuncs.com/"
        );
        let env = Env::from_pairs(&[(STS_REGION, "cn-beijing"), (VPC_ENDPOINT_ENABLED, "false")]);
        assert_eq!(resolve(StsLocation::default(), &env).unwrap(), "https://sts.cn-beijing.aliyuncs.com/");
        // The VPC switch alone has no region to name.
        let env = Env::from_pairs(&[(VPC_ENDPOINT_ENABLED, "true")]);
        assert_eq!(resolve(StsLocation::default(), &env).unwrap(), "https://sts.aliyuncs.com/");
        let explicit = StsLocation { endpoint: Some("http://127.0.0.1:9000".into()), ..Default::default() };
        assert_eq!(resolve(explicit, &env).unwrap(), "http://127.0.0.1:9000/");
        let bare = StsLocation { endpoint: Some("sts.example.com".into()), ..Default::default() };
        assert_eq!(resolve(bare, &none).unwrap(), "https://sts.example.com/");
        let bad = StsLocation { region: Some("cn-hangzhou.evil.com/".into()), ..Default::default() };
        assert!(resolve(bad, &none).is_err());
        let bad = StsLocation { endpoint: Some("ftp://x".into()), ..Default::default() };
        assert!(resolve(bad, &none).is_err());
    }

    #[test]
    fn session_names_and_durations() {
        let env = Env::from_pairs(&[(ROLE_SESSION_NAME, "from-env")]);
        assert_eq!(session_name(Some("given".into()), &env), "given");
        assert_eq!(session_name(None, &env), "from-env");
        assert!(session_name(None, &Env::from_pairs(&[])).starts_with("credentials-rust-"));
        assert_eq!(check_duration(None).unwrap(), 3600);
        assert_eq!(check_duration(Some(900)).unwrap(), 900);
        assert_eq!(check_duration(Some(43_200)).unwrap(), 43_200);
        for bad in [0, 899, 43_201] {
            let err = check_duration(Some(bad)).unwrap_err();
            assert_eq!(
                err.message(),
                format!("the role session duration {bad} s is outside the range STS accepts, 900 to 43200 s")
            );
        }
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, body: bytes::Bytes::copy_from_slice(body.as_bytes()) }
    }

    #[test]
    fn parses_answers() {
        let ok = answer(
            200,
            r#"{"RequestId":"R","Credentials":{"AccessKeyId":"STS.id","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2026-11-25T16:33:53Z"}}"#,
        );
        let c = parse_sts_answer("AssumeRole", &ok, &[]).unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret(), c.security_token()),
            ("STS.id", "s", Some("t"))
        );
        assert_eq!(c.expiration(), time::parse_utc("2026-11-25T16:33:53Z"));

        let err = parse_sts_answer(
            "AssumeRole",
            &answer(
                403,
                r#"{"Code":"NoPermission","Message":"denied for token CAIS-secret-token","RequestId":"R1"}"#,
            ),
            &["CAIS-secret-token"],
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "STS AssumeRole failed with HTTP 403: NoPermission: denied for token *** (request id R1)"
        );
        let err = parse_sts_answer("AssumeRole", &answer(502, "<html>bad gateway</html>"), &[]).unwrap_err();
        assert_eq!(err.message(), "STS AssumeRole failed with HTTP 502: <html>bad gateway</html>");
        let err = parse_sts_answer("AssumeRole", &answer(200, "{}"), &[]).unwrap_err();
        assert!(err.message().contains("without Credentials"), "{err}");
        let err = parse_sts_answer(
            "AssumeRole",
            &answer(200, r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"soon"}}"#),
            &[],
        )
        .unwrap_err();
        assert!(err.message().contains("not an ISO-8601"), "{err}");
        let err = parse_sts_answer(
            "AssumeRole",
            &answer(200, r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"s","Expiration":"2026-11-25T16:33:53Z"}}"#),
            &[],
        )
        .unwrap_err();
        assert!(err.message().ends_with("without Credentials.SecurityToken"), "{err}");
        let err = parse_sts_answer("AssumeRole", &answer(200, "not json"), &[]).unwrap_err();
        assert!(err.message().contains("not the expected JSON"), "{err}");
    }
}
