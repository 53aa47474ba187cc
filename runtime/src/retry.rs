//! When to try a call again, and how long to wait first.

use std::time::Duration;

use super::config::RetryConfig;
use super::error::ServiceError;
use super::params::Operation;

/// The longest `x-acs-retry-after` honoured; a service asking for more is not retried.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How far a failed exchange got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request certainly did not reach the server (DNS, refused, connect timeout): safe to
    /// repeat for any operation.
    NotSent,
    /// The request may have reached the server (reset, read timeout, broken body): repeat only
    /// idempotent operations.
    MaybeSent,
    /// Repeating cannot help (a certificate the client rejects, a malformed request).
    Permanent,
}

/// Codes that mean "try again later" for every operation.
pub(crate) fn is_retryable_code(op: &Operation, code: &str) -> bool {
    op.retryable_codes.contains(&code)
        || code.starts_with("Throttling")
        || code == "SystemOverFlow"
        || code == "ServiceUnavailable"
}

/// Whether an error answer is worth another attempt.
///
/// Only idempotent operations are retried once the server has answered. Then: 429, 502, 503 and
/// 504 always; other 5xx only without an error code of their own or with a retryable code (a 500
/// `MqttInstanceNotFound` is final); any status with a retryable code (throttling).
pub(crate) fn should_retry_service(op: &Operation, err: &ServiceError) -> bool {
    if !op.idempotent {
        return false;
    }
    let retryable_code = err.code_in_body && is_retryable_code(op, &err.code);
    match err.status {
        429 | 502..=504 => true,
        500..=599 => !err.code_in_body || retryable_code,
        _ => retryable_code,
    }
}

/// Whether a failed exchange is worth another attempt.
pub(crate) fn should_retry_failure(op: &Operation, failure: Failure) -> bool {
    match failure {
        Failure::NotSent => true,
        Failure::MaybeSent => op.idempotent,
        Failure::Permanent => false,
    }
}

