//! An optional client-side rate limiter that keeps a caller under each operation's documented
//! QPS limit (or a limit of the caller's choosing), so that the service's throttling (and the
//! per-IP block that follows heavy excess) is never reached.

use super::params::Operation;
use governor::{DefaultDirectRateLimiter, Quota};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

/// Whether and how the client paces its own calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimit {
    /// No client-side pacing (the default): the service's throttling answers are retried.
    #[default]
    Off,
    /// Each operation is paced to the per-account QPS limit Alibaba Cloud documents for it
    /// (operations without a documented limit are not paced).
    Documented,
    /// Each operation is paced to this many calls per second, whatever is documented.
    PerOperation(NonZeroU32),
}

/// One limiter per operation, made on first use; shared by every clone of a client.
#[derive(Default)]
pub(crate) struct Limiters {
    by_action: Mutex<HashMap<&'static str, Arc<DefaultDirectRateLimiter>>>,
}

impl Limiters {
    /// Waits until `op` may be sent under `policy`.
    pub(crate) async fn acquire(&self, policy: RateLimit, op: &'static Operation) {
        let qps = match policy {
            RateLimit::Off => return,
            RateLimit::Documented => match op.qps_limit.and_then(NonZeroU32::new) {
                Some(q) => q,
                None => return,
            },
            RateLimit::PerOperation(q) => q,
        };
        let limiter = {
            // A poisoned lock only means another call panicked while inserting; the map is
            // still consistent.
            let mut map = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                map.entry(op.action)
                    .or_insert_with(|| Arc::new(DefaultDirectRateLimiter::direct(Quota::per_second(qps)))),
            )
        };
        limiter.until_ready().await;
    }
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    static OP: Operation = Operation {
        action: "Test",
        method: http::Method::POST,
        idempotent: true,
        retryable_codes: &[],
        failure_in_body: false,
        qps_limit: Some(5),
    };

    #[tokio::test]
    async fn paces_to_the_documented_limit() {
        let limiters = Limiters::default();
        let start = Instant::now();
        // A burst of 5 is allowed at once; 5 more need about a second.
        for _ in 0..10 {
            limiters.acquire(RateLimit::Documented, &OP).await;
        }
        assert!(start.elapsed() >= Duration::from_millis(700), "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn off_does_not_wait() {
        let limiters = Limiters::default();
        for _ in 0..1000 {
            limiters.acquire(RateLimit::Off, &OP).await;
        }
        assert!(limiters.by_action.lock().unwrap().is_empty());
    }
}
