//! Security properties of the client:
//!
//! 1. the AccessKey secret and the STS token never appear in `Debug`/`Display` of the client,
//!    its configuration, credentials and errors (every kind the fault tests produce, with their
//!    source chains), nor in anything logged through `tracing` or `log` at TRACE level; the secret
//!    never goes on the wire, the token only where the protocol puts it;
//! 2. parameter values cannot add, replace or split parameters, whatever characters they hold;
//! 3. HTTPS is the default; plain HTTP only when asked for.

#[path = "common/faulty.rs"]
mod faulty;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use alibabacloud_onsmqtt::{
    Client, Config, Credentials, Error, Network, RetryConfig, SignatureVersion, StaticProvider,
};
use faulty::{Act, Answer, Faulty};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

const SECRET: &str = "SECRET-d3adb33f";
const TOKEN: &str = "TOKEN-c0ffee";
const KEY_ID: &str = "AKID-visible";
/// A token like real STS tokens, with characters the V1 query percent-encodes.
const TOKEN_SPECIAL: &str = "CAIS+tok/en=Zm9vYmFy+c0ffee==";

// ---- capturing everything that is logged -------------------------------------------------------

/// Everything logged in this process, as text.
fn captured() -> &'static Arc<Mutex<String>> {
    static BUF: OnceLock<Arc<Mutex<String>>> = OnceLock::new();
    BUF.get_or_init(|| Arc::new(Mutex::new(String::new())))
}

/// How many tracing events and spans, and `log` records, were captured.
static EVENTS: AtomicUsize = AtomicUsize::new(0);
static SPANS: AtomicUsize = AtomicUsize::new(0);
static LOG_RECORDS: AtomicUsize = AtomicUsize::new(0);

/// A subscriber that enables every callsite at every level and writes down every field of every
/// span (at creation and on each `record`) and of every event, both `Display`ed and `Debug`ged.
struct CaptureAll {
    buf: Arc<Mutex<String>>,
    next_id: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={} / {:?}", field.name(), value, value);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let _ = write!(self.0, " {}={} / {:?}", field.name(), value, value);
        let mut cur = value.source();
        while let Some(e) = cur {
            let _ = write!(self.0, " caused by {e} / {e:?}");
            cur = e.source();
        }
    }
}

impl CaptureAll {
    fn write(&self, what: &str, meta: &Metadata<'_>, fields: impl FnOnce(&mut Fields<'_>)) {
        let mut line = format!("{what} {} {} {}:", meta.level(), meta.target(), meta.name());
        fields(&mut Fields(&mut line));
        line.push('\n');
        self.buf.lock().unwrap().push_str(&line);
    }
}

impl Subscriber for CaptureAll {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        SPANS.fetch_add(1, Ordering::SeqCst);
        self.write("span", span.metadata(), |f| span.record(f));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::SeqCst))
    }
    fn record(&self, _span: &Id, values: &Record<'_>) {
        let mut line = String::from("record:");
        values.record(&mut Fields(&mut line));
        line.push('\n');
        self.buf.lock().unwrap().push_str(&line);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        EVENTS.fetch_add(1, Ordering::SeqCst);
        self.write("event", event.metadata(), |f| event.record(f));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The `log` crate's records (the TLS stack and the HTTP client log through it).
struct CaptureLog;

impl log::Log for CaptureLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LOG_RECORDS.fetch_add(1, Ordering::SeqCst);
        let line = format!("log {} {}: {}\n", record.level(), record.target(), record.args());
        captured().lock().unwrap().push_str(&line);
    }
    fn flush(&self) {}
}

fn install_capture() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let subscriber = CaptureAll { buf: captured().clone(), next_id: AtomicU64::new(1) };
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        static LOGGER: CaptureLog = CaptureLog;
        log::set_logger(&LOGGER).expect("no other logger");
        log::set_max_level(log::LevelFilter::Trace);
    });
    faulty::count_panics();
}

