//! Calls per second of one read (`QueryToken`) and one write (`RegisterDeviceCredential`, a new
//! client ID each time) at concurrency 64, in memory, client and service in one process on
//! 127.0.0.1. For BENCHMARKS.md: `cargo run --release -p onsmqtt-local --example throughput`.

use onsmqtt_local::{Config, DEMO_INSTANCE_ID};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 64;
const SECONDS: u64 = 5;

#[tokio::main]
async fn main() -> Result<(), String> {
    let local = onsmqtt_local::start(Config::demo()).await?;
    let client = local.client().map_err(|e| e.to_string())?;
    let token = client
        .apply_token()
        .instance_id(DEMO_INSTANCE_ID)
        .resources("t/a")
        .actions("R")
        .expire_time(
            i64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_err(|e| e.to_string())?
                    .as_millis(),
            )
            .unwrap_or(0)
                + 3_600_000,
        )
        .send()
        .await
        .map_err(|e| e.to_string())?
        .token;
    for write in [false, true] {
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(SECONDS);
        let mut tasks = Vec::new();
        for t in 0..CONCURRENCY {
            let (c, ok, failed, token) = (client.clone(), ok.clone(), failed.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = 0u64;
                while Instant::now() < deadline {
                    i += 1;
                    let r = if write {
                        let id = format!("GID_bench@@@{t}-{i}");
                        c.register_device_credential()
                            .instance_id(DEMO_INSTANCE_ID)
                            .client_id(id)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    } else {
                        c.query_token()
                            .instance_id(DEMO_INSTANCE_ID)
                            .token(&token)
                            .send()
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    };
                    let counter = if r.is_ok() { &ok } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for task in tasks {
            task.await.map_err(|e| e.to_string())?;
        }
        let n = ok.load(Ordering::Relaxed);
        println!(
            "{:<36} {:>8.0} calls/s ({} ok, {} failed, concurrency {CONCURRENCY}, {SECONDS} s)",
            if write { "write RegisterDeviceCredential" } else { "read QueryToken" },
            n as f64 / SECONDS as f64,
            n,
            failed.load(Ordering::Relaxed)
        );
    }
    local.stop().await;
    Ok(())
}
