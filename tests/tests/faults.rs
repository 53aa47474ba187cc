//! Fault injection: the client against a server that refuses, resets, stalls, dribbles, lies
//! about sizes and answers garbage. Every call must end in `Ok` or in a typed error of the right
//! kind, idempotent calls are retried as configured, a mutating call is sent exactly once once
//! it may have reached the server, and nothing panics.
//!
//! The server counts requests itself, so retry counts are checked on the wire, not only through
//! `attempts()`. Timeouts and backoffs are short so the whole file runs in a few seconds.

#[path = "common/faulty.rs"]
mod faulty;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alibabacloud_onsmqtt::operations::{
    QuerySessionByClientIdError, QuerySessionByClientIdOutput, SendMessageError, SendMessageOutput,
};
use alibabacloud_onsmqtt::{Client, Config, Credentials, Error, RetryConfig, ServiceError, TimeoutPhase};
use faulty::{Act, Answer, Faulty};

const READ_TIMEOUT: Duration = Duration::from_millis(300);
/// Shorter than [`READ_TIMEOUT`]: the transport's read timeout runs from the moment a request is
/// handed to it, connecting included, so a connect timeout only shows as such when it is shorter.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// Longer than [`READ_TIMEOUT`]: a server this slow makes the client time out.
const TOO_SLOW: Duration = Duration::from_millis(700);
const MAX_ATTEMPTS: u32 = 3;

/// Calls made in this file, reported by each test.
static CALLS: AtomicUsize = AtomicUsize::new(0);

fn config(endpoint: &str) -> alibabacloud_onsmqtt::ConfigBuilder {
    Config::builder()
        .endpoint(endpoint)
        .credentials(Credentials::new("test-id", "test-secret"))
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .retry(RetryConfig {
            max_attempts: MAX_ATTEMPTS,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        })
}

fn client(endpoint: &str) -> Client {
    Client::new(config(endpoint).build().unwrap())
}

async fn query(c: &Client) -> Result<QuerySessionByClientIdOutput, Error<QuerySessionByClientIdError>> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    c.query_session_by_client_id().instance_id("mqtt-cn-test").client_id("GID_a@@@b").send().await
}

async fn send_message(c: &Client) -> Result<SendMessageOutput, Error<SendMessageError>> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    c.send_message().instance_id("mqtt-cn-test").mqtt_topic("TopicA").payload("hello").send().await
}

/// The operation error types, seen through their common service error.
trait OpError: std::error::Error + 'static {
    fn service(&self) -> &ServiceError;
}

impl OpError for QuerySessionByClientIdError {
    fn service(&self) -> &ServiceError {
        self.service_error()
    }
}

impl OpError for SendMessageError {
    fn service(&self) -> &ServiceError {
        self.service_error()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Service,
    Transport,
    Timeout,
    Decode,
    Other,
}

fn kind<E>(e: &Error<E>) -> Kind {
    match e {
        Error::Service(_) => Kind::Service,
        Error::Transport(_) => Kind::Transport,
        Error::Timeout(_) => Kind::Timeout,
        Error::Decode(_) => Kind::Decode,
        _ => Kind::Other,
    }
}

/// The attempts an error reports (decode errors are never retried: 1).
fn attempts<E: OpError>(e: &Error<E>) -> u32 {
    match e {
        Error::Service(s) => s.service().attempts(),
        Error::Transport(t) => t.attempts(),
        Error::Timeout(t) => t.attempts(),
        Error::Decode(_) => 1,
        _ => 0,
    }
}

/// Asserts that `result` failed with an error of `want` after `tries` attempts, and returns it.
#[track_caller]
fn expect_err<T: std::fmt::Debug, E: OpError>(
    result: Result<T, Error<E>>,
    want: Kind,
    tries: u32,
) -> Error<E> {
    let err = match result {
        Ok(v) => panic!("expected a {want:?} error, got Ok({v:?})"),
        Err(e) => e,
    };
    assert_eq!(kind(&err), want, "{err:?}");
    assert_eq!(attempts(&err), tries, "{err}");
    // Every error prints, with its whole chain, without panicking.
    let _ = format!("{err} {err:?}");
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&err);
    while let Some(e) = cur {
        let _ = format!("{e} {e:?}");
        cur = e.source();
    }
    err
}