// ---- helpers -----------------------------------------------------------------------------------

/// Appends `Display` and `Debug` of an error and of every error in its source chain.
fn describe_error(out: &mut Vec<String>, err: &(dyn std::error::Error + 'static)) {
    let mut cur = Some(err);
    while let Some(e) = cur {
        out.push(format!("{e}"));
        out.push(format!("{e:?}"));
        out.push(format!("{e:#?}"));
        cur = e.source();
    }
}

fn record<T: std::fmt::Debug, E: std::error::Error + 'static>(
    out: &mut Vec<String>,
    r: &Result<T, Error<E>>,
) {
    match r {
        Ok(v) => out.push(format!("{v:?}")),
        Err(e) => describe_error(out, e),
    }
}

#[derive(Clone, Copy, Debug)]
struct Setup {
    version: SignatureVersion,
    sts: bool,
}

const SETUPS: [Setup; 4] = [
    Setup { version: SignatureVersion::V3, sts: false },
    Setup { version: SignatureVersion::V1, sts: false },
    Setup { version: SignatureVersion::V3, sts: true },
    Setup { version: SignatureVersion::V1, sts: true },
];

fn credentials(sts: bool) -> Credentials {
    let c = Credentials::new(KEY_ID, SECRET);
    if sts { c.with_security_token(TOKEN) } else { c }
}

fn config(endpoint: &str, setup: Setup) -> alibabacloud_onsmqtt::ConfigBuilder {
    Config::builder()
        .endpoint(endpoint)
        .credentials(credentials(setup.sts))
        .signature_version(setup.version)
        .connect_timeout(Duration::from_millis(200))
        .read_timeout(Duration::from_millis(150))
        .retry(RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        })
}

