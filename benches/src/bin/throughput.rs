//! Throughput: our client against a bare reqwest client, both calling the same local server.
//!
//! A minimal HTTP/1.1 server (hyper, keep-alive, fixed JSON answer) runs in this process on its
//! own one-thread runtime (threads named `bench-server`); the clients run on a two-thread runtime.
//! For each concurrency (1 and 64), each client makes `--calls` calls (20,000) in `--rounds` short
//! rounds (10), every round running the clients one after the other:
//!
//! - **ours**: `client.query_session_by_client_id().client_id(..).instance_id(..).send()` with
//!   static credentials, a plain `http://127.0.0.1` endpoint and the default retries (V3 signing,
//!   tracing span, bounded body read, classification, JSON decoding: all of it);
//! - **bare**: the same unsigned `POST /?ClientId=..&InstanceId=..` through a `reqwest::Client`
//!   with the same transport settings (HTTP/1.1 only, same timeouts, rustls/ring), reading the
//!   body and decoding it into the same output struct;
//! - **bare_headers** (diagnostic): the bare client sending, prebuilt, the ten headers a signed
//!   request carries (fixed values): what carrying them costs the transport and the server,
//!   with no signing at all.
//!
//! Reported per client: calls/s, CPU time per call for the whole process (getrusage, server
//! included, measured the same way for both) and for the client side alone (the server threads'
//! CPU from /proc subtracted), and peak RSS (VmHWM, reset before each run where the kernel allows).
//! Ratios are paired: taken within each round, then the median over the rounds; absolute
//! values are medians over the rounds. Results go to `target/bench-results/throughput.json`.
//!
//! `cargo run --release -p onsmqtt-benches --bin throughput -- [--calls N] [--rounds R]`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alibabacloud_onsmqtt::operations::QuerySessionByClientIdOutput;
use alibabacloud_onsmqtt::{Client, Config, Credentials};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use onsmqtt_benches::{
    QUERY_SESSION_BODY, peak_rss_kib, process_cpu_ns, reset_peak_rss, threads_cpu_ns, write_result,
};

const CLIENT_ID: &str = "GID_test@@@test";
const INSTANCE_ID: &str = "post-cn-0pp12gl****";
const SERVER_THREAD: &str = "bench-server";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ours,
    Bare,
    /// Diagnostic: the bare client sending, prebuilt, the headers a signed request carries. The
    /// difference to `Bare` is what carrying them costs the transport and the server.
    BareHeaders,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Ours, Kind::Bare, Kind::BareHeaders];

    fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Bare => "bare",
            Kind::BareHeaders => "bare_headers",
        }
    }
}

/// Both clients, built once and reused by every run (as an application would).
struct Clients {
    ours: Client,
    bare: reqwest::Client,
    bare_url: reqwest::Url,
    signed_headers: reqwest::header::HeaderMap,
}

impl Clients {
    async fn call(&self, kind: Kind) {
        let out = match kind {
            Kind::Ours => self
                .ours
                .query_session_by_client_id()
                .client_id(CLIENT_ID)
                .instance_id(INSTANCE_ID)
                .send()
                .await
                .expect("our call succeeds"),
            Kind::Bare | Kind::BareHeaders => {
                let request = self.bare.post(self.bare_url.clone());
                let request = if kind == Kind::Bare {
                    request.header(reqwest::header::CONTENT_LENGTH, "0")
                } else {
                    request.headers(self.signed_headers.clone())
                };
                let response = request
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .expect("the bare call succeeds");
                let body = response.bytes().await.expect("the bare body arrives");
                serde_json::from_slice::<QuerySessionByClientIdOutput>(&body).expect("the bare body decodes")
            }
        };
        assert!(out.online_status);
    }
}

/// One measured run.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    calls: f64,
    cpu_ns: f64,
    server_ns: f64,
    calls_per_s: f64,
    cpu_ns_per_call: f64,
    client_cpu_ns_per_call: f64,
    peak_rss_kib: u64,
}