fn service<E: OpError>(err: &Error<E>) -> &ServiceError {
    err.as_service().map(OpError::service).expect("a service error")
}

fn no_panics() {
    assert_eq!(faulty::count_panics().load(Ordering::SeqCst), 0, "a panic happened somewhere");
    eprintln!("calls made so far in this file: {}", CALLS.load(Ordering::SeqCst));
}

// ---- connection-level faults -------------------------------------------------------------------

#[tokio::test]
async fn refused_connection_is_a_connect_error_retried_even_for_sendmessage() {
    faulty::count_panics();
    let c = client(&format!("http://{}", faulty::closed_port()));
    let err = expect_err(query(&c).await, Kind::Transport, MAX_ATTEMPTS);
    let Error::Transport(t) = &err else { unreachable!() };
    assert!(t.is_connect(), "{err}");
    // Nothing was sent, so even the mutating call may be repeated.
    let err = expect_err(send_message(&c).await, Kind::Transport, MAX_ATTEMPTS);
    assert!(matches!(&err, Error::Transport(t) if t.is_connect()), "{err}");
    no_panics();
}

#[tokio::test]
async fn connect_timeout_when_the_accept_queue_is_full() {
    faulty::count_panics();
    // A listener that never accepts, with a backlog of 1: once the queue is full the kernel drops
    // further SYNs, so connecting hangs until the connect timeout.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(100), tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(s)) => held.push(s),
            Ok(Err(e)) => panic!("connect failed: {e}"),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    if !full {
        eprintln!("the kernel kept accepting connections; connect timeout not exercised");
        return;
    }
    let c = client(&format!("http://{addr}"));
    let err = expect_err(query(&c).await, Kind::Timeout, MAX_ATTEMPTS);
    let Error::Timeout(t) = &err else { unreachable!() };
    assert_eq!((t.phase(), t.timeout()), (TimeoutPhase::Connect, CONNECT_TIMEOUT));
    // Nothing was sent: even the mutating call is tried again.
    let err = expect_err(send_message(&c).await, Kind::Timeout, MAX_ATTEMPTS);
    assert!(matches!(&err, Error::Timeout(t) if t.phase() == TimeoutPhase::Connect), "{err:?}");
    drop((held, listener));
    no_panics();
}

#[tokio::test]
async fn accept_then_close_is_a_transport_error() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::CloseOnAccept]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Transport, MAX_ATTEMPTS);
    assert!(matches!(&err, Error::Transport(t) if !t.is_connect()), "{err}");
    assert_eq!(server.connections(), MAX_ATTEMPTS as usize);

    let server = Faulty::start(vec![Act::CloseOnAccept]).await;
    let c = client(&server.endpoint());
    expect_err(send_message(&c).await, Kind::Transport, 1);
    assert_eq!(server.connections(), 1);
    no_panics();
}

#[tokio::test]
async fn close_after_reading_the_request() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::CloseAfterRequest]).await;
    let c = client(&server.endpoint());
    expect_err(query(&c).await, Kind::Transport, MAX_ATTEMPTS);
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);
    no_panics();
}

#[tokio::test]
async fn reset_in_the_middle_of_the_body() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::ResetMidBody]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Transport, MAX_ATTEMPTS);
    assert!(matches!(&err, Error::Transport(t) if !t.is_connect()), "{err}");
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);

    // Then the server recovers: the same client works.
    let server = Faulty::start(vec![Act::ResetMidBody, Act::Reply(Answer::online())]).await;
    let c = client(&server.endpoint());
    assert!(query(&c).await.unwrap().online_status);
    assert_eq!(server.requests(), 2);
    no_panics();
}

// ---- slow servers ------------------------------------------------------------------------------