fn assert_clean(what: &str, text: &str) {
    let encoded =
        percent_encoding::utf8_percent_encode(TOKEN_SPECIAL, percent_encoding::NON_ALPHANUMERIC).to_string();
    for needle in [SECRET, TOKEN, TOKEN_SPECIAL, encoded.as_str()] {
        if let Some(at) = text.find(needle) {
            // Show the surroundings of the first occurrence (on char boundaries).
            let start = (0..=at.saturating_sub(600)).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let end = (at + needle.len() + 300..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            panic!(
                "{what} contains {needle} ({} times); first at:\n{}",
                text.matches(needle).count(),
                &text[start..end]
            );
        }
    }
}

// ---- 1. secrets --------------------------------------------------------------------------------

/// Runs successful, failing and retried calls of several operations under one setup; returns
/// everything printed about them and checks what went on the wire.
async fn exercise(setup: Setup, out: &mut Vec<String>) -> usize {
    let mut calls = 0;
    let slow = Duration::from_millis(400);
    let scripts: Vec<Vec<Act>> = vec![
        vec![Act::Reply(Answer::online())],
        vec![Act::Reply(Answer::html(503, "busy")), Act::Reply(Answer::online())],
        vec![Act::Reply(Answer::new(
            400,
            r#"{"Code":"InvalidParameter.ClientId","Message":"bad","RequestId":"R","Recommend":"https://x"}"#,
        ))],
        vec![Act::Reply(Answer::new(
            403,
            r#"{"Code":"Forbidden.RAM","Message":"no","RequestId":"R","AccessDeniedDetail":{"AuthAction":"onsmqtt:Query"}}"#,
        ))],
        vec![Act::Reply(Answer::html(502, "<html>bad gateway</html>"))],
        vec![Act::Reply(
            Answer::new(429, r#"{"Code":"Throttling.User","Message":"slow"}"#)
                .header("x-acs-retry-after", "5"),
        )],
        vec![Act::CloseOnAccept],
        vec![Act::CloseAfterRequest],
        vec![Act::ResetMidBody],
        vec![Act::SlowHeaders(slow, Answer::online())],
        vec![Act::SlowBody { answer: Answer::online(), pieces: 2, gap: slow }],
        vec![Act::Reply(Answer::html(200, "<html>not json</html>"))],
        vec![Act::Reply(Answer::new(200, r#"{"OnlineStatus":"yes","RequestId":"R"}"#))],
        vec![Act::Stream { status: 200, len: 1 << 20, chunked: true }],
        vec![Act::Stream { status: 500, len: 1 << 20, chunked: false }],
    ];
    for script in scripts {
        let server = Faulty::start(script).await;
        let client = Client::new(config(&server.endpoint(), setup).max_response_bytes(4096).build().unwrap());
        let r =
            client.query_session_by_client_id().instance_id("mqtt-cn-x").client_id("GID_a@@@b").send().await;
        record(out, &r);
        let r = client.send_message().instance_id("mqtt-cn-x").mqtt_topic("T").payload("p").send().await;
        record(out, &r);
        let r = client
            .add_custom_auth_connect_black()
            .instance_id("mqtt-cn-x")
            .client_id("GID_a@@@b")
            .send()
            .await;
        record(out, &r);
        calls += 3;
        out.push(format!("{client:?}"));
        // The secret never leaves the client; the token only where the protocol puts it.
        for seen in server.seen() {
            let raw = String::from_utf8_lossy(&seen.raw);
            assert!(!raw.contains(SECRET), "the secret was sent:\n{raw}");
            let token_in_header = seen.header("x-acs-security-token") == Some(TOKEN);
            let pairs = faulty::parse_pairs(seen.query());
            let token_in_query = pairs.iter().filter(|(k, v)| k == "SecurityToken" && v == TOKEN).count();
            let places = raw.matches(TOKEN).count();
            match (setup.sts, setup.version) {
                (false, _) => assert_eq!(places, 0, "{raw}"),
                (true, SignatureVersion::V3) => assert!(token_in_header && places == 1, "{raw}"),
                (true, _) => assert!(token_in_query == 1 && places == 1, "{raw}"),
            }
        }
    }
    // Nothing listening.
    let client = Client::new(config(&format!("http://{}", faulty::closed_port()), setup).build().unwrap());
    let r = client.query_session_by_client_id().instance_id("i").client_id("c").send().await;
    assert!(matches!(r, Err(Error::Transport(_))), "{r:?}");
    record(out, &r);
    calls += 1;
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_debug_display_errors_or_logs() {
    install_capture();
    let mut out = Vec::new();
    let mut calls = 0;
    for setup in SETUPS {
        calls += exercise(setup, &mut out).await;
    }

    // Credentials that cannot be used: the error must not quote them.
    for creds in [
        Credentials::new(KEY_ID, SECRET).with_security_token(format!("{TOKEN}\n")),
        Credentials::new(KEY_ID, SECRET).with_security_token(format!(" {TOKEN}")),
        Credentials::new(format!("{KEY_ID}\r\n"), SECRET).with_security_token(TOKEN),
        Credentials::new("", SECRET),
    ] {
        let server = Faulty::start(vec![Act::Reply(Answer::online())]).await;
        let client = Client::new(
            Config::builder().endpoint(server.endpoint()).credentials(creds.clone()).build().unwrap(),
        );
        let r = client.query_session_by_client_id().instance_id("i").client_id("c").send().await;
        assert!(matches!(r, Err(Error::Credentials(_))), "{r:?}");
        assert_eq!(server.requests(), 0);
        record(&mut out, &r);
        calls += 1;
        out.push(format!("{creds:?}"));
        out.push(format!("{creds:#?}"));
    }

    // The values themselves.
    let creds = credentials(true);
    let config = Config::builder().region("cn-hangzhou").credentials(creds.clone()).build().unwrap();
    let builder = Config::builder().region("cn-hangzhou").credentials(creds.clone());
    out.push(format!("{builder:?}"));
    out.push(format!("{config:?}"));
    out.push(format!("{config:#?}"));
    out.push(format!("{:?}", config.credentials_provider()));
    out.push(format!("{:?}", StaticProvider::new(creds.clone())));
    out.push(format!("{creds:?}"));
    out.push(format!("{creds:#?}"));
    let client = Client::new(config);
    out.push(format!("{client:?}"));
    out.push(format!("{client:#?}"));
    out.push(format!("{:?}", client.query_session_by_client_id().instance_id("i")));

    let printed = out.join("\n");
    assert_clean("Debug/Display output", &printed);
    let logged = captured().lock().unwrap().clone();
    assert_clean("the captured tracing and log output", &logged);

    // The capture worked: the client's own spans and events, at every level, were seen.
    assert!(logged.contains("onsmqtt"), "no span of the client was captured");
    assert!(logged.contains("attempt failed; retrying"), "no retry event was captured");
    assert_eq!(faulty::count_panics().load(Ordering::SeqCst), 0);
    eprintln!(
        "secrets check: {calls} calls, {} strings and {} bytes of logs searched ({} events, {} spans, {} log records): 0 secrets found",
        out.len(),
        logged.len(),
        EVENTS.load(Ordering::SeqCst),
        SPANS.load(Ordering::SeqCst),
        LOG_RECORDS.load(Ordering::SeqCst),
    );
}

#[tokio::test]
async fn a_server_echoing_the_request_does_not_put_the_token_in_errors() {
    install_capture();
    // A gateway error page that quotes the request line and headers it got (the V1 query holds
    // the token; the V3 headers do).
    for (setup, token) in SETUPS.into_iter().filter(|s| s.sts).flat_map(|s| [(s, TOKEN), (s, TOKEN_SPECIAL)])
    {
        let creds = Credentials::new(KEY_ID, SECRET).with_security_token(token);
        let config = |endpoint: &str| {
            config(endpoint, setup).credentials(creds.clone()).retry(RetryConfig::disabled()).build().unwrap()
        };
        let server = Faulty::start(vec![Act::Stall]).await;
        let client = Client::new(config(&server.endpoint()));
        // First learn what the client sends, then echo it back from a second server.
        let _ = tokio::time::timeout(
            Duration::from_millis(200),
            client.query_session_by_client_id().instance_id("i").client_id("c").send(),
        )
        .await;
        let raw = String::from_utf8_lossy(&server.seen()[0].raw).into_owned();
        let encoded =
            percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC).to_string();
        assert!(raw.contains(token) || raw.contains(&encoded), "{raw}");
        let page = format!("<html><body><h1>400 Bad Request</h1><pre>{raw}</pre></body></html>");
        for act in [
            Act::Reply(Answer::html(400, page.clone())),
            Act::Reply(Answer::new(
                400,
                format!(
                    r#"{{"Code":"Bad","Message":{},"RequestId":"R"}}"#,
                    serde_json::to_string(&raw).unwrap()
                ),
            )),
            Act::Reply(Answer::new(
                200,
                format!(r#"{{"OnlineStatus":{},"RequestId":"R"}}"#, serde_json::to_string(&raw).unwrap()),
            )),
        ] {
            let echo = Faulty::start(vec![act]).await;
            let client = Client::new(config(&echo.endpoint()));
            let r = client.query_session_by_client_id().instance_id("i").client_id("c").send().await;
            assert!(r.is_err());
            let mut out = Vec::new();
            record(&mut out, &r);
            assert_clean(&format!("an error about an echoing server ({setup:?})"), &out.join("\n"));
        }
    }
    assert_clean("the captured tracing and log output", &captured().lock().unwrap());
}

// ---- 2. parameter values cannot change other parameters ---------------------------------------

const TRICKY: &[&str] = &[
    "a&InstanceId=evil",
    "a&ClientId=evil",
    "x=y",
    "=",
    "&",
    "&&==",
    "100%",
    "%41%42",
    "%",
    "%zz",
    "a+b c",
    "+",
    "#fragment",
    "?q=1&r=2",
    "/path/../..",
    "line\nbreak",
    "crlf\r\nX-Injected: 1\r\n\r\nGET / HTTP/1.1",
    "\t\x01\x02\x1b[31m\x1f\x7f",
    "é ü ß 日本語 🦀 \u{200b}\u{202e}",
    " leading and trailing ",
    "Signature=AAAA&SignatureNonce=1",
    "SecurityToken=evil",
    "\"quoted\" 'single' <angle> {brace} [bracket] |pipe| \\back`tick^~*!@$,;:",
];

fn check_pairs(pairs: &[(String, String)], want: &[(&str, &str)], allowed_extra: &[&str]) {
    for (key, value) in want {
        let found: Vec<&String> = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        assert_eq!(found, vec![*value], "{key} in {pairs:?}");
    }
    for (k, _) in pairs {
        assert!(
            want.iter().any(|(w, _)| w == k) || allowed_extra.contains(&k.as_str()),
            "unexpected parameter {k:?} in {pairs:?}"
        );
    }
}

const V1_COMMON: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

#[tokio::test]
async fn parameter_values_cannot_change_other_parameters() {
    faulty::count_panics();
    let mut calls = 0;
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let setup = Setup { version, sts: true };
        let extra: &[&str] = if version == SignatureVersion::V1 { V1_COMMON } else { &[] };
        let server = Faulty::start(vec![Act::Reply(Answer::new(
            200,
            r#"{"OnlineStatus":true,"RequestId":"R","Success":true,"MsgId":"M"}"#,
        ))])
        .await;
        let client = Client::new(config(&server.endpoint(), setup).build().unwrap());
        for value in TRICKY {
            // In the query string.
            client
                .query_session_by_client_id()
                .instance_id("mqtt-cn-real")
                .client_id(*value)
                .send()
                .await
                .unwrap();
            // In the form body.
            client
                .add_custom_auth_connect_black()
                .instance_id("mqtt-cn-real")
                .client_id(*value)
                .send()
                .await
                .unwrap();
            // Three query parameters, the value in each position.
            client
                .send_message()
                .instance_id("mqtt-cn-real")
                .mqtt_topic(*value)
                .payload(format!("{value}{value}"))
                .send()
                .await
                .unwrap();
            calls += 3;
            let seen = server.seen();
            let [.., query, form, send] = &seen[..] else { panic!("{seen:?}") };

            let q = faulty::parse_pairs(query.query());
            assert!(query.body.is_empty());
            check_pairs(&q, &[("ClientId", value), ("InstanceId", "mqtt-cn-real")], extra);

            assert_eq!(form.header("content-type"), Some("application/x-www-form-urlencoded"));
            let body = faulty::parse_pairs(std::str::from_utf8(&form.body).unwrap());
            check_pairs(&body, &[("ClientId", value), ("InstanceId", "mqtt-cn-real")], &[]);
            check_pairs(&faulty::parse_pairs(form.query()), &[], extra);

            let doubled = format!("{value}{value}");
            check_pairs(
                &faulty::parse_pairs(send.query()),
                &[("MqttTopic", value), ("InstanceId", "mqtt-cn-real"), ("Payload", &doubled)],
                extra,
            );

            for s in [query, form, send] {
                // The request line is one line with an encoded target; no header was added.
                assert!(s.target.bytes().all(|b| b.is_ascii_graphic()), "{:?}", s.target);
                assert!(!s.target.contains('#'), "{:?}", s.target);
                assert!(s.header("x-injected").is_none(), "{:?}", s.headers);
                assert_eq!(s.method, "POST");
            }
            // The action is the operation's, whatever the values say.
            if version == SignatureVersion::V1 {
                assert_eq!(
                    q.iter().filter(|(k, _)| k == "Action").map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
                    ["QuerySessionByClientId"]
                );
            } else {
                assert_eq!(query.header("x-acs-action"), Some("QuerySessionByClientId"));
            }
        }
        assert_eq!(server.requests(), TRICKY.len() * 3);
    }
    assert_eq!(faulty::count_panics().load(Ordering::SeqCst), 0);
    eprintln!("injection check: {calls} calls with {} tricky values", TRICKY.len());
}

#[test]
fn app_name_cannot_inject_headers() {
    for bad in ["x\r\nX-Injected: 1", "x\ny", "x\0y", "日本"] {
        let r = Config::builder().region("cn-hangzhou").app_name(bad).build();
        assert!(r.is_err(), "{bad:?} was accepted");
    }
}

// ---- 3. HTTPS by default -----------------------------------------------------------------------

#[test]
fn https_by_default_http_only_when_explicit() {
    let client = |b: alibabacloud_onsmqtt::ConfigBuilder| Client::new(b.build().unwrap());
    for region in ["cn-hangzhou", "ap-southeast-1", "us-west-1"] {
        let c = client(Config::builder().region(region));
        assert_eq!(c.endpoint(), format!("https://onsmqtt.{region}.aliyuncs.com"));
        assert_eq!(c.config().endpoint(), None);
        let c = client(Config::builder().region(region).network(Network::Vpc));
        assert_eq!(c.endpoint(), format!("https://onsmqtt-vpc.{region}.aliyuncs.com"));
    }
    // An endpoint without a scheme is HTTPS too.
    let c = client(Config::builder().endpoint("onsmqtt.example.com"));
    assert_eq!(c.endpoint(), "https://onsmqtt.example.com");
    assert_eq!(c.config().endpoint(), Some("https://onsmqtt.example.com"));
    let c = client(Config::builder().region("cn-hangzhou").endpoint("onsmqtt.example.com:8443"));
    assert_eq!(c.endpoint(), "https://onsmqtt.example.com:8443");
    // Plain HTTP only when spelled out.
    let c = client(Config::builder().endpoint("http://127.0.0.1:8080"));
    assert_eq!(c.endpoint(), "http://127.0.0.1:8080");
    // Other schemes are refused.
    for bad in ["ftp://example.com", "file:///etc/passwd", "ws://example.com"] {
        assert!(Config::builder().endpoint(bad).build().is_err(), "{bad}");
    }
}

/// Values the spec marks `sensitive` (user secrets, tokens, device AccessKey secrets) are hidden
/// by `Debug`, in builders (what the caller set) and in decoded answers.
#[test]
fn sensitive_values_are_hidden_by_debug() {
    let client = alibabacloud_onsmqtt::Client::new(
        alibabacloud_onsmqtt::Config::builder()
            .endpoint("http://127.0.0.1:9")
            .credentials(alibabacloud_onsmqtt::Credentials::new("id", "secret-not-shown"))
            .build()
            .unwrap(),
    );
    let builder =
        client.add_custom_auth_identity().instance_id("i").username("u").secret("HUNTER2-user-secret");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("HUNTER2"), "{shown}");
    assert!(shown.contains("secret: Some(***)"), "{shown}");
    assert!(shown.contains("username: Some(\"u\")"), "the other parameters still show: {shown}");

    let answer: alibabacloud_onsmqtt::operations::GetDeviceCredentialOutput = serde_json::from_str(
        r#"{"RequestId":"r","DeviceCredential":{"ClientId":"c","DeviceAccessKeyId":"DC.id","DeviceAccessKeySecret":"DC.HUNTER2"}}"#,
    )
    .unwrap();
    assert_eq!(answer.device_credential.device_access_key_secret.as_deref(), Some("DC.HUNTER2"));
    let shown = format!("{answer:?}");
    assert!(!shown.contains("HUNTER2"), "{shown}");
    assert!(shown.contains("DC.id"), "{shown}");

    let token: alibabacloud_onsmqtt::operations::ApplyTokenOutput =
        serde_json::from_str(r#"{"RequestId":"r","Token":"TOKEN-HUNTER2"}"#).unwrap();
    assert!(!format!("{token:?}").contains("HUNTER2"));
}
