//! The cache in front of every provider of temporary credentials.
//!
//! - Credentials without an expiration are kept for good.
//! - From [`REFRESH_AHEAD`] before they expire, credentials are refreshed: one caller fetches
//!   (single flight) while the others keep using the current credentials. A refresh that fails
//!   then is not an error: the current credentials are served, and the next refresh is tried
//!   [`RETRY_AFTER_FAILURE`] later.
//! - Credentials with less than [`EXPIRY_MARGIN`] left are never handed out: every caller waits
//!   for the refresh and shares its result, success or failure. So a failed refresh in the last
//!   minutes is an error, never a request signed with credentials about to expire.
//! - Credentials that arrive already expired, or with less than [`EXPIRY_MARGIN`] left, are
//!   refused with an error naming their expiration (the clock of this machine or the source is
//!   wrong); still-usable cached credentials are served instead, as after a failed refresh.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::{Credentials, CredentialsError};

/// How long before their expiration credentials start being refreshed.
pub(crate) const REFRESH_AHEAD: Duration = Duration::from_secs(600);
/// Credentials with less than this left are never used to sign (the official SDKs' refresh
/// window): a request, its retries and the clock skew the service tolerates fit in it.
pub(crate) const EXPIRY_MARGIN: Duration = Duration::from_secs(180);
/// How long to wait after a failed refresh before trying again, while the old credentials last
/// (and after a refresh that brought credentials already inside [`REFRESH_AHEAD`]).
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

pub(crate) struct CredentialsCache {
    /// What fetches the credentials, for messages: "the credentials URI http://host/path".
    label: String,
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    current: Option<Credentials>,
    /// No refresh before this instant while the current credentials are usable.
    next_attempt: Option<Instant>,
    /// The last failed refresh, shared with the callers that waited for it.
    last_error: Option<(Instant, CredentialsError)>,
}

/// Whether the credentials need no refresh at `now`.
fn is_fresh(c: &Credentials, now: SystemTime) -> bool {
    left(c, now).is_none_or(|left| left > REFRESH_AHEAD)
}

/// Whether the credentials may still sign a request at `now`.
fn is_usable(c: &Credentials, now: SystemTime) -> bool {
    left(c, now).is_none_or(|left| left > EXPIRY_MARGIN)
}

/// How long the credentials have left (zero once expired); `None` for credentials that do not
/// expire.
fn left(c: &Credentials, now: SystemTime) -> Option<Duration> {
    c.expiration().map(|exp| exp.duration_since(now).unwrap_or(Duration::ZERO))
}