/// The wait before the next attempt after `failed_attempts` failures (1 for the first): capped
/// exponential backoff with full jitter, at least `retry_after` when the service gave one. `None`
/// when the service asked for a longer wait than [`MAX_RETRY_AFTER`].
pub(crate) fn backoff(
    cfg: &RetryConfig,
    failed_attempts: u32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let to_micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let initial = to_micros(cfg.initial_backoff);
    let cap = to_micros(cfg.max_backoff);
    let shift = failed_attempts.saturating_sub(1).min(63);
    let base = initial.saturating_mul(1u64 << shift).min(cap);
    let jittered = Duration::from_micros(fastrand::u64(0..=base));
    match retry_after {
        Some(after) if after > MAX_RETRY_AFTER => None,
        Some(after) => Some(jittered.max(after)),
        None => Some(jittered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static IDEMPOTENT: Operation = Operation {
        action: "QuerySessionByClientId",
        method: http::Method::POST,
        idempotent: true,
        retryable_codes: &["Custom.Retry"],
        failure_in_body: false,
        qps_limit: None,
    };
    static MUTATING: Operation = Operation {
        action: "DeleteGroupId",
        method: http::Method::POST,
        idempotent: false,
        retryable_codes: &["Custom.Retry"],
        failure_in_body: false,
        qps_limit: None,
    };

    fn err(status: u16, code: Option<&str>) -> ServiceError {
        ServiceError {
            status,
            code: code.map_or_else(|| format!("Http{status}"), str::to_owned),
            code_in_body: code.is_some(),
            message: String::new(),
            request_id: None,
            host_id: None,
            recommend: None,
            access_denied_detail: None,
            retry_after: None,
            attempts: 1,
        }
    }

    #[test]
    fn retryable_codes() {
        assert!(is_retryable_code(&IDEMPOTENT, "Throttling.User"));
        assert!(is_retryable_code(&IDEMPOTENT, "Throttling"));
        assert!(is_retryable_code(&IDEMPOTENT, "SystemOverFlow"));
        assert!(is_retryable_code(&IDEMPOTENT, "ServiceUnavailable"));
        assert!(is_retryable_code(&IDEMPOTENT, "Custom.Retry"));
        assert!(!is_retryable_code(&IDEMPOTENT, "MqttInstanceNotFound"));
        assert!(!is_retryable_code(&IDEMPOTENT, "throttling.user"));
    }

    #[test]
    fn idempotent_service_errors() {
        let op = &IDEMPOTENT;
        assert!(should_retry_service(op, &err(429, Some("Throttling.User"))));
        assert!(should_retry_service(op, &err(429, None)));
        assert!(should_retry_service(op, &err(502, None)));
        assert!(should_retry_service(op, &err(503, Some("Whatever"))));
        assert!(should_retry_service(op, &err(504, None)));
        assert!(should_retry_service(op, &err(500, None)));
        assert!(should_retry_service(op, &err(500, Some("SystemOverFlow"))));
        assert!(should_retry_service(op, &err(500, Some("Custom.Retry"))));
        assert!(!should_retry_service(op, &err(500, Some("MqttInstanceNotFound"))));
        assert!(!should_retry_service(op, &err(500, Some("MqttOwnerCheckError"))));
        assert!(!should_retry_service(op, &err(500, Some("InternalError"))));
        assert!(should_retry_service(op, &err(400, Some("Throttling.Api"))));
        assert!(should_retry_service(op, &err(200, Some("Throttling.User"))));
        assert!(!should_retry_service(op, &err(200, Some("InstanceNotFound"))));
        assert!(!should_retry_service(op, &err(400, Some("InvalidParameter.ClientId"))));
        assert!(!should_retry_service(op, &err(403, Some("Forbidden.RAM"))));
        assert!(!should_retry_service(op, &err(404, None)));
    }

    #[test]
    fn mutating_operations_are_not_retried_once_answered() {
        let op = &MUTATING;
        for e in [
            err(429, Some("Throttling.User")),
            err(500, None),
            err(502, None),
            err(503, Some("ServiceUnavailable")),
            err(400, Some("Throttling.Api")),
        ] {
            assert!(!should_retry_service(op, &e), "{e:?}");
        }
    }

    #[test]
    fn failures() {
        assert!(should_retry_failure(&MUTATING, Failure::NotSent));
        assert!(should_retry_failure(&IDEMPOTENT, Failure::NotSent));
        assert!(!should_retry_failure(&MUTATING, Failure::MaybeSent));
        assert!(should_retry_failure(&IDEMPOTENT, Failure::MaybeSent));
        assert!(!should_retry_failure(&IDEMPOTENT, Failure::Permanent));
        assert!(!should_retry_failure(&MUTATING, Failure::Permanent));
    }

    #[test]
    fn backoff_is_capped_exponential_with_jitter() {
        let cfg = RetryConfig {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        };
        for _ in 0..200 {
            assert!(backoff(&cfg, 1, None).unwrap() <= Duration::from_millis(100));
            assert!(backoff(&cfg, 2, None).unwrap() <= Duration::from_millis(200));
            assert!(backoff(&cfg, 3, None).unwrap() <= Duration::from_millis(400));
            assert!(backoff(&cfg, 30, None).unwrap() <= Duration::from_secs(10));
            assert!(backoff(&cfg, u32::MAX, None).unwrap() <= Duration::from_secs(10));
        }
        // Jitter spreads the waits.
        let waits: std::collections::HashSet<_> = (0..50).map(|_| backoff(&cfg, 5, None).unwrap()).collect();
        assert!(waits.len() > 1);
    }

    #[test]
    fn backoff_honours_retry_after() {
        let cfg = RetryConfig::default();
        for _ in 0..50 {
            let d = backoff(&cfg, 1, Some(Duration::from_millis(1500))).unwrap();
            assert!(
                d >= Duration::from_millis(1500)
                    && d <= Duration::from_millis(1500).max(Duration::from_millis(100))
            );
        }
        assert_eq!(backoff(&cfg, 1, Some(MAX_RETRY_AFTER)), Some(MAX_RETRY_AFTER));
        assert_eq!(backoff(&cfg, 1, Some(Duration::from_secs(61))), None);
    }

    #[test]
    fn backoff_extremes() {
        let cfg = RetryConfig { max_attempts: 3, initial_backoff: Duration::MAX, max_backoff: Duration::MAX };
        let _ = backoff(&cfg, 64, None);
        let cfg =
            RetryConfig { max_attempts: 3, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO };
        assert_eq!(backoff(&cfg, 3, None), Some(Duration::ZERO));
    }
}