fn run(
    rt: &tokio::runtime::Runtime,
    clients: &Arc<Clients>,
    kind: Kind,
    concurrency: usize,
    calls: usize,
) -> Sample {
    let per_task = calls / concurrency;
    let total = per_task * concurrency;
    let peak_reset = reset_peak_rss();
    let cpu0 = process_cpu_ns();
    let server0 = threads_cpu_ns(SERVER_THREAD);
    let started = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let clients = Arc::clone(clients);
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        clients.call(kind).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("a client task panicked");
        }
    });
    let wall = started.elapsed();
    let cpu = process_cpu_ns().saturating_sub(cpu0) as f64;
    let server = threads_cpu_ns(SERVER_THREAD).saturating_sub(server0) as f64;
    let n = total as f64;
    Sample {
        calls: n,
        cpu_ns: cpu,
        server_ns: server,
        calls_per_s: n / wall.as_secs_f64(),
        cpu_ns_per_call: cpu / n,
        client_cpu_ns_per_call: (cpu - server).max(0.0) / n,
        peak_rss_kib: if peak_reset { peak_rss_kib().unwrap_or(0) } else { 0 },
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn summarize(samples: &[Sample]) -> serde_json::Value {
    let m = |f: fn(&Sample) -> f64| median(samples.iter().map(f).collect());
    let sum = |f: fn(&Sample) -> f64| samples.iter().map(f).sum::<f64>();
    // The server threads' CPU comes in clock ticks (10 ms): over all rounds, not per round.
    let client = (sum(|s| s.cpu_ns) - sum(|s| s.server_ns)).max(0.0) / sum(|s| s.calls).max(1.0);
    serde_json::json!({
        "calls_per_s": m(|s| s.calls_per_s),
        "cpu_ns_per_call": m(|s| s.cpu_ns_per_call),
        "client_cpu_ns_per_call": client,
        "peak_rss_kib": samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0),
        "rounds": samples.iter().map(|s| serde_json::json!({
            "calls_per_s": s.calls_per_s,
            "cpu_ns_per_call": s.cpu_ns_per_call,
        })).collect::<Vec<_>>(),
    })
}

/// The server: HTTP/1.1 with keep-alive, the same JSON answer to every request.
async fn serve(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
                let mut response =
                    hyper::Response::new(Full::new(Bytes::from_static(QUERY_SESSION_BODY.as_bytes())));
                response.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/json;charset=utf-8"),
                );
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The headers our client sends with a V3 request, with fixed values (for `Kind::BareHeaders`).
fn signed_headers(host: &str, user_agent: &str) -> reqwest::header::HeaderMap {
    use reqwest::header::{HeaderName, HeaderValue};
    let fixed: [(&str, &str); 8] = [
        ("accept", "application/json"),
        ("x-acs-action", "QuerySessionByClientId"),
        ("x-acs-version", "2020-04-20"),
        ("x-acs-date", "2026-11-25T16:33:53Z"),
        ("x-acs-signature-nonce", "5bada90d77ab75779895acb5101c5bb6"),
        ("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (
            "authorization",
            "ACS3-HMAC-SHA256 Credential=LTAI5tExampleAccessKeyId,SignedHeaders=accept;host;user-agent;\
             x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=97508021cb3b5124d07de7f86d4ebee99ae5a29b4f4df41ac3fdcbaf25821309",
        ),
        ("content-length", "0"),
    ];
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in [("host", host), ("user-agent", user_agent)].into_iter().chain(fixed) {
        let value = HeaderValue::from_str(value).expect("a valid header value");
        map.insert(HeaderName::from_static(name), value);
    }
    map
}

