//! Throughput: our client against a bare reqwest client, both calling the same local server.
//!
//! The server is a second process (this binary with `--serve`): hyper, HTTP/1.1, keep-alive, a
//! fixed JSON answer, on a one-thread runtime. When the machine has two cores or more, the server
//! is pinned to one core and the clients to another (`sched_setaffinity`), so neither steals the
//! other's CPU and the client's CPU time is its own (`getrusage` of this process only).
//!
//! For each concurrency (1, 8, 64, 256), each client makes `--calls` calls (20,000) in `--rounds`
//! short rounds (10), every round running the clients one after the other, the order rotating:
//!
//! - **ours V3** / **ours V1**: `client.query_session_by_client_id().client_id(..)
//!   .instance_id(..).send()`, credentials from a caching provider (`CredentialsUriProvider`: STS
//!   credentials with a security token, fetched once from the server's `/credentials` and cached),
//!   a plain `http://127.0.0.1` endpoint, the default retries (signing, tracing span, bounded body
//!   read, masking, classification, JSON decoding: all of it);
//! - **ours V3, static key**: the same with a fixed AccessKey pair (no token, fewer headers);
//! - **bare**: the same unsigned `POST /?ClientId=..&InstanceId=..` through a `reqwest::Client`
//!   with the same transport settings (HTTP/1.1 only, same timeouts, rustls/ring), reading the
//!   body and decoding it into the same output struct;
//! - **bare + headers** (diagnostic): the bare client sending, prebuilt, the headers a V3 request
//!   with a security token carries (fixed values): what the protocol's headers cost the transport
//!   and the server, with no signing at all;
//! - **bare hyper** (reference): the bare call through hyper-util's pooled client directly, the
//!   layer reqwest and our own transport are both built on.
//!
//! Reported per client: calls/s, the client process's CPU time per call, the server process's
//! CPU per call (from `/proc/<pid>/stat`, 10 ms ticks, so over all rounds), peak RSS (VmHWM).
//! Ratios are paired: taken within each round, then the median over the rounds; absolute
//! values are medians over the rounds. Results go to `target/bench-results/throughput.json`.
//!
//! `cargo run --release -p onsmqtt-benches --bin throughput -- [--calls N] [--rounds R]
//! [--concurrency 1,8,64,256] [--out NAME]`; `--profile KIND [--concurrency N]` runs one client
//! alone (for callgrind or perf), KIND one of `ours_v3`, `ours_v1`, `ours_v3_static`, `bare`,
//! `bare_headers`, `bare_hyper`.

use std::convert::Infallible;
use std::io::{BufRead as _, Read as _, Write as _};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use alibabacloud_onsmqtt::operations::QuerySessionByClientIdOutput;
use alibabacloud_onsmqtt::{Client, Config, Credentials, CredentialsUriProvider, SignatureVersion};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use onsmqtt_benches::{QUERY_SESSION_BODY, peak_rss_kib, process_cpu_ns, reset_peak_rss, write_result};

const CLIENT_ID: &str = "GID_test@@@test";
const INSTANCE_ID: &str = "post-cn-0pp12gl****";
const ACCESS_KEY_ID: &str = "STS.NUgYrLnoC37mZZCNnAbez2ttt";
const ACCESS_KEY_SECRET: &str = "ExampleTemporarySecret0123456789abcdef";
const SECURITY_TOKEN: &str = "CAIS8gF1q6Ft5B2yfSjIr5bQKtf0q5hpxYi8OxUFgMeXPNs8vd8b4y3GbRdO6qbM\
                              zbt0m9BH3v5K9pv3nY3iOlDgwE2pFXKvF/3eUyBT9fh9DQLhdUZpvcRpKSP";
const CLIENT_CORE: usize = 0;
const SERVER_CORE: usize = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    OursV3,
    OursV1,
    OursV3Static,
    Bare,
    /// Diagnostic: the bare client sending, prebuilt, the headers a signed V3 request with a
    /// security token carries. The difference to `Bare` is what carrying them costs.
    BareHeaders,
    /// Reference: the bare call through hyper-util's pooled client (what reqwest and our
    /// transport are built on), no reqwest layers.
    BareHyper,
}

impl Kind {
    const ALL: [Kind; 6] =
        [Kind::OursV3, Kind::OursV1, Kind::OursV3Static, Kind::Bare, Kind::BareHeaders, Kind::BareHyper];