#[tokio::test]
async fn headers_slower_than_the_read_timeout() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::SlowHeaders(TOO_SLOW, Answer::online())]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Timeout, MAX_ATTEMPTS);
    let Error::Timeout(t) = &err else { unreachable!() };
    assert_eq!((t.phase(), t.timeout()), (TimeoutPhase::Read, READ_TIMEOUT));
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);

    // Slow but within the timeout: fine.
    let server = Faulty::start(vec![Act::SlowHeaders(Duration::from_millis(100), Answer::online())]).await;
    let c = client(&server.endpoint());
    assert!(query(&c).await.unwrap().online_status);
    assert_eq!(server.requests(), 1);
    no_panics();
}

#[tokio::test]
async fn body_slower_than_the_read_timeout() {
    faulty::count_panics();
    let slow = Act::SlowBody { answer: Answer::online(), pieces: 2, gap: TOO_SLOW };
    let server = Faulty::start(vec![slow]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Timeout, MAX_ATTEMPTS);
    assert!(matches!(&err, Error::Timeout(t) if t.phase() == TimeoutPhase::Read), "{err:?}");
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);

    // A body that trickles in with gaps shorter than the read timeout arrives, even though the
    // whole takes longer than the timeout: it bounds silence, not the exchange.
    let drip = Act::SlowBody { answer: Answer::online(), pieces: 4, gap: Duration::from_millis(120) };
    let server = Faulty::start(vec![drip]).await;
    let c = client(&server.endpoint());
    assert!(query(&c).await.unwrap().online_status);
    assert_eq!(server.requests(), 1);
    no_panics();
}

// ---- bad answers -------------------------------------------------------------------------------

#[tokio::test]
async fn bad_gateway_html_page() {
    faulty::count_panics();
    let page =
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
    let server = Faulty::start(vec![Act::Reply(Answer::html(502, page))]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Service, MAX_ATTEMPTS);
    let se = service(&err);
    assert_eq!((se.status(), se.code(), se.has_service_code()), (502, "Http502", false));
    assert!(se.message().contains("502 Bad Gateway"), "{}", se.message());
    assert!(matches!(err.as_service(), Some(QuerySessionByClientIdError::Unhandled(_))));
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);
    no_panics();
}

