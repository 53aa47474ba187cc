//! Typed mocks: a client whose calls are answered by rules instead of the network, for unit tests
//! of code that uses a generated client (cargo feature `test-util`).
//!
//! The code under test keeps its ordinary `Client` and builders; only the configuration the test
//! builds the client from differs. A [`Rule`] is made for one operation, named by its `Client`
//! method (`rule(Client::get_widget)`), optionally matches on the typed input (each input has
//! a getter per parameter), and gives its answers in order: a typed output, any typed service
//! error (an `Unhandled` one included), a transport error, a timeout, or whatever a closure
//! computes from the input. Mocked calls go through the client's retry policy and deadline like
//! real ones (a retryable service error followed by an output is retried and succeeds), take the
//! same constraint checks, and page the same way.
//!
//! In a product crate (here a made-up `widgets` crate with a `GetWidget` operation):
//!
//! ```ignore
//! use widgets::mock::{rule, Mocks};
//! use widgets::operations::{GetWidgetError, GetWidgetOutput};
//! use widgets::{Client, ServiceError};
//!
//! let mut found = GetWidgetOutput::default();
//! found.name = Some("left".to_owned());
//! let get = rule(Client::get_widget)
//!     .matching(|input| input.widget_id() == Some("w-1"))
//!     .then_error(GetWidgetError::from(ServiceError::new(503, "ServiceUnavailable", "busy")))
//!     .then_output(found);
//! let client = Client::new(Mocks::new().with(&get).config());
//! // ... run the code under test with `client` ...
//! assert_eq!(get.hits(), 2); // the 503 was retried
//! ```
//!
//! A call no rule answers panics, naming the operation and showing the input, so a test never
//! passes by accident on an answer nobody wrote. Each rule answers until its answers are used up
//! ([`Rule::repeat_last`] makes the last one answer forever); then the next rule of the
//! operation that matches answers.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::client::ClientCore;
use super::config::{Config, RetryConfig};
use super::error::{Error, ServiceError, TimeoutError, TimeoutPhase, TransportError};
use super::params::Operation;
use super::retry::{self, Failure};

/// Links an operation's builder to the operation's input, output and error types, so that
/// [`rule`] can take the `Client` method itself. Implemented by generated code for every
/// operation's builder; not meant to be implemented by hand.
pub trait MockOperation {
    /// The operation's input, with a getter per parameter.
    type Input: fmt::Debug + Send + Sync + 'static;
    /// What a successful call returns.
    type Output: Clone + Send + 'static;
    /// The operation's service error enum.
    type Error: Clone + Send + 'static;
    /// The API action, e.g. `GetWidget`.
    const ACTION: &'static str;
}

/// A rule for the operation whose `Client` method is `operation`, e.g.
/// `rule(Client::get_widget)`. Without [`matching`](Rule::matching) it matches every call of
/// the operation; it has no answer until one is added.
pub fn rule<C, B: MockOperation>(operation: impl FnOnce(&C) -> B) -> Rule<B::Input, B::Output, B::Error> {
    // The method is only named for its types; it is never called.
    let _ = operation;
    Rule {
        inner: Arc::new(RuleInner {
            action: B::ACTION,
            state: Mutex::new(RuleState { matcher: None, answers: Vec::new(), next: 0, repeat_last: false }),
            hits: AtomicUsize::new(0),
        }),
    }
}

/// How one mocked call is answered: typed, for one operation. Cloning gives another handle to the
/// same rule, so a test can keep one to read [`hits`](Rule::hits) after the client used it.
pub struct Rule<I, O, E> {
    inner: Arc<RuleInner<I, O, E>>,
}

impl<I, O, E> Clone for Rule<I, O, E> {
    fn clone(&self) -> Self {
        Rule { inner: Arc::clone(&self.inner) }
    }
}

type Matcher<I> = Box<dyn Fn(&I) -> bool + Send + Sync>;
type Compute<I, O, E> = Arc<dyn Fn(&I) -> Result<O, Error<E>> + Send + Sync>;

struct RuleInner<I, O, E> {
    action: &'static str,
    state: Mutex<RuleState<I, O, E>>,
    hits: AtomicUsize,
}

struct RuleState<I, O, E> {
    matcher: Option<Matcher<I>>,
    answers: Vec<Answer<I, O, E>>,
    /// The next answer to give.
    next: usize,
    repeat_last: bool,
}

enum Answer<I, O, E> {
    Output(O),
    Service(E),
    Transport,
    Timeout,
    With(Compute<I, O, E>),
}

impl<I, O, E> Answer<I, O, E> {
    fn kind(&self) -> &'static str {
        match self {
            Answer::Output(_) => "output",
            Answer::Service(_) => "service error",
            Answer::Transport => "transport error",
            Answer::Timeout => "timeout",
            Answer::With(_) => "computed",
        }
    }
}

