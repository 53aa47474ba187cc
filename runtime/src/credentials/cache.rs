//! The cache in front of every provider of temporary credentials.
//!
//! - Credentials without an expiration are kept for good.
//! - Credentials are refreshed [`REFRESH_AHEAD`] before they expire.
//! - One caller refreshes at a time (single flight). While credentials are still valid, the
//!   other callers do not wait for the refresh: they use the current ones. Without valid
//!   credentials, they wait for the refresh and share its result, success or failure.
//! - A refresh that fails while the cached credentials are still valid is not an error: the old
//!   credentials are served, and the next refresh is tried [`RETRY_AFTER_FAILURE`] later.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::{Credentials, CredentialsError};

/// How long before their expiration credentials are refreshed (as the official SDKs do).
pub(crate) const REFRESH_AHEAD: Duration = Duration::from_secs(180);
/// How long to wait after a failed refresh before trying again, while the old credentials last.
pub(crate) const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(crate) struct CredentialsCache {
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    current: Option<Credentials>,
    /// No refresh before this instant while the current credentials are valid.
    next_attempt: Option<Instant>,
    /// The last failed refresh, shared with the callers that waited for it.
    last_error: Option<(Instant, CredentialsError)>,
}

/// Whether the credentials need no refresh at `now`.
fn is_fresh(c: &Credentials, now: SystemTime) -> bool {
    match c.expiration() {
        None => true,
        Some(exp) => exp.duration_since(now).is_ok_and(|left| left > REFRESH_AHEAD),
    }
}

/// Whether the credentials can still sign a request at `now`.
fn is_valid(c: &Credentials, now: SystemTime) -> bool {
    c.expiration().is_none_or(|exp| exp > now)
}

impl CredentialsCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain data, consistent after every statement: a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached credentials when they need no refresh.
    fn fresh(&self) -> Option<Credentials> {
        self.lock().current.clone().filter(|c| is_fresh(c, SystemTime::now()))
    }

    /// The cached credentials when they can still be used.
    fn valid(&self) -> Option<Credentials> {
        self.lock().current.clone().filter(|c| is_valid(c, SystemTime::now()))
    }

    /// Drops the cached credentials (the next call fetches).
    #[cfg(test)]
    pub(crate) fn clear(&self) {
        *self.lock() = State::default();
    }

    /// Returns cached credentials, or runs `fetch` (one caller at a time) to get new ones.
    pub(crate) async fn get_or_refresh<F, Fut>(
        &self,
        what: &str,
        fetch: F,
    ) -> Result<Credentials, CredentialsError>
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
                if let Some(c) = self.valid() {
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
            if let Some((at, err)) = &state.last_error
                && *at >= waited_since
                && !state.current.as_ref().is_some_and(|c| is_valid(c, SystemTime::now()))
            {
                return Err(err.clone());
            }
            if let Some(c) = state.current.as_ref().filter(|c| is_valid(c, SystemTime::now()))
                && state.next_attempt.is_some_and(|next| Instant::now() < next)
            {
                return Ok(c.clone());
            }
        }
        tracing::debug!(source = what, "fetching credentials");
        match fetch().await {
            Ok(creds) => {
                let mut state = self.lock();
                if let Some(exp) = creds.expiration() {
                    if exp <= SystemTime::now() {
                        tracing::warn!(
                            source = what,
                            "the credentials received are already expired; is the clock right?"
                        );
                    }
                    tracing::debug!(
                        source = what,
                        access_key_id = creds.access_key_id(),
                        expiration = %super::super::time::format_utc(exp),
                        "fetched temporary credentials"
                    );
                }
                state.current = Some(creds.clone());
                state.next_attempt = None;
                state.last_error = None;
                Ok(creds)
            }
            Err(err) => {
                let mut state = self.lock();
                let now = Instant::now();
                if let Some(c) = state.current.clone().filter(|c| is_valid(c, SystemTime::now())) {
                    tracing::warn!(
                        source = what,
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

    #[tokio::test]
    async fn long_term_credentials_are_fetched_once() {
        let cache = CredentialsCache::default();
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            let c = cache
                .get_or_refresh("test", || async {
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
        let cache = CredentialsCache::default();
        let first = cache.get_or_refresh("t", || async { Ok(creds("a", Some(Duration::from_secs(100)))) });
        assert_eq!(first.await.unwrap().access_key_id(), "a");
        let second = cache.get_or_refresh("t", || async { Ok(creds("b", Some(Duration::from_secs(3600)))) });
        assert_eq!(second.await.unwrap().access_key_id(), "b");
        let third = cache.get_or_refresh("t", || async { panic!("not refreshed again") });
        assert_eq!(third.await.unwrap().access_key_id(), "b");
    }

    #[tokio::test]
    async fn failed_refresh_serves_valid_credentials_then_backs_off() {
        let cache = CredentialsCache::default();
        cache.get_or_refresh("t", || async { Ok(creds("a", Some(Duration::from_secs(100)))) }).await.unwrap();
        let n = AtomicUsize::new(0);
        for _ in 0..3 {
            let c = cache
                .get_or_refresh("t", || async {
                    n.fetch_add(1, Ordering::SeqCst);
                    Err(CredentialsError::new("sts down"))
                })
                .await
                .unwrap();
            assert_eq!(c.access_key_id(), "a");
        }
        // One attempt, then the back-off.
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn expired_credentials_are_not_served() {
        let cache = CredentialsCache::default();
        let past = Credentials::new("a", "s").with_expiration(SystemTime::now() - Duration::from_secs(1));
        cache.get_or_refresh("t", || async { Ok(past.clone()) }).await.unwrap();
        let err =
            cache.get_or_refresh("t", || async { Err(CredentialsError::new("sts down")) }).await.unwrap_err();
        assert_eq!(err.message(), "sts down");
        cache.clear();
        let c = cache.get_or_refresh("t", || async { Ok(creds("b", None)) }).await.unwrap();
        assert_eq!(c.access_key_id(), "b");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(CredentialsCache::default());
        let n = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, n) = (cache.clone(), n.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_refresh("t", || async {
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
        let cache = Arc::new(CredentialsCache::default());
        let n = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (cache, n) = (cache.clone(), n.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_refresh("t", || async {
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