    fn name(self) -> &'static str {
        match self {
            Kind::OursV3 => "ours_v3",
            Kind::OursV1 => "ours_v1",
            Kind::OursV3Static => "ours_v3_static",
            Kind::Bare => "bare",
            Kind::BareHeaders => "bare_headers",
            Kind::BareHyper => "bare_hyper",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// Every client, built once and reused by every run (as an application would).
struct Clients {
    ours_v3: Client,
    ours_v1: Client,
    ours_v3_static: Client,
    bare: reqwest::Client,
    bare_url: reqwest::Url,
    signed_headers: reqwest::header::HeaderMap,
    hyper: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Empty<Bytes>,
    >,
    hyper_uri: hyper::Uri,
}

impl Clients {
    async fn call(&self, kind: Kind) {
        let ours = match kind {
            Kind::OursV3 => Some(&self.ours_v3),
            Kind::OursV1 => Some(&self.ours_v1),
            Kind::OursV3Static => Some(&self.ours_v3_static),
            Kind::Bare | Kind::BareHeaders | Kind::BareHyper => None,
        };
        if kind == Kind::BareHyper {
            use http_body_util::BodyExt as _;
            let request = hyper::Request::post(self.hyper_uri.clone())
                .header(hyper::header::CONTENT_LENGTH, "0")
                .body(http_body_util::Empty::new())
                .expect("a request");
            let response = self.hyper.request(request).await.expect("the hyper call succeeds");
            assert!(response.status().is_success());
            let body = response.into_body().collect().await.expect("the hyper body arrives").to_bytes();
            let out =
                serde_json::from_slice::<QuerySessionByClientIdOutput>(&body).expect("the body decodes");
            assert!(out.online_status);
            return;
        }
        let out = match ours {
            Some(client) => client
                .query_session_by_client_id()
                .client_id(CLIENT_ID)
                .instance_id(INSTANCE_ID)
                .send()
                .await
                .expect("our call succeeds"),
            None => {
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
    server_ns: f64,
    calls_per_s: f64,
    cpu_ns_per_call: f64,
    peak_rss_kib: u64,
}

fn run(
    rt: &tokio::runtime::Runtime,
    clients: &Arc<Clients>,
    server_pid: u32,
    kind: Kind,
    concurrency: usize,
    calls: usize,
) -> Sample {
    let per_task = (calls / concurrency).max(1);
    let total = per_task * concurrency;
    let peak_reset = reset_peak_rss();
    let cpu0 = process_cpu_ns();
    let server0 = pid_cpu_ns(server_pid);
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
    let server = pid_cpu_ns(server_pid).saturating_sub(server0) as f64;
    let n = total as f64;
    Sample {
        calls: n,
        server_ns: server,
        calls_per_s: n / wall.as_secs_f64(),
        cpu_ns_per_call: cpu / n,
        peak_rss_kib: if peak_reset { peak_rss_kib().unwrap_or(0) } else { 0 },
    }
}

/// User + system CPU of another process, from `/proc/<pid>/stat` (clock ticks, assumed 100/s).
fn pid_cpu_ns(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    // The command name may hold spaces: fields count from after its closing parenthesis.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    ticks * 10_000_000
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
    serde_json::json!({
        "calls_per_s": m(|s| s.calls_per_s),
        "cpu_ns_per_call": m(|s| s.cpu_ns_per_call),
        // The server's CPU comes in clock ticks (10 ms): over all rounds, not per round.
        "server_cpu_ns_per_call": sum(|s| s.server_ns) / sum(|s| s.calls).max(1.0),
        "peak_rss_kib": samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0),
        "rounds": samples.iter().map(|s| serde_json::json!({
            "calls_per_s": s.calls_per_s,
            "cpu_ns_per_call": s.cpu_ns_per_call,
        })).collect::<Vec<_>>(),
    })
}

/// Pins the calling thread (and the threads it starts afterwards) to one core.
fn pin_to_core(core: usize) -> bool {
    // SAFETY: `set` is a plain bit set on the stack, initialised by CPU_ZERO before use, and
    // sched_setaffinity(0, ..) only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `--serve`: the server process. Prints its port, serves until its standard input closes (the
/// parent exited or dropped it).
fn serve_main() {
    if cores() >= 2 && !pin_to_core(SERVER_CORE) {
        eprintln!("server: could not pin to core {SERVER_CORE}");
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("server runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        println!("PORT {port}");
        std::io::stdout().flush().expect("stdout");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            let _ = tx.send(());
        });
        tokio::select! {
            () = serve(listener) => {}
            _ = rx => {}
        }
    });
}

/// The credentials the `/credentials` path hands out (as a credentials URI does), valid for years.
fn credentials_body() -> String {
    let expiration = "2099-01-01T00:00:00Z";
    serde_json::json!({
        "Code": "Success",
        "AccessKeyId": ACCESS_KEY_ID,
        "AccessKeySecret": ACCESS_KEY_SECRET,
        "SecurityToken": SECURITY_TOKEN,
        "Expiration": expiration,
    })
    .to_string()
}

/// HTTP/1.1 with keep-alive: the credentials at `/credentials`, the same JSON answer otherwise.
async fn serve(listener: tokio::net::TcpListener) {
    let creds = Bytes::from(credentials_body());
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let creds = creds.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let body = if req.uri().path() == "/credentials" {
                    creds.clone()
                } else {
                    Bytes::from_static(QUERY_SESSION_BODY.as_bytes())
                };
                async move {
                    let mut response = hyper::Response::new(Full::new(body));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json;charset=utf-8"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Starts the server process and reads its address.
fn start_server() -> (Child, SocketAddr) {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let mut child = Command::new(exe)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server process starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line).expect("the server prints its port");
    let port: u16 =
        line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()).expect("`PORT <n>` from the server");
    (child, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The headers our client sends with a V3 request and STS credentials, with fixed values.
fn signed_headers(host: &str, user_agent: &str) -> reqwest::header::HeaderMap {
    use reqwest::header::{HeaderName, HeaderValue};
    let fixed: [(&str, &str); 10] = [
        ("accept", "application/json"),
        ("x-acs-action", "QuerySessionByClientId"),
        ("x-acs-version", "2020-04-20"),
        ("x-acs-date", "2026-11-25T16:33:53Z"),
        ("x-acs-signature-nonce", "5bada90d77ab75779895acb5101c5bb6"),
        ("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("x-acs-accesskey-id", ACCESS_KEY_ID),
        ("x-acs-security-token", SECURITY_TOKEN),
        (
            "authorization",
            "ACS3-HMAC-SHA256 Credential=STS.NUgYrLnoC37mZZCNnAbez2ttt,SignedHeaders=accept;host;\
             user-agent;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;\
             x-acs-security-token;x-acs-signature-nonce;x-acs-version,\
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

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn num(args: &[String], name: &str, default: usize) -> usize {
    arg(args, name).map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
}

fn build_clients(endpoint: &str) -> Clients {
    let ours = |signature: SignatureVersion, cached: bool| {
        let builder = Config::builder().endpoint(endpoint).signature_version(signature);
        let builder = if cached {
            let provider = CredentialsUriProvider::builder()
                .uri(format!("{endpoint}/credentials"))
                .build()
                .expect("the credentials URI provider builds");
            builder.credentials_provider(provider)
        } else {
            builder
                .credentials(Credentials::new("LTAI5tExampleAccessKeyId", "ExampleAccessKeySecret0123456789"))
        };
        Client::new(builder.build().expect("config"))
    };
    let ours_v3 = ours(SignatureVersion::V3, true);
    let bare = bare_client(ours_v3.config());
    let bare_url = reqwest::Url::parse(&format!(
        "{endpoint}/?ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A"
    ))
    .expect("url");
    let host = endpoint.trim_start_matches("http://");
    let signed_headers = signed_headers(host, ours_v3.user_agent());
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let hyper =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let hyper_uri = bare_url.as_str().parse().expect("a URI");
    Clients {
        hyper,
        hyper_uri,
        ours_v1: ours(SignatureVersion::V1, true),
        ours_v3_static: ours(SignatureVersion::V3, false),
        ours_v3,
        bare,
        bare_url,
        signed_headers,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--serve") {
        serve_main();
        return;
    }
    let calls = num(&args, "--calls", 20_000);
    // Many short rounds, each running every client in turn: slow drift in the machine's load
    // hits them alike.
    let rounds = num(&args, "--rounds", 10).max(1);
    let per_run = (calls / rounds).max(256);
    let concurrencies: Vec<usize> = arg(&args, "--concurrency")
        .unwrap_or("1,8,64,256")
        .split(',')
        .map(|c| c.trim().parse::<usize>().expect("--concurrency takes numbers").max(1))
        .collect();

    let (mut server, addr) = start_server();
    let pinned = cores() >= 2 && pin_to_core(CLIENT_CORE);
    // One thread, a current-thread runtime: the steadiest CPU figures (no idle workers spinning).
    let client_rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
    let endpoint = format!("http://{addr}");
    let clients = Arc::new(build_clients(&endpoint));
    let pid = server.id();

    if let Some(kind) = arg(&args, "--profile") {
        let kind = Kind::parse(kind)
            .unwrap_or_else(|| panic!("--profile takes one of {:?}", Kind::ALL.map(Kind::name)));
        let concurrency = concurrencies.first().copied().unwrap_or(1);
        run(&client_rt, &clients, pid, kind, concurrency, concurrency * 8);
        let s = run(&client_rt, &clients, pid, kind, concurrency, calls);
        println!("{}: {:.0} calls/s, {:.2} us CPU/call", kind.name(), s.calls_per_s, s.cpu_ns_per_call / 1e3);
        return;
    }

    // Warm up: open the connections of every pool, fetch the credentials, fault the code in.
    let widest = concurrencies.iter().copied().max().unwrap_or(1);
    for kind in Kind::ALL {
        run(&client_rt, &clients, pid, kind, widest, widest * 16);
    }

    println!(
        "throughput: {calls} calls per client and concurrency, in {rounds} rounds of {per_run}; server process \
         {pid} on {addr}; {}",
        if pinned {
            format!("client pinned to core {CLIENT_CORE}, server to core {SERVER_CORE}")
        } else {
            "not pinned".into()
        }
    );
    println!("{:>4} {:>15} {:>11} {:>14} {:>10}", "conc", "who", "calls/s", "cpu/call (us)", "peak RSS");
    let mut results = Vec::new();
    for &concurrency in &concurrencies {
        let mut samples: [Vec<Sample>; 6] = Default::default();
        for round in 0..rounds {
            let mut order = Kind::ALL;
            order.rotate_left(round % Kind::ALL.len());
            for kind in order {
                let s = run(&client_rt, &clients, pid, kind, concurrency, per_run);
                println!(
                    "{concurrency:>4} {:>15} {:>11.0} {:>14.2} {:>7} MiB",
                    kind.name(),
                    s.calls_per_s,
                    s.cpu_ns_per_call / 1e3,
                    s.peak_rss_kib / 1024
                );
                samples[kind as usize].push(s);
            }
        }
        // Ratios are taken within each round (runs next to each other in time), then the median
        // over the rounds: load from other processes drifts slowly and cancels out of a paired
        // ratio, much less out of a ratio of medians.
        let ratio = |x: &[Sample], y: &[Sample], f: fn(&Sample) -> f64| {
            median(x.iter().zip(y).map(|(x, y)| f(x) / f(y).max(f64::MIN_POSITIVE)).collect())
        };
        let bare = &samples[Kind::Bare as usize];
        let mut r = serde_json::json!({ "concurrency": concurrency, "calls": calls });
        let mut line = format!("  concurrency {concurrency}, ratio to bare (calls/s, CPU/call):");
        for kind in Kind::ALL {
            let s = &samples[kind as usize];
            let mut v = summarize(s);
            if kind != Kind::Bare {
                let (calls, cpu) = (ratio(s, bare, |s| s.calls_per_s), ratio(s, bare, |s| s.cpu_ns_per_call));
                v["calls_per_s_ratio"] = calls.into();
                v["cpu_per_call_ratio"] = cpu.into();
                line.push_str(&format!(" {} {calls:.3} {cpu:.3};", kind.name()));
            }
            r[kind.name()] = v;
        }
        println!("{line}");
        results.push(r);
    }
    drop(server.stdin.take());
    let _ = server.wait();
    let peak = results
        .iter()
        .flat_map(|r| Kind::ALL.map(|k| &r[k.name()]["peak_rss_kib"]))
        .filter_map(serde_json::Value::as_u64)
        .chain(peak_rss_kib())
        .max()
        .unwrap_or(0);
    let out = serde_json::json!({
        "calls": calls,
        "rounds": rounds,
        "pinned": pinned,
        "server": "separate process",
        "results": results,
        "peak_rss_kib": peak,
    });
    match write_result(arg(&args, "--out").unwrap_or("throughput"), &out) {
        Ok(p) => println!("results: {}", p.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}