impl<I: 'static, O: Clone + 'static, E: Clone + 'static> Rule<I, O, E> {
    fn state(&self) -> std::sync::MutexGuard<'_, RuleState<I, O, E>> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(self, answer: Answer<I, O, E>) -> Self {
        self.state().answers.push(answer);
        self
    }

    /// Answers only calls whose input satisfies `predicate` (replacing any predicate given
    /// before). Inputs have a getter per parameter: `|input| input.client_id() == Some("c1")`.
    pub fn matching(self, predicate: impl Fn(&I) -> bool + Send + Sync + 'static) -> Self {
        self.state().matcher = Some(Box::new(predicate));
        self
    }

    /// Then answers with this output.
    pub fn then_output(self, output: O) -> Self {
        self.push(Answer::Output(output))
    }

    /// Then answers with this service error: any variant of the operation's error enum, such as
    /// `GetWidgetError::from(ServiceError::new(400, "Throttling.User", "slow down"))` (which
    /// picks the variant the code names, `Unhandled` for an unknown one). It is retried as the
    /// service's answer would be: for read-only operations with a retryable code or status.
    pub fn then_error(self, error: E) -> Self {
        self.push(Answer::Service(error))
    }

    /// Then fails as when the endpoint refuses the connection ([`Error::Transport`], before
    /// anything was sent: retried for every operation).
    pub fn then_transport_error(self) -> Self {
        self.push(Answer::Transport)
    }

    /// Then fails as when the read timeout expires ([`Error::Timeout`] of phase
    /// [`Read`](TimeoutPhase::Read): retried for read-only operations only). The answer comes at
    /// once; no time passes.
    pub fn then_timeout(self) -> Self {
        self.push(Answer::Timeout)
    }

    /// Then answers with the output `output` computes from the input (for example the page a
    /// paging call's page number asks for).
    pub fn then_output_with(self, output: impl Fn(&I) -> O + Send + Sync + 'static) -> Self {
        self.push(Answer::With(Arc::new(move |input| Ok(output(input)))))
    }

    /// Then answers with what `answer` computes from the input: any output, or any [`Error`].
    pub fn then_with(self, answer: impl Fn(&I) -> Result<O, Error<E>> + Send + Sync + 'static) -> Self {
        self.push(Answer::With(Arc::new(answer)))
    }

    /// The last answer given so far answers every further matching call, rather than the rule
    /// being used up after it.
    pub fn repeat_last(self) -> Self {
        self.state().repeat_last = true;
        self
    }

    /// How many calls (attempts, when the client retried) this rule answered.
    pub fn hits(&self) -> usize {
        self.inner.hits.load(Ordering::SeqCst)
    }

    /// How many answers are left: `None` when the last one repeats.
    pub fn remaining(&self) -> Option<usize> {
        let state = self.state();
        if state.repeat_last && !state.answers.is_empty() {
            return None;
        }
        Some(state.answers.len().saturating_sub(state.next))
    }

    /// The next answer for `input`, if this rule matches it and has one left.
    fn answer(&self, input: &I) -> Option<Result<O, Error<E>>> {
        let answer = {
            let mut state = self.state();
            if let Some(matcher) = &state.matcher
                && !matcher(input)
            {
                return None;
            }
            let index = if state.next < state.answers.len() {
                state.next += 1;
                state.next - 1
            } else if state.repeat_last && !state.answers.is_empty() {
                state.answers.len() - 1
            } else {
                return None;
            };
            self.inner.hits.fetch_add(1, Ordering::SeqCst);
            match &state.answers[index] {
                Answer::Output(o) => Ok(Ok(o.clone())),
                Answer::Service(e) => Ok(Err(Error::Service(e.clone()))),
                Answer::Transport => Ok(Err(Error::Transport(mock_transport_error()))),
                Answer::Timeout => Ok(Err(Error::Timeout(mock_timeout()))),
                Answer::With(f) => Err(Arc::clone(f)),
            }
        };
        // A computed answer runs outside the lock: it may be slow, or look at the rule.
        Some(answer.unwrap_or_else(|compute| compute(input)))
    }
}

impl<I, O, E> fmt::Debug for Rule<I, O, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Rule")
            .field("action", &self.inner.action)
            .field("matching", &state.matcher.is_some())
            .field("answers", &state.answers.iter().map(Answer::kind).collect::<Vec<_>>())
            .field("given", &state.next)
            .field("repeat_last", &state.repeat_last)
            .field("hits", &self.inner.hits.load(Ordering::SeqCst))
            .finish()
    }
}