/// The bare client: the transport our client builds (rustls with ring on the client, HTTP/1.1
/// only, no redirects, the same timeouts), and nothing else.
fn bare_client(config: &Config) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .http1_only()
        .connect_timeout(config.connect_timeout())
        .read_timeout(config.read_timeout())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the bare client builds")
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls = arg(&args, "--calls", 20_000);
    // Many short rounds, each running every client in turn: slow drift in the machine's load
    // hits the three alike.
    let rounds = arg(&args, "--rounds", 10).max(1);
    let per_run = (calls / rounds).max(64);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()
        .expect("server runtime");
    let addr: SocketAddr = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(serve(listener));
        addr
    });

    // `--client-threads N` (default 1): one thread is a current-thread runtime, which gives the
    // steadiest CPU figures on a small machine (no idle workers spinning for work to steal).
    let client_threads = arg(&args, "--client-threads", 1).max(1);
    let client_rt = if client_threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(client_threads)
            .thread_name("bench-client")
            .enable_all()
            .build()
    }
    .expect("client runtime");
    let endpoint = format!("http://{addr}");
    let config = Config::builder()
        .endpoint(&endpoint)
        .credentials(Credentials::new("LTAI5tExampleAccessKeyId", "ExampleAccessKeySecret0123456789"))
        .build()
        .expect("config");
    let bare = bare_client(&config);
    let bare_url = reqwest::Url::parse(&format!(
        "{endpoint}/?ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A"
    ))
    .expect("url");
    let ours = Client::new(config);
    let signed_headers = signed_headers(&addr.to_string(), ours.user_agent());
    let clients = Arc::new(Clients { ours, bare, bare_url, signed_headers });

    // `--profile ours|bare [--concurrency N]`: one client only, for callgrind or perf.
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let kind = match args.get(i + 1).map(String::as_str) {
            Some("ours") => Kind::Ours,
            Some("bare") => Kind::Bare,
            Some("bare_headers") => Kind::BareHeaders,
            _ => panic!("--profile takes `ours`, `bare` or `bare_headers`"),
        };
        let concurrency = arg(&args, "--concurrency", 1).max(1);
        run(&client_rt, &clients, kind, concurrency, concurrency * 8);
        let s = run(&client_rt, &clients, kind, concurrency, calls);
        println!("{}: {:.0} calls/s, {:.2} us CPU/call", kind.name(), s.calls_per_s, s.cpu_ns_per_call / 1e3);
        return;
    }

    // Warm up: open the connections of both pools, fault in the code paths.
    for kind in Kind::ALL {
        run(&client_rt, &clients, kind, 64, 4_096);
    }

    println!(
        "throughput: {calls} calls per client and concurrency, in {rounds} rounds of {per_run}; \
         server in-process on {addr}"
    );
    println!(
        "{:>4} {:>12} {:>11} {:>14} {:>14} {:>10}",
        "conc", "who", "calls/s", "cpu/call (us)", "client (us)", "peak RSS"
    );
    let mut results = Vec::new();
    for concurrency in [1usize, 64] {
        let mut samples: [Vec<Sample>; 3] = Default::default();
        for round in 0..rounds {
            // Rotate who goes first, so drift on a shared machine hits all alike.
            let mut order = Kind::ALL;
            order.rotate_left(round % Kind::ALL.len());
            for kind in order {
                let s = run(&client_rt, &clients, kind, concurrency, per_run);
                println!(
                    "{concurrency:>4} {:>12} {:>11.0} {:>14.2} {:>14.2} {:>7} MiB",
                    kind.name(),
                    s.calls_per_s,
                    s.cpu_ns_per_call / 1e3,
                    s.client_cpu_ns_per_call / 1e3,
                    s.peak_rss_kib / 1024
                );
                samples[kind as usize].push(s);
            }
        }
        let [o, b, h] = [0, 1, 2].map(|i| summarize(&samples[i]));
        // Ratios are taken within each round (runs next to each other in time), then the median
        // over the rounds: load from other processes on a shared machine drifts slowly and
        // cancels out of a paired ratio, much less out of a ratio of medians.
        let ratio = |x: &[Sample], y: &[Sample], f: fn(&Sample) -> f64| {
            median(x.iter().zip(y).map(|(x, y)| f(x) / f(y).max(f64::MIN_POSITIVE)).collect())
        };
        let (os, bs, hs) = (&samples[0], &samples[1], &samples[2]);
        let (by_calls, by_cpu) = (|s: &Sample| s.calls_per_s, |s: &Sample| s.cpu_ns_per_call);
        let r = serde_json::json!({
            "concurrency": concurrency,
            "calls": calls,
            "ratios": "median over rounds of the ratio within each round",
            "calls_per_s_ratio": ratio(os, bs, by_calls),
            "cpu_per_call_ratio": ratio(os, bs, by_cpu),
            // From totals: the server threads' CPU is known to 10 ms only.
            "client_cpu_per_call_ratio": o["client_cpu_ns_per_call"].as_f64().unwrap_or(0.0)
                / b["client_cpu_ns_per_call"].as_f64().unwrap_or(1.0).max(f64::MIN_POSITIVE),
            "bare_headers_calls_per_s_ratio": ratio(hs, bs, by_calls),
            "bare_headers_cpu_per_call_ratio": ratio(hs, bs, by_cpu),
            "ours": o,
            "bare": b,
            "bare_headers": h,
        });
        let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
        println!(
            "  concurrency {concurrency}: ours/bare calls/s {:.3}, CPU/call {:.3} (client side alone {:.3}); \
             bare with our headers/bare: calls/s {:.3}, CPU/call {:.3}",
            f("calls_per_s_ratio"),
            f("cpu_per_call_ratio"),
            f("client_cpu_per_call_ratio"),
            f("bare_headers_calls_per_s_ratio"),
            f("bare_headers_cpu_per_call_ratio"),
        );
        results.push(r);
    }
    // Let the runtimes go before the final reading.
    drop(clients);
    client_rt.shutdown_timeout(Duration::from_secs(1));
    let peak = results
        .iter()
        .flat_map(|r| Kind::ALL.map(|k| &r[k.name()]["peak_rss_kib"]))
        .filter_map(serde_json::Value::as_u64)
        .chain(peak_rss_kib())
        .max()
        .unwrap_or(0);
    println!("peak RSS (VmHWM) of the process: {} MiB", peak / 1024);
    let out = serde_json::json!({
        "calls": calls,
        "rounds": rounds,
        "results": results,
        "peak_rss_kib": peak,
    });
    match write_result("throughput", &out) {
        Ok(p) => println!("results: {}", p.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}
