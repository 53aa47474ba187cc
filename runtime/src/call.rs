//! Settings of one call that override the client's configuration.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::client::{ClientCore, Response};
use super::config::{Config, RetryConfig};
use super::de::FromJson;
use super::error::{ConfigError, Error, InvalidInput, ServiceError};
use super::params::{Operation, Params};

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

/// The future a generated `send()` returns: the request loop of
/// [`ClientCore::execute`](crate::__private::ClientCore::execute) (boxed, compiled once in the
/// runtime), then the answer decoded into `O` and a service error converted into `E`. Generic
/// only in this last step, so an operation costs the compiler one small `poll`, not a state
/// machine of its own.
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<O, E> {
    state: State,
    /// A mock's answer (see [`Mocks`](crate::mock::Mocks)), already in the operation's types.
    #[cfg(feature = "test-util")]
    mocked: Option<Answer<O, E>>,
    _types: PhantomData<fn() -> (O, E)>,
}

#[cfg(feature = "test-util")]
type Answer<O, E> = Pin<Box<dyn Future<Output = Result<O, Error<E>>> + Send>>;

type Exchange = Pin<Box<dyn Future<Output = Result<Response, Error<ServiceError>>> + Send>>;

enum State {
    /// The parameters failed their checks: nothing is sent.
    Invalid(InvalidInput),
    Sending(Exchange),
    Done,
}

impl State {
    /// The exchange for `params`, or the reason they were refused. Not generic, so the boxed
    /// request loop is compiled once, in the runtime, not once per operation.
    fn start(core: ClientCore, op: &'static Operation, params: Result<Params, InvalidInput>) -> State {
        match params {
            Ok(params) => State::Sending(Box::pin(async move { core.execute(op, params).await })),
            Err(e) => State::Invalid(e),
        }
    }

    /// The answer or error, before decoding (not generic: compiled once).
    fn poll_exchange(&mut self, cx: &mut Context<'_>) -> Poll<Result<Response, Error<ServiceError>>> {
        let result = match std::mem::replace(self, State::Done) {
            State::Sending(mut exchange) => match exchange.as_mut().poll(cx) {
                Poll::Pending => {
                    *self = State::Sending(exchange);
                    return Poll::Pending;
                }
                Poll::Ready(result) => result,
            },
            State::Invalid(e) => Err(Error::InvalidInput(e)),
            State::Done => Err(Error::Config(ConfigError::new("the call was polled after it completed"))),
        };
        Poll::Ready(result)
    }
}

impl<O, E> Call<O, E> {
    /// Sends `params` (or reports why they were refused) through `core`.
    pub(crate) fn new(
        core: ClientCore,
        op: &'static Operation,
        params: Result<Params, InvalidInput>,
    ) -> Self {
        Call {
            state: State::start(core, op, params),
            #[cfg(feature = "test-util")]
            mocked: None,
            _types: PhantomData,
        }
    }

    /// A call the client's mock rules answer (see [`Mocks::answer`](crate::mock::Mocks::answer)),
    /// once `checked` (the parameters' checks) has passed.
    #[cfg(feature = "test-util")]
    pub(crate) fn mocked<I>(
        core: ClientCore,
        op: &'static Operation,
        input: I,
        checked: Result<(), InvalidInput>,
        service_error: fn(&E) -> &ServiceError,
    ) -> Self
    where
        I: std::fmt::Debug + Send + Sync + 'static,
        O: Clone + Send + 'static,
        E: Clone + Send + 'static,
    {
        let answer = async move {
            checked.map_err(Error::InvalidInput)?;
            match core.mocks() {
                Some(mocks) => mocks.answer(&core, op, input, service_error).await,
                None => Err(Error::Config(ConfigError::new("the client has no mock rules"))),
            }
        };
        Call { state: State::Done, mocked: Some(Box::pin(answer)), _types: PhantomData }
    }
}

impl<O: FromJson, E: From<ServiceError>> Future for Call<O, E> {
    type Output = Result<O, Error<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        #[cfg(feature = "test-util")]
        if let Some(answer) = &mut this.mocked {
            return answer.as_mut().poll(cx);
        }
        match this.state.poll_exchange(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(response)) => Poll::Ready(response.decode().map_err(Error::Decode)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.map_service(E::from))),
        }
    }
}

impl<O, E> std::fmt::Debug for Call<O, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Invalid(_) => "invalid",
            State::Sending(_) => "sending",
            State::Done => "done",
        };
        f.debug_struct("Call").field("state", &state).finish_non_exhaustive()
    }
}