/// A rule with its types erased, as the set holds it.
trait AnyRule: Send + Sync {
    fn action(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
    fn describe(&self) -> String;
}

impl<I, O, E> AnyRule for Rule<I, O, E>
where
    I: Send + 'static,
    O: Send + 'static,
    E: Send + 'static,
{
    fn action(&self) -> &'static str {
        self.inner.action
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// The rules a mocked client answers from, in the order they were added. Build a configuration
/// from it with [`config`](Mocks::config), or give it to
/// [`ConfigBuilder::mocks`](crate::ConfigBuilder::mocks) to choose other settings.
#[derive(Clone, Default)]
pub struct Mocks {
    rules: Vec<Arc<dyn AnyRule>>,
}

impl Mocks {
    /// No rule yet.
    pub fn new() -> Mocks {
        Mocks::default()
    }

    /// Adds a rule; the set keeps a handle to it, so the caller's `rule` still reports its hits.
    pub fn with<I, O, E>(mut self, rule: &Rule<I, O, E>) -> Mocks
    where
        I: Send + 'static,
        O: Send + 'static,
        E: Send + 'static,
    {
        self.rules.push(Arc::new(rule.clone()));
        self
    }

    /// A configuration whose clients answer from these rules: a placeholder endpoint, fixed
    /// credentials, and the default retry policy (3 attempts) with waits of at most a
    /// millisecond, so that retries are exercised without slowing the test.
    pub fn config(&self) -> Config {
        let fast = RetryConfig {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            ..RetryConfig::default()
        };
        // The builder cannot refuse these settings: a mocked configuration needs no endpoint.
        let built = Config::builder().mocks(self.clone()).retry(fast).build();
        built.unwrap_or_else(|e| unreachable!("a mock configuration is always valid: {e}"))
    }

    /// Answers one call of `op` with `input`, through the retry policy and deadline of `core`.
    ///
    /// # Panics
    ///
    /// When no rule of the operation matches the input and has an answer left: the message names
    /// the operation, shows the input and lists the operation's rules.
    #[doc(hidden)]
    pub async fn answer<I, O, E>(
        &self,
        core: &ClientCore,
        op: &'static Operation,
        input: I,
        service_error: fn(&E) -> &ServiceError,
    ) -> Result<O, Error<E>>
    where
        I: fmt::Debug + Send + Sync + 'static,
        O: Clone + Send + 'static,
        E: Clone + Send + 'static,
    {
        let settings = core.settings();
        let attempts = AtomicU32::new(0);
        let deadline_at = settings.deadline.map(|d| tokio::time::Instant::now() + d);
        let run = async {
            let mut attempt: u32 = 0;
            loop {
                attempt += 1;
                attempts.store(attempt, Ordering::Relaxed);
                let mut error = match self.next_answer::<I, O, E>(op.action, &input) {
                    Ok(output) => return Ok(output),
                    Err(error) => error,
                };
                let (retry, retry_after) = match &mut error {
                    Error::Service(e) => {
                        let se = service_error(e);
                        (retry::should_retry_service(op, se), se.retry_after())
                    }
                    Error::Transport(t) => {
                        t.attempts = attempt;
                        let failure = if t.connect { Failure::NotSent } else { Failure::MaybeSent };
                        (retry::should_retry_failure(op, failure), None)
                    }
                    Error::Timeout(t) => {
                        t.attempts = attempt;
                        let failure = if t.phase == TimeoutPhase::Connect {
                            Failure::NotSent
                        } else {
                            Failure::MaybeSent
                        };
                        (retry::should_retry_failure(op, failure), None)
                    }
                    _ => (false, None),
                };
                if !retry || attempt >= settings.retry.max_attempts {
                    return Err(error);
                }
                let Some(delay) = retry::backoff(&settings.retry, attempt, retry_after) else {
                    return Err(error);
                };
                if deadline_at.is_some_and(|at| tokio::time::Instant::now() + delay >= at) {
                    return Err(error);
                }
                tokio::time::sleep(delay).await;
            }
        };
        match settings.deadline {
            None => run.await,
            Some(deadline) => match tokio::time::timeout(deadline, run).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout(super::client::deadline_error(
                    deadline,
                    core.endpoint(),
                    attempts.load(Ordering::Relaxed),
                ))),
            },
        }
    }

    fn next_answer<I, O, E>(&self, action: &'static str, input: &I) -> Result<O, Error<E>>
    where
        I: fmt::Debug + 'static,
        O: Clone + 'static,
        E: Clone + 'static,
    {
        let mut seen = Vec::new();
        for rule in self.rules.iter().filter(|r| r.action() == action) {
            if let Some(rule) = rule.as_any().downcast_ref::<Rule<I, O, E>>()
                && let Some(answer) = rule.answer(input)
            {
                return answer;
            }
            seen.push(rule.describe());
        }
        let rules = if seen.is_empty() {
            " none".to_owned()
        } else {
            seen.iter().map(|r| format!("\n  {r}")).collect()
        };
        panic!(
            "no mock rule answers this {action} call (none matches its input with an answer left)\n\
             input: {input:#?}\nrules for {action}:{rules}"
        )
    }
}

impl fmt::Debug for Mocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mocks").field("rules", &self.rules.len()).finish()
    }
}

fn mock_transport_error() -> TransportError {
    TransportError {
        endpoint: "http://mock.invalid".to_owned(),
        connect: true,
        attempts: 1,
        source: Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused (mock)",
        )),
    }
}

fn mock_timeout() -> TimeoutError {
    TimeoutError {
        phase: TimeoutPhase::Read,
        timeout: Duration::from_secs(10),
        endpoint: "http://mock.invalid".to_owned(),
        attempts: 1,
        source: Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out (mock)")),
    }
}