#[tokio::test]
async fn success_status_with_bodies_that_do_not_decode() {
    faulty::count_panics();
    let bodies = [
        ("not JSON", Answer::html(200, "<html>hello</html>")),
        ("empty", Answer::new(200, "")),
        ("truncated JSON", Answer::new(200, r#"{"OnlineStatus": tr"#)),
        ("wrong field type", Answer::new(200, r#"{"OnlineStatus": "yes", "RequestId": "R"}"#)),
        ("missing field", Answer::new(200, r#"{"RequestId": "R"}"#)),
        ("not an object", Answer::new(200, "[1,2,3]")),
        ("null", Answer::new(200, "null")),
    ];
    for (what, answer) in bodies {
        let server = Faulty::start(vec![Act::Reply(answer)]).await;
        let c = client(&server.endpoint());
        let err = expect_err(query(&c).await, Kind::Decode, 1);
        let Error::Decode(d) = &err else { unreachable!() };
        assert!(!d.is_too_large(), "{what}: {err}");
        assert_eq!(d.action(), "QuerySessionByClientId");
        // A decode error is final: not retried.
        assert_eq!(server.requests(), 1, "{what}");
    }
    no_panics();
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    faulty::count_panics();
    let body = r#"{"OnlineStatus": true, "RequestId": "R-1", "Extra": {"nested": [1, 2, {"x": null}]},
                  "AnotherNewField": "v", "Number": 1e308}"#;
    let server = Faulty::start(vec![Act::Reply(Answer::new(200, body))]).await;
    let c = client(&server.endpoint());
    let out = query(&c).await.unwrap();
    assert!(out.online_status);
    assert_eq!(out.request_id, "R-1");
    no_panics();
}

// ---- oversized answers -------------------------------------------------------------------------

const HUGE: u64 = 50 * 1024 * 1024;
const LIMIT: usize = 64 * 1024;

/// The resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

async fn huge(chunked: bool, status: u16) {
    let server = Faulty::start(vec![Act::Stream { status, len: HUGE, chunked }]).await;
    let c = Client::new(config(&server.endpoint()).max_response_bytes(LIMIT).build().unwrap());
    let before = rss();
    let result = query(&c).await;
    let after = rss();
    if status == 200 {
        let err = expect_err(result, Kind::Decode, 1);
        let Error::Decode(d) = &err else { unreachable!() };
        assert!(d.is_too_large(), "{err}");
    } else {
        // An error status past the limit: a service error quoting the start of the body, and
        // the call is retried like any 5xx without a code.
        let err = expect_err(result, Kind::Service, MAX_ATTEMPTS);
        let se = service(&err);
        assert_eq!(se.code(), format!("Http{status}"));
        assert!(se.message().contains(&format!("larger than {LIMIT} bytes")), "{}", se.message());
        assert!(se.message().len() < 2 * 1024, "the message quotes only a prefix");
    }
    // The client hangs up instead of reading on: the server's stream is cut short.
    assert!(
        server.wait_for(Duration::from_secs(10), |s| s.stream_ended.load(Ordering::SeqCst)).await,
        "the client kept the oversized answer's connection open"
    );
    assert!(server.stats.stream_cut.load(Ordering::SeqCst), "the client read the whole body");
    let streamed = server.stats.streamed.load(Ordering::SeqCst);
    assert!(streamed < HUGE / 2, "{streamed} bytes were sent before the client gave up");
    // Nothing near the whole body was kept in memory (generous: other tests run alongside).
    assert!(after.saturating_sub(before) < 32 * 1024 * 1024, "RSS grew from {before} to {after}");
    eprintln!("huge answer (chunked: {chunked}, status {status}): {streamed} of {HUGE} bytes sent");
}

#[tokio::test]
async fn huge_body_with_content_length_is_refused_unread() {
    faulty::count_panics();
    huge(false, 200).await;
    no_panics();
}

#[tokio::test]
async fn huge_chunked_body_is_cut_at_the_limit() {
    faulty::count_panics();
    huge(true, 200).await;
    no_panics();
}

#[tokio::test]
async fn huge_error_body_is_cut_at_the_limit() {
    faulty::count_panics();
    huge(true, 500).await;
    huge(false, 503).await;
    no_panics();
}

// ---- throttling and server errors --------------------------------------------------------------

fn throttled(retry_after_ms: Option<u64>) -> Act {
    let answer = Answer::new(429, r#"{"Code":"Throttling.User","Message":"slow down","RequestId":"T-{n}"}"#);
    Act::Reply(match retry_after_ms {
        Some(ms) => answer.header("x-acs-retry-after", &ms.to_string()),
        None => answer,
    })
}

fn server_error(retry_after_ms: Option<u64>) -> Act {
    let answer = Answer::html(500, "<html><body>Internal Server Error</body></html>");
    Act::Reply(match retry_after_ms {
        Some(ms) => answer.header("x-acs-retry-after", &ms.to_string()),
        None => answer,
    })
}

#[tokio::test]
async fn throttled_then_ok_with_and_without_retry_after() {
    faulty::count_panics();
    for retry_after in [None, Some(80)] {
        let server = Faulty::start(vec![throttled(retry_after), Act::Reply(Answer::online())]).await;
        let c = client(&server.endpoint());
        let started = Instant::now();
        let out = query(&c).await.unwrap();
        assert_eq!(out.request_id, "OK-2");
        assert_eq!(server.requests(), 2);
        if let Some(ms) = retry_after {
            // The service's wait is honoured (a lower bound, not a speed check).
            assert!(started.elapsed() >= Duration::from_millis(ms), "{:?}", started.elapsed());
        }
    }
    no_panics();
}

#[tokio::test]
async fn server_error_then_ok_with_and_without_retry_after() {
    faulty::count_panics();
    for retry_after in [None, Some(80)] {
        let server = Faulty::start(vec![server_error(retry_after), Act::Reply(Answer::online())]).await;
        let c = client(&server.endpoint());
        let started = Instant::now();
        assert!(query(&c).await.unwrap().online_status);
        assert_eq!(server.requests(), 2);
        if let Some(ms) = retry_after {
            assert!(started.elapsed() >= Duration::from_millis(ms), "{:?}", started.elapsed());
        }
    }
    no_panics();
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    faulty::count_panics();
    let server = Faulty::start(vec![throttled(Some(61_000)), Act::Reply(Answer::online())]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Service, 1);
    let se = service(&err);
    assert_eq!((se.status(), se.code()), (429, "Throttling.User"));
    assert_eq!(se.retry_after(), Some(Duration::from_secs(61)));
    assert_eq!(server.requests(), 1);
    no_panics();
}

#[tokio::test]
async fn service_codes_decide_retries_of_500() {
    faulty::count_panics();
    // A final code: not retried.
    let final_code = Answer::new(500, r#"{"Code":"MqttInstanceNotFound","Message":"no","RequestId":"R"}"#);
    let server = Faulty::start(vec![Act::Reply(final_code)]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Service, 1);
    assert_eq!(service(&err).code(), "MqttInstanceNotFound");
    assert_eq!(server.requests(), 1);

    // A code the operation lists as retryable: retried, and typed.
    let retryable = Answer::new(500, r#"{"Code":"InternalError","Message":"later","RequestId":"I-{n}"}"#);
    let server = Faulty::start(vec![Act::Reply(retryable)]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Service, MAX_ATTEMPTS);
    assert!(matches!(err.as_service(), Some(QuerySessionByClientIdError::InternalError(_))), "{err:?}");
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);
    no_panics();
}

#[tokio::test]
async fn exhausted_retries_keep_the_last_error() {
    faulty::count_panics();
    let busy = Answer::new(503, r#"{"Code":"ServiceUnavailable","Message":"busy","RequestId":"R-{n}"}"#);
    let server = Faulty::start(vec![Act::Reply(busy)]).await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Service, MAX_ATTEMPTS);
    assert_eq!(service(&err).request_id(), Some("R-3"), "the last answer's error");
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);

    // Different failures in a row: the last one is reported, with the total count.
    let server = Faulty::start(vec![
        Act::Reply(Answer::html(503, "busy")),
        Act::CloseAfterRequest,
        Act::SlowHeaders(TOO_SLOW, Answer::online()),
    ])
    .await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Timeout, MAX_ATTEMPTS);
    assert!(err.to_string().ends_with("after 3 attempts"), "{err}");
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);

    let server = Faulty::start(vec![
        Act::SlowHeaders(TOO_SLOW, Answer::online()),
        Act::ResetMidBody,
        Act::Reply(Answer::html(502, "bad gateway")),
    ])
    .await;
    let c = client(&server.endpoint());
    let err = expect_err(query(&c).await, Kind::Service, MAX_ATTEMPTS);
    assert_eq!(service(&err).code(), "Http502");
    no_panics();
}

// ---- a mutating operation ----------------------------------------------------------------------

#[tokio::test]
async fn send_message_is_sent_exactly_once_when_it_may_have_arrived() {
    faulty::count_panics();
    let cases: Vec<(&str, Act, Kind)> = vec![
        ("closed after the request", Act::CloseAfterRequest, Kind::Transport),
        ("reset mid-body", Act::ResetMidBody, Kind::Transport),
        ("500 without a code", server_error(None), Kind::Service),
        (
            "500 with a retryable code",
            Act::Reply(Answer::new(500, r#"{"Code":"InternalError","Message":"x"}"#)),
            Kind::Service,
        ),
        ("502 page", Act::Reply(Answer::html(502, "<html>bad gateway</html>")), Kind::Service),
        ("429 with retry-after", throttled(Some(10)), Kind::Service),
        ("headers too slow", Act::SlowHeaders(TOO_SLOW, Answer::sent()), Kind::Timeout),
        ("body too slow", Act::SlowBody { answer: Answer::sent(), pieces: 2, gap: TOO_SLOW }, Kind::Timeout),
        ("no answer at all", Act::Stall, Kind::Timeout),
    ];
    for (what, act, want) in cases {
        let server = Faulty::start(vec![act, Act::Reply(Answer::sent())]).await;
        let c = client(&server.endpoint());
        let result = send_message(&c).await;
        let err = match result {
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
            Err(e) => e,
        };
        assert_eq!(kind(&err), want, "{what}: {err:?}");
        assert_eq!(attempts(&err), 1, "{what}: {err}");
        assert_eq!(server.requests(), 1, "{what}: SendMessage must not be repeated");
        // The request reached the server with its parameters.
        let seen = server.seen();
        let pairs = faulty::parse_pairs(seen[0].query());
        assert!(pairs.contains(&("Payload".to_owned(), "hello".to_owned())), "{what}: {pairs:?}");
    }
    // And the successful path, for completeness.
    let server = Faulty::start(vec![Act::Reply(Answer::sent())]).await;
    let c = client(&server.endpoint());
    assert_eq!(send_message(&c).await.unwrap().msg_id, "M-1");
    no_panics();
}

// ---- a call dropped mid-flight -----------------------------------------------------------------

#[tokio::test]
async fn call_aborted_mid_flight_closes_the_connection_and_the_client_goes_on() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::Stall, Act::Reply(Answer::online())]).await;
    // A long read timeout: the call would wait, so only the abort ends it.
    let c = Client::new(config(&server.endpoint()).read_timeout(Duration::from_secs(30)).build().unwrap());
    let c2 = c.clone();
    let call = tokio::spawn(async move { query(&c2).await });
    assert!(server.wait_for(Duration::from_secs(5), |s| s.requests.load(Ordering::SeqCst) == 1).await);
    call.abort();
    let joined = call.await;
    assert!(joined.as_ref().is_err_and(|e| e.is_cancelled()), "{joined:?}");
    // The server sees the connection closed: nothing lingers in the pool.
    assert!(
        server.wait_for(Duration::from_secs(5), |s| s.peer_closed.load(Ordering::SeqCst) == 1).await,
        "the aborted call's connection stayed open"
    );
    // The same client works for the next call.
    let out = query(&c).await.unwrap();
    assert_eq!(out.request_id, "OK-2");
    assert_eq!(server.requests(), 2);
    no_panics();
}

#[tokio::test]
async fn call_future_dropped_by_a_timeout_and_a_mutating_call_too() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::Stall, Act::Stall, Act::Reply(Answer::sent())]).await;
    let c = Client::new(config(&server.endpoint()).read_timeout(Duration::from_secs(30)).build().unwrap());
    let r = tokio::time::timeout(Duration::from_millis(150), query(&c)).await;
    assert!(r.is_err(), "the call should still have been waiting: {r:?}");
    let r = tokio::time::timeout(Duration::from_millis(150), send_message(&c)).await;
    assert!(r.is_err(), "the call should still have been waiting: {r:?}");
    assert!(server.wait_for(Duration::from_secs(5), |s| s.peer_closed.load(Ordering::SeqCst) == 2).await);
    assert_eq!(send_message(&c).await.unwrap().msg_id, "M-3");
    assert_eq!(server.requests(), 3);
    no_panics();
}

