//! Connects per second and messages per second through our broker (ApsaraMQ authentication,
//! permissions, traces) next to the bare rmqtt broker, at a stated concurrency, in one run.
//!
//! ```text
//! cargo run --release -p onsmqtt-local-mqtt --example mqtt_bench -- [connections] [concurrency] [messages] [publishers]
//! ```
//!
//! Defaults: 1000 connects by 16 concurrent clients; 20 000 QoS 1 messages of 64 bytes from
//! 4 publishers to 1 subscriber. Clients are rumqttc, in the same process, over 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use onsmqtt_local_mqtt::auth::sign_client_id;
use onsmqtt_local_mqtt::{BrokerConfig, InMemoryAuthSource, MqttBroker};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, QoS};

const INSTANCE: &str = "mqtt-cn-bench";
const AK_ID: &str = "LTAIbench";
const AK_SECRET: &str = "bench-secret";

/// Per-subscriber queue of both brokers: large enough that the fan-in does not drop.
const QUEUE: usize = 100_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn options(addr: SocketAddr, client_id: &str, with_auth: bool) -> MqttOptions {
    let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    if with_auth {
        options
            .set_credentials(format!("Signature|{AK_ID}|{INSTANCE}"), sign_client_id(AK_SECRET, client_id));
    }
    options
}

async fn connack(eventloop: &mut EventLoop) -> Result<(), BoxError> {
    loop {
        if let Event::Incoming(Packet::ConnAck(ack)) = eventloop.poll().await? {
            return if ack.code == ConnectReturnCode::Success {
                Ok(())
            } else {
                Err(format!("{:?}", ack.code).into())
            };
        }
    }
}

async fn connects(
    addr: SocketAddr,
    with_auth: bool,
    total: usize,
    concurrency: usize,
) -> Result<f64, BoxError> {
    let started = Instant::now();
    let per_worker = total / concurrency;
    let mut workers = Vec::new();
    for w in 0..concurrency {
        workers.push(tokio::spawn(async move {
            for i in 0..per_worker {
                let id = format!("GID_bench@@@c{w}-{i}");
                let (client, mut eventloop) = AsyncClient::new(options(addr, &id, with_auth), 10);
                tokio::time::timeout(Duration::from_secs(10), connack(&mut eventloop)).await??;
                client.disconnect().await?;
                // Send the DISCONNECT, then drop the event loop, which closes the socket.
                let _ = tokio::time::timeout(Duration::from_millis(100), eventloop.poll()).await;
            }
            Ok::<_, BoxError>(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok((per_worker * concurrency) as f64 / started.elapsed().as_secs_f64())
}

/// Messages received per second by the subscriber, and how many never arrived.
async fn messages(
    addr: SocketAddr,
    with_auth: bool,
    total: usize,
    publishers: usize,
) -> Result<(f64, usize), BoxError> {
    let (sub, mut sub_loop) = AsyncClient::new(options(addr, "GID_bench@@@sub", with_auth), 1000);
    connack(&mut sub_loop).await?;
    sub.subscribe("bench/#", QoS::AtLeastOnce).await?;
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = sub_loop.poll().await? {
            break;
        }
    }
    let per_publisher = total / publishers;
    let expected = per_publisher * publishers;
    let mut connected = Vec::new();
    for p in 0..publishers {
        let id = format!("GID_bench@@@pub{p}");
        let (client, mut eventloop) = AsyncClient::new(options(addr, &id, with_auth), 1000);
        connack(&mut eventloop).await?;
        connected.push((p, client, eventloop));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (p, client, mut eventloop) in connected {
        tasks.push(tokio::spawn(async move {
            let driver = tokio::spawn(async move {
                let mut acked = 0;
                while acked < per_publisher {
                    if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await? {
                        acked += 1;
                    }
                }
                Ok::<_, BoxError>(())
            });
            for _ in 0..per_publisher {
                client.publish(format!("bench/{p}"), QoS::AtLeastOnce, false, vec![b'x'; 64]).await?;
            }
            driver.await??;
            Ok::<_, BoxError>(())
        }));
    }
    let mut received = 0;
    let mut last = started.elapsed();
    while received < expected {
        // Stop once nothing has arrived for 3 s (the broker dropped the rest).
        match tokio::time::timeout(Duration::from_secs(3), sub_loop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::Publish(_)))) => {
                received += 1;
                last = started.elapsed();
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => break,
        }
    }
    for task in tasks {
        task.await??;
    }
    Ok((received as f64 / last.as_secs_f64(), expected - received))
}

async fn bare_broker() -> Result<(SocketAddr, tokio::task::JoinHandle<()>), BoxError> {
    let scx = rmqtt::context::ServerContext::new().busy_check_enable(false).build().await;
    let listener = rmqtt::net::Builder::new()
        .name("bare/tcp")
        .laddr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .max_clientid_len(64)
        .max_mqueue_len(QUEUE)
        .nodelay(true)
        .bind()
        .map_err(|e| e.to_string())?
        .tcp()
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = rmqtt::server::MqttServer::new(scx).listener(listener).build();
    let task = tokio::spawn(async move {
        let _ = server.run().await;
    });
    Ok((addr, task))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    let arg =
        |i: usize, default: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (connections, concurrency, total, publishers) = (arg(1, 1000), arg(2, 16), arg(3, 20_000), arg(4, 4));

    let source = InMemoryAuthSource::new();
    source.add_access_key(AK_ID, AK_SECRET);
    source.add_group(INSTANCE, "GID_bench");
    let config = BrokerConfig { max_queued_messages: QUEUE, ..BrokerConfig::new(INSTANCE) };
    let ours = MqttBroker::start(config, Arc::new(source)).await?;
    let (bare_addr, bare_task) = bare_broker().await?;

    println!("tokio worker threads: 2; clients: rumqttc in-process over 127.0.0.1");
    println!(
        "| broker | connects/s ({connections} by {concurrency} concurrent) | messages/s ({total} QoS 1, 64 B, {publishers} publishers -> 1 subscriber) |"
    );
    println!("|---|---|---|");
    let bare_c = connects(bare_addr, false, connections, concurrency).await?;
    let ours_c = connects(ours.local_addr(), true, connections, concurrency).await?;
    let bare_m = messages(bare_addr, false, total, publishers).await?;
    let ours_m = messages(ours.local_addr(), true, total, publishers).await?;
    let (bare_m, bare_lost) = bare_m;
    let (ours_m, ours_lost) = ours_m;
    println!("| bare rmqtt 0.18 | {bare_c:.0} | {bare_m:.0} (lost {bare_lost}) |");
    println!("| ours (signature auth, permissions, traces) | {ours_c:.0} | {ours_m:.0} (lost {ours_lost}) |");
    println!("trace events recorded by ours: {}", ours.handle().trace().all().len());
    bare_task.abort();
    Ok(())
}
