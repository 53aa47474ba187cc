//! Load: one client shared by 256 concurrent tasks makes 10,000 calls (two rounds of 5,000)
//! against a minimal keep-alive server. Every call is accounted for on both sides, memory does
//! not grow from one round to the next, and once the client is dropped and the server stopped
//! the process holds about as many file descriptors as before.
//!
//! Bounded in count, not in time: nothing here asserts speed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alibabacloud_onsmqtt::{Client, Config, Credentials, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const CONCURRENCY: usize = 256;
const ROUND: usize = 5_000;

/// The one answer the load server gives.
fn answer() -> &'static [u8] {
    static ANSWER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ANSWER.get_or_init(|| {
        let body = r#"{"OnlineStatus":true,"RequestId":"load"}"#;
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
}

/// A minimal HTTP/1.1 keep-alive server answering every request with [`answer`].
struct FastServer {
    endpoint: String,
    requests: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
    tasks: tokio::task::JoinHandle<()>,
}

impl FastServer {
    async fn start() -> FastServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (stop, mut stopped) = watch::channel(false);
        let (req2, conn2) = (requests.clone(), connections.clone());
        let tasks = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((sock, _)) = accepted else { break };
                        conn2.fetch_add(1, Ordering::Relaxed);
                        let (count, mut stopped) = (req2.clone(), stopped.clone());
                        conns.spawn(async move {
                            tokio::select! {
                                _ = serve(sock, &count) => {}
                                _ = stopped.changed() => {}
                            }
                        });
                    }
                    _ = stopped.changed() => break,
                }
                // Reap finished connections as we go.
                while conns.try_join_next().is_some() {}
            }
            // Stop: close every connection and the listener.
            conns.shutdown().await;
        });
        FastServer { endpoint, requests, connections, stop, tasks }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.tasks.await;
    }
}

async fn serve(mut sock: TcpStream, count: &AtomicUsize) {
    let _ = sock.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut tmp = [0u8; 4096];
    loop {
        // Read up to the end of the head, then the body its content-length announces.
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match sock.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]);
        let len = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match sock.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        }
        buf.drain(..head_end + len);
        count.fetch_add(1, Ordering::Relaxed);
        if sock.write_all(answer()).await.is_err() {
            return;
        }
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// `n` calls over `CONCURRENCY` tasks sharing `client`; returns how many succeeded.
async fn round(client: &Client, n: usize) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, next, ok) = (client.clone(), next.clone(), ok.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let out = client
                    .query_session_by_client_id()
                    .instance_id("mqtt-cn-load")
                    .client_id("GID_load@@@1")
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("a call failed under load: {e}"));
                assert!(out.online_status);
                ok.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a load task panicked");
    }
    ok.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_from_one_shared_client() {
    let fds_before = open_fds();
    let server = FastServer::start().await;
    let client = Client::new(
        Config::builder()
            .endpoint(&server.endpoint)
            .credentials(Credentials::new("load-id", "load-secret"))
            // No retries: every call is one request, so the counts must match exactly.
            .retry(RetryConfig::disabled())
            .read_timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    );

    let started = Instant::now();
    let ok1 = round(&client, ROUND).await;
    let rss1 = rss_bytes();
    let fds_loaded = open_fds();
    let ok2 = round(&client, ROUND).await;
    let rss2 = rss_bytes();
    let elapsed = started.elapsed();

    assert_eq!(ok1 + ok2, 2 * ROUND, "every call succeeded");
    assert_eq!(server.requests.load(Ordering::Relaxed), 2 * ROUND, "the server saw every call once");
    let connections = server.connections.load(Ordering::Relaxed);
    // Keep-alive: connections are reused. The pool may open a few more than there are tasks
    // (a connect started while waiting for a busy connection is kept when the wait wins), but
    // nowhere near one per call.
    assert!(connections <= 4 * CONCURRENCY, "{connections} connections for {} calls", 2 * ROUND);
    assert!(
        rss2 <= rss1 + 64 * 1024 * 1024,
        "memory grew from {} MiB to {} MiB between rounds",
        rss1 >> 20,
        rss2 >> 20
    );

    drop(client);
    server.stop().await;
    // Connections close asynchronously: give them a moment (bounded), then compare.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut fds_after = open_fds();
    while fds_after > fds_before + 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        fds_after = open_fds();
    }
    assert!(
        fds_after <= fds_before + 4,
        "file descriptors: {fds_before} before, {fds_loaded} under load, {fds_after} after"
    );
    eprintln!(
        "load: {} calls ok, {connections} connections, fds {fds_before} -> {fds_loaded} -> {fds_after}, \
         RSS {} -> {} MiB, {:.1}s",
        ok1 + ok2,
        rss1 >> 20,
        rss2 >> 20,
        elapsed.as_secs_f64()
    );
}
