//! Settings of one call that override the client's configuration.

use std::time::Duration;

use super::config::{Config, RetryConfig};
use super::error::ConfigError;

/// Settings for one call, overriding the client's [`Config`]; given to an operation's builder with
/// `with_options(...)`. Unset fields keep the client's value. The client itself is not changed,
/// and no second client (or connection pool) is needed.
///
/// ```no_run
/// # use alibabacloud_runtime::{CallOptions, RetryConfig};
/// # use std::time::Duration;
/// let options = CallOptions::new()
///     .deadline(Duration::from_secs(2)) // this call, retries and waits included
///     .retry(RetryConfig::disabled());
/// // client.get_widget().widget_id("w-1").with_options(options).send().await
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    pub(crate) deadline: Option<Duration>,
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
}

impl CallOptions {
    /// No override: the client's settings.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// The longest the whole call may take, every attempt and the waits between them included
    /// (see [`ConfigBuilder::deadline`](crate::ConfigBuilder::deadline)). A zero duration fails
    /// the call at once with a timeout.
    pub fn deadline(mut self, deadline: Duration) -> CallOptions {
        self.deadline = Some(deadline);
        self
    }

    /// The retry settings for this call (for example [`RetryConfig::disabled()`]). An attempt
    /// count of 0 counts as 1.
    pub fn retry(mut self, retry: RetryConfig) -> CallOptions {
        self.retry = Some(retry);
        self
    }

    /// The connect timeout for this call's attempts (zero is taken as 1 ms).
    pub fn connect_timeout(mut self, timeout: Duration) -> CallOptions {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The read timeout for this call's attempts (zero is taken as 1 ms).
    pub fn read_timeout(mut self, timeout: Duration) -> CallOptions {
        self.read_timeout = Some(timeout);
        self
    }

    /// The settings one call runs with: these options over `config`.
    pub(crate) fn effective(&self, config: &Config) -> Effective {
        let at_least_1ms = |d: Duration| d.max(Duration::from_millis(1));
        let mut retry = self.retry.unwrap_or(config.retry);
        retry.max_attempts = retry.max_attempts.max(1);
        Effective {
            deadline: self.deadline.or(config.deadline),
            retry,
            connect_timeout: self.connect_timeout.map_or(config.connect_timeout, at_least_1ms),
            read_timeout: self.read_timeout.map_or(config.read_timeout, at_least_1ms),
        }
    }
}

/// The settings of one call, resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Effective {
    pub(crate) deadline: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
}

/// Checks a deadline given to the configuration.
pub(crate) fn check_deadline(deadline: Option<Duration>) -> Result<(), ConfigError> {
    if deadline.is_some_and(|d| d.is_zero()) {
        return Err(ConfigError::new("the deadline must be greater than zero"));
    }
    Ok(())
}