impl CredentialsCache {
    /// A cache for the credentials `label` supplies; `label` names the source in messages.
    pub(crate) fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), state: Mutex::default(), refresh: tokio::sync::Mutex::new(()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain data, consistent after every statement: a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached credentials when they need no refresh.
    fn fresh(&self) -> Option<Credentials> {
        self.lock().current.clone().filter(|c| is_fresh(c, SystemTime::now()))
    }

    /// The cached credentials when they can still sign.
    fn usable(&self) -> Option<Credentials> {
        self.lock().current.clone().filter(|c| is_usable(c, SystemTime::now()))
    }

    /// Refuses credentials that are expired or too close to it to sign with.
    fn check_received(&self, creds: &Credentials) -> Result<(), CredentialsError> {
        let Some(exp) = creds.expiration() else { return Ok(()) };
        let now = SystemTime::now();
        let at = super::super::time::format_utc(exp);
        match exp.duration_since(now) {
            Err(past) => Err(CredentialsError::new(format!(
                "{} answered credentials that expired at {at}, {} s ago (is the clock of this machine \
                 right?); they are not used",
                self.label,
                past.duration().as_secs()
            ))),
            Ok(left) if left <= EXPIRY_MARGIN => Err(CredentialsError::new(format!(
                "{} answered credentials that expire at {at}, in {} s: too soon to sign with (at \
                 least {} s are needed); they are not used",
                self.label,
                left.as_secs(),
                EXPIRY_MARGIN.as_secs()
            ))),
            Ok(_) => Ok(()),
        }
    }

    /// Returns cached credentials, or runs `fetch` (one caller at a time) to get new ones.
    pub(crate) async fn get_or_refresh<F, Fut>(&self, fetch: F) -> Result<Credentials, CredentialsError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Credentials, CredentialsError>>,
    {
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let waited_since = Instant::now();
        let _guard = match self.refresh.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Someone is refreshing: use the current credentials while they last.
                if let Some(c) = self.usable() {
                    return Ok(c);
                }
                self.refresh.lock().await
            }
        };
        // Another caller may have refreshed (or failed) while this one waited.
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        {
            let state = self.lock();
            let usable = state.current.clone().filter(|c| is_usable(c, SystemTime::now()));
            if let Some((at, err)) = &state.last_error
                && *at >= waited_since
                && usable.is_none()
            {
                return Err(err.clone());
            }
            if let Some(c) = usable
                && state.next_attempt.is_some_and(|next| Instant::now() < next)
            {
                return Ok(c);
            }
        }
        tracing::debug!(source = %self.label, "fetching credentials");
        let fetched = fetch().await.and_then(|creds| self.check_received(&creds).map(|()| creds));
        let mut state = self.lock();
        let now = Instant::now();
        match fetched {
            Ok(creds) => {
                if let Some(exp) = creds.expiration() {
                    tracing::debug!(
                        source = %self.label,
                        access_key_id = creds.access_key_id(),
                        expiration = %super::super::time::format_utc(exp),
                        "fetched temporary credentials"
                    );
                }
                // Credentials that already need a refresh are used, but not refreshed at every call.
                state.next_attempt =
                    (!is_fresh(&creds, SystemTime::now())).then(|| now + RETRY_AFTER_FAILURE);
                state.current = Some(creds.clone());
                state.last_error = None;
                Ok(creds)
            }
            Err(err) => {
                if let Some(c) = state.current.clone().filter(|c| is_usable(c, SystemTime::now())) {
                    tracing::warn!(
                        source = %self.label,
                        error = %err,
                        retry_in_s = RETRY_AFTER_FAILURE.as_secs(),
                        "refreshing credentials failed; using the current ones while they last"
                    );
                    state.next_attempt = Some(now + RETRY_AFTER_FAILURE);
                    return Ok(c);
                }
                state.last_error = Some((now, err.clone()));
                Err(err)
            }
        }
    }
}

