//! Throughput: our client against a bare reqwest client, both calling the same local server.
//!
//! A minimal HTTP/1.1 server (hyper, keep-alive, fixed JSON answer) runs in this process on its
//! own one-thread runtime (threads named `bench-server`); the clients run on a two-thread runtime.
//! For each concurrency (1 and 64) and each round, both clients make the same number of calls:
//!
//! - **ours**: `client.query_session_by_client_id().client_id(..).instance_id(..).send()` with
//!   static credentials, a plain `http://127.0.0.1` endpoint and the default retries (V3 signing,
//!   tracing span, bounded body read, classification, JSON decoding: all of it);
//! - **bare**: the same unsigned `POST /?ClientId=..&InstanceId=..` through a `reqwest::Client`
//!   with the same transport settings (HTTP/1.1 only, same timeouts, rustls/ring), reading the
//!   body and decoding it into the same output struct.
//!
//! Reported per client: calls/s, CPU time per call for the whole process (getrusage, server
//! included, measured the same way for both) and for the client side alone (the server threads'
//! CPU from /proc subtracted), and peak RSS (VmHWM, reset before each run where the kernel allows).
//! The median of the rounds is kept. Results go to `target/bench-results/throughput.json`.
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
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Bare => "bare",
        }
    }
}

/// Both clients, built once and reused by every run (as an application would).
struct Clients {
    ours: Client,
    bare: reqwest::Client,
    bare_url: reqwest::Url,
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
            Kind::Bare => {
                let response = self
                    .bare
                    .post(self.bare_url.clone())
                    .header(reqwest::header::CONTENT_LENGTH, "0")
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
    calls_per_s: f64,
    cpu_ns_per_call: f64,
    client_cpu_ns_per_call: f64,
    peak_rss_kib: u64,
}

fn run(rt: &tokio::runtime::Runtime, clients: &Arc<Clients>, kind: Kind, concurrency: usize, calls: usize) -> Sample {
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
    serde_json::json!({
        "calls_per_s": m(|s| s.calls_per_s),
        "cpu_ns_per_call": m(|s| s.cpu_ns_per_call),
        "client_cpu_ns_per_call": m(|s| s.client_cpu_ns_per_call),
        "peak_rss_kib": samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0),
        "rounds": samples.iter().map(|s| serde_json::json!({
            "calls_per_s": s.calls_per_s,
            "cpu_ns_per_call": s.cpu_ns_per_call,
            "client_cpu_ns_per_call": s.client_cpu_ns_per_call,
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
                let mut response = hyper::Response::new(Full::new(Bytes::from_static(QUERY_SESSION_BODY.as_bytes())));
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
    let rounds = arg(&args, "--rounds", 3).max(1);

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

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()
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
    let clients = Arc::new(Clients { ours: Client::new(config), bare, bare_url });

    // Warm up: open the connections of both pools, fault in the code paths.
    for kind in [Kind::Ours, Kind::Bare] {
        run(&client_rt, &clients, kind, 64, 4_096);
    }

    println!("throughput: {calls} calls per run, median of {rounds} rounds, server in-process on {addr}");
    println!(
        "{:>4} {:>5} {:>11} {:>14} {:>14} {:>10}",
        "conc", "who", "calls/s", "cpu/call (us)", "client (us)", "peak RSS"
    );
    let mut results = Vec::new();
    for concurrency in [1usize, 64] {
        let mut ours = Vec::new();
        let mut bare = Vec::new();
        for round in 0..rounds {
            // Alternate who goes first, so drift on a shared machine hits both alike.
            let order = if round % 2 == 0 { [Kind::Ours, Kind::Bare] } else { [Kind::Bare, Kind::Ours] };
            for kind in order {
                let s = run(&client_rt, &clients, kind, concurrency, calls);
                println!(
                    "{concurrency:>4} {:>5} {:>11.0} {:>14.2} {:>14.2} {:>7} MiB",
                    kind.name(),
                    s.calls_per_s,
                    s.cpu_ns_per_call / 1e3,
                    s.client_cpu_ns_per_call / 1e3,
                    s.peak_rss_kib / 1024
                );
                if kind == Kind::Ours { ours.push(s) } else { bare.push(s) }
            }
        }
        let (o, b) = (summarize(&ours), summarize(&bare));
        let ratio = |k: &str| o[k].as_f64().unwrap_or(0.0) / b[k].as_f64().unwrap_or(1.0).max(f64::MIN_POSITIVE);
        let r = serde_json::json!({
            "concurrency": concurrency,
            "calls": calls,
            "ours": o,
            "bare": b,
            "calls_per_s_ratio": ratio("calls_per_s"),
            "cpu_per_call_ratio": ratio("cpu_ns_per_call"),
            "client_cpu_per_call_ratio": ratio("client_cpu_ns_per_call"),
        });
        println!(
            "  concurrency {concurrency}: ours/bare calls/s {:.3}, CPU/call {:.3} (client side alone {:.3})",
            r["calls_per_s_ratio"].as_f64().unwrap_or(0.0),
            r["cpu_per_call_ratio"].as_f64().unwrap_or(0.0),
            r["client_cpu_per_call_ratio"].as_f64().unwrap_or(0.0)
        );
        results.push(r);
    }
    // Let the runtimes go before the final reading.
    drop(clients);
    client_rt.shutdown_timeout(Duration::from_secs(1));
    let peak = results
        .iter()
        .flat_map(|r| [&r["ours"]["peak_rss_kib"], &r["bare"]["peak_rss_kib"]])
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