#[tokio::test]
async fn many_calls_aborted_at_random_points_leave_the_client_usable() {
    faulty::count_panics();
    let server = Faulty::start(vec![Act::SlowHeaders(Duration::from_millis(20), Answer::online())]).await;
    let c = client(&server.endpoint());
    let mut handles = Vec::new();
    for i in 0..40u64 {
        let c = c.clone();
        let h = tokio::spawn(async move { query(&c).await });
        tokio::time::sleep(Duration::from_millis(i % 7)).await;
        if i % 2 == 0 {
            h.abort();
        }
        handles.push(h);
    }
    for h in handles {
        match h.await {
            Ok(result) => assert!(result.unwrap().online_status),
            Err(e) => assert!(e.is_cancelled(), "{e}"),
        }
    }
    assert!(query(&c).await.unwrap().online_status);
    no_panics();
}

// ---- malformed HTTP ----------------------------------------------------------------------------

fn raw(s: &str) -> Act {
    Act::Raw(s.to_owned())
}

#[tokio::test]
async fn malformed_http_answers() {
    faulty::count_panics();
    let online = r#"{"OnlineStatus":true,"RequestId":"R"}"#;
    let huge_header =
        format!("HTTP/1.1 200 OK\r\nx-big: {}\r\ncontent-length: 2\r\n\r\n{{}}", "a".repeat(1 << 20));
    let many_headers = format!(
        "HTTP/1.1 200 OK\r\n{}content-length: 2\r\n\r\n{{}}",
        (0..5000).map(|i| format!("x-h{i}: v\r\n")).collect::<String>()
    );
    let cases: Vec<(&str, Act, Kind, u32)> = vec![
        ("not HTTP at all", raw("SSH-2.0-OpenSSH_9.6\r\n"), Kind::Transport, MAX_ATTEMPTS),
        ("garbage status line", raw("HTTP/1.1 abc\r\n\r\n"), Kind::Transport, MAX_ATTEMPTS),
        (
            "conflicting content-lengths",
            raw("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\n{}"),
            Kind::Transport,
            MAX_ATTEMPTS,
        ),
        (
            "malformed chunk size",
            raw("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
            Kind::Transport,
            MAX_ATTEMPTS,
        ),
        ("a 1 MiB header", Act::Raw(huge_header), Kind::Transport, MAX_ATTEMPTS),
        ("5000 headers", Act::Raw(many_headers), Kind::Transport, MAX_ATTEMPTS),
        (
            "a redirect (not followed)",
            raw("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\n\r\n"),
            Kind::Service,
            1,
        ),
        ("204 without a body", raw("HTTP/1.1 204 No Content\r\n\r\n"), Kind::Decode, 1),
        (
            "gzip the client did not ask for",
            raw("HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 4\r\n\r\n\x1f\u{8b}\x08\x00"),
            Kind::Decode,
            1,
        ),
    ];
    for (what, act, want, tries) in cases {
        let server = Faulty::start(vec![act]).await;
        let c = client(&server.endpoint());
        let err = match query(&c).await {
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
            Err(e) => e,
        };
        assert_eq!(kind(&err), want, "{what}: {err:?}");
        assert_eq!(attempts(&err), tries, "{what}: {err}");
        assert_eq!(server.requests(), tries as usize, "{what}");
    }

    // A body delimited by the end of the connection (HTTP/1.0 style): fine.
    let answer = format!("HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{online}");
    let server = Faulty::start(vec![Act::RawThenClose(answer)]).await;
    let c = client(&server.endpoint());
    assert!(query(&c).await.unwrap().online_status);
    // The same without ever closing: the body never ends, and the read timeout says so.
    let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{online}");
    let server = Faulty::start(vec![Act::Raw(answer)]).await;
    let c = client(&server.endpoint());
    expect_err(query(&c).await, Kind::Timeout, MAX_ATTEMPTS);
    no_panics();
}

#[tokio::test]
async fn body_longer_than_announced_does_not_poison_the_next_call() {
    faulty::count_panics();
    // 37 bytes announced, more sent: the extra bytes sit on the kept-alive connection.
    let online = r#"{"OnlineStatus":true,"RequestId":"R"}"#;
    let first = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{online}HTTP/1.1 500 Oops\r\n\r\n",
        online.len()
    );
    let server = Faulty::start(vec![Act::Raw(first), Act::Reply(Answer::online())]).await;
    let c = client(&server.endpoint());
    assert!(query(&c).await.unwrap().online_status);
    // The next calls work: either on a fresh connection or after a retry of the idempotent call.
    assert!(query(&c).await.unwrap().online_status);
    assert!(query(&c).await.unwrap().online_status);
    no_panics();
}

#[tokio::test]
async fn server_closing_kept_alive_connections_does_not_fail_mutating_calls() {
    faulty::count_panics();
    // The server answers without `connection: close` and then hangs up, over and over: a call
    // that picks a pooled connection the server is closing must not fail (nothing was sent) nor be
    // sent twice.
    let server = Faulty::start(vec![Act::ReplyThenClose(Answer::sent())]).await;
    let c = client(&server.endpoint());
    let mut failures = Vec::new();
    const N: usize = 100;
    for _ in 0..N {
        match send_message(&c).await {
            Ok(_) => {}
            Err(e) => failures.push(format!("{e}")),
        }
    }
    assert_eq!(server.requests(), N - failures.len(), "every success is one request, no more");
    eprintln!(
        "{} of {N} SendMessage calls failed on closed pooled connections: {failures:?}",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:?}");
    no_panics();
}