impl std::fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("CredentialsCache")
            .field("access_key_id", &state.current.as_ref().map(Credentials::access_key_id))
            .field("expiration", &state.current.as_ref().and_then(Credentials::expiration))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn creds(id: &str, expires_in: Option<Duration>) -> Credentials {
        let c = Credentials::new(id, "secret").with_security_token("token");
        match expires_in {
            Some(d) => c.with_expiration(SystemTime::now() + d),
            None => c,
        }
    }

    /// Expires inside the refresh-ahead window, but outside the expiry margin: usable.
    const SOON: Duration = Duration::from_secs(400);

    fn down() -> Result<Credentials, CredentialsError> {
        Err(CredentialsError::new("sts down"))
    }

    #[tokio::test]
    async fn long_term_credentials_are_fetched_once() {
        let cache = CredentialsCache::new("test");
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            let c = cache
                .get_or_refresh(|| async {
                    n.fetch_add(1, Ordering::SeqCst);
                    Ok(creds("a", None))
                })
                .await
                .unwrap();
            assert_eq!(c.access_key_id(), "a");
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(format!("{cache:?}").contains("\"a\""));
        assert!(!format!("{cache:?}").contains("secret"));
    }

    #[tokio::test]
    async fn refreshes_ahead_of_expiry() {
        let cache = CredentialsCache::new("t");
        let first = cache.get_or_refresh(|| async { Ok(creds("a", Some(SOON))) });
        assert_eq!(first.await.unwrap().access_key_id(), "a");
        // Credentials that arrive inside the refresh-ahead window are refreshed 10 s later.
        let early = cache.get_or_refresh(|| async { panic!("not refreshed before the back-off") });
        assert_eq!(early.await.unwrap().access_key_id(), "a");
        cache.lock().next_attempt = Some(Instant::now());
        let second = cache.get_or_refresh(|| async { Ok(creds("b", Some(Duration::from_secs(3600)))) });
        assert_eq!(second.await.unwrap().access_key_id(), "b");
        let third = cache.get_or_refresh(|| async { panic!("not refreshed again") });
        assert_eq!(third.await.unwrap().access_key_id(), "b");
    }

    #[tokio::test]
    async fn a_source_that_answers_short_lived_credentials_is_not_asked_at_every_call() {
        let cache = CredentialsCache::new("t");
        let n = AtomicUsize::new(0);
        for _ in 0..5 {
            let c = cache
                .get_or_refresh(|| async {
                    n.fetch_add(1, Ordering::SeqCst);
                    Ok(creds("a", Some(SOON)))
                })
                .await
                .unwrap();
            assert_eq!(c.access_key_id(), "a");
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failed_refresh_serves_usable_credentials_then_backs_off() {
        let cache = CredentialsCache::new("t");
        cache.get_or_refresh(|| async { Ok(creds("a", Some(SOON))) }).await.unwrap();
        // Let the refresh be tried now.
        cache.lock().next_attempt = None;
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            let c = cache
                .get_or_refresh(|| async {
                    n.fetch_add(1, Ordering::SeqCst);
                    down()
                })
                .await
                .unwrap();
            assert_eq!(c.access_key_id(), "a");
        }
        // One attempt, then the back-off.
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_inside_the_expiry_margin_are_never_served() {
        let cache = CredentialsCache::new("t");
        // Cached credentials with 100 s left (they arrived earlier with more).
        cache.lock().current = Some(creds("a", Some(Duration::from_secs(100))));
        let err = cache.get_or_refresh(|| async { down() }).await.unwrap_err();
        assert_eq!(err.message(), "sts down");
        // Every later call tries again (no back-off without usable credentials) and fails too.
        let n = AtomicUsize::new(0);
        for _ in 0..2 {
            let fetch = || async {
                n.fetch_add(1, Ordering::SeqCst);
                down()
            };
            assert!(cache.get_or_refresh(fetch).await.is_err());
        }
        assert_eq!(n.load(Ordering::SeqCst), 2);
        let c = cache.get_or_refresh(|| async { Ok(creds("b", None)) }).await.unwrap();
        assert_eq!(c.access_key_id(), "b");
    }

    #[tokio::test]
    async fn expired_answers_are_refused_and_never_cached() {
        let cache = CredentialsCache::new("the credentials URI http://127.0.0.1/c");
        let past = Credentials::new("a", "s").with_expiration(SystemTime::now() - Duration::from_secs(3600));
        let err = cache.get_or_refresh(|| async { Ok(past.clone()) }).await.unwrap_err();
        let m = err.message();
        assert!(
            m.starts_with("the credentials URI http://127.0.0.1/c answered credentials that expired at "),
            "{m}"
        );
        assert!(m.contains(", 3600 s ago (is the clock") || m.contains(", 3601 s ago (is the clock"), "{m}");
        assert!(m.ends_with("they are not used"), "{m}");
        // Not cached: the next call fetches again.
        let n = AtomicUsize::new(0);
        let fetch = || async {
            n.fetch_add(1, Ordering::SeqCst);
            Ok(past.clone())
        };
        assert!(cache.get_or_refresh(fetch).await.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(cache.lock().current.is_none());

        let soon = creds("s", Some(Duration::from_secs(60)));
        let err = cache.get_or_refresh(|| async { Ok(soon.clone()) }).await.unwrap_err();
        assert!(err.message().contains("too soon to sign with (at least 180 s are needed)"), "{err}");

        // With usable credentials cached, an expired answer is a failed refresh: the cached
        // credentials are served.
        cache.lock().current = Some(creds("old", Some(SOON)));
        let c = cache.get_or_refresh(|| async { Ok(past.clone()) }).await.unwrap();
        assert_eq!(c.access_key_id(), "old");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(CredentialsCache::new("t"));
        let n = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, n) = (cache.clone(), n.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_refresh(|| async {
                            n.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(creds("a", Some(Duration::from_secs(3600))))
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().access_key_id(), "a");
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);

        // Failures are shared too: the waiters get the error of the fetch they waited for.
        let cache = Arc::new(CredentialsCache::new("t"));
        let n = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (cache, n) = (cache.clone(), n.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_refresh(|| async {
                            n.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Err(CredentialsError::new("down"))
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().is_err());
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }
}
