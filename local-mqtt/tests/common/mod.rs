//! A real MQTT client (rumqttc) against a real broker, with bounded waits.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use onsmqtt_local_mqtt::{
    BrokerConfig, InMemoryAuthSource, MqttBroker, TokenInfo, auth::sign_client_id, now_ms,
};
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS,
    SubscribeReasonCode,
};
use tokio::sync::mpsc;

pub const INSTANCE: &str = "mqtt-cn-local01";
pub const GROUP: &str = "GID_test";
pub const AK_ID: &str = "LTAI5tLocalTestKey";
pub const AK_SECRET: &str = "local-test-secret";
pub const WAIT: Duration = Duration::from_secs(5);

pub async fn setup() -> (MqttBroker, InMemoryAuthSource) {
    let source = InMemoryAuthSource::new();
    source.add_access_key(AK_ID, AK_SECRET);
    source.add_group(INSTANCE, GROUP);
    let broker = MqttBroker::start(BrokerConfig::new(INSTANCE), Arc::new(source.clone()))
        .await
        .expect("broker starts");
    (broker, source)
}

pub fn signature_login(client_id: &str) -> (String, String) {
    (format!("Signature|{AK_ID}|{INSTANCE}"), sign_client_id(AK_SECRET, client_id))
}

pub fn token(source: &InMemoryAuthSource, token: &str, resources: &str, actions: &str, ttl_ms: i64) {
    let info = TokenInfo::from_apply_token(resources, actions, now_ms() + ttl_ms).expect("valid token");
    source.add_token(INSTANCE, token, info);
}

/// What the client's event loop saw.
#[derive(Debug)]
pub enum Seen {
    Message { topic: String, payload: Vec<u8> },
    SubAck(Vec<SubscribeReasonCode>),
    Closed(String),
}

pub struct Client {
    pub client: AsyncClient,
    pub events: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Client {
    /// Drops the event loop, which closes the socket (rumqttc keeps it open otherwise).
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connects; `Err` carries the CONNACK refusal code, or the error text as `Err(None)`.
pub async fn connect(
    addr: SocketAddr,
    client_id: &str,
    login: Option<(String, String)>,
) -> Result<Client, Option<ConnectReturnCode>> {
    let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(512 * 1024, 512 * 1024);
    if let Some((user, pass)) = login {
        options.set_credentials(user, pass);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let first = tokio::time::timeout(WAIT, first_connack(&mut eventloop)).await.map_err(|_| None)?;
    first?;
    let (tx, events) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(Seen::Message { topic: p.topic.clone(), payload: p.payload.to_vec() });
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    let _ = tx.send(Seen::SubAck(ack.return_codes));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Seen::Closed(e.to_string()));
                    break;
                }
            }
        }
    });
    Ok(Client { client, events, task })
}

async fn first_connack(eventloop: &mut EventLoop) -> Result<(), Option<ConnectReturnCode>> {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                return if ack.code == ConnectReturnCode::Success { Ok(()) } else { Err(Some(ack.code)) };
            }
            Ok(_) => {}
            Err(ConnectionError::ConnectionRefused(code)) => return Err(Some(code)),
            Err(_) => return Err(None),
        }
    }
}

impl Client {
    /// Sends DISCONNECT, then closes the socket as MQTT clients must.
    pub async fn close(mut self) {
        self.client.disconnect().await.expect("queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// The next event, or panics after [`WAIT`].
    pub async fn next(&mut self) -> Seen {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("an event in time")
            .expect("event loop alive")
    }

    /// Subscribes and returns the SUBACK codes.
    pub async fn subscribe(&mut self, filter: &str) -> Vec<SubscribeReasonCode> {
        self.client.subscribe(filter, QoS::AtLeastOnce).await.expect("queued");
        loop {
            match self.next().await {
                Seen::SubAck(codes) => return codes,
                Seen::Closed(e) => panic!("closed while subscribing: {e}"),
                Seen::Message { .. } => {}
            }
        }
    }

    /// The next message, skipping other events.
    pub async fn message(&mut self) -> (String, Vec<u8>) {
        loop {
            match self.next().await {
                Seen::Message { topic, payload } => return (topic, payload),
                Seen::Closed(e) => panic!("closed while waiting for a message: {e}"),
                Seen::SubAck(_) => {}
            }
        }
    }

    /// Waits until the connection is closed.
    pub async fn closed(&mut self) -> String {
        loop {
            if let Seen::Closed(e) = self.next().await {
                return e;
            }
        }
    }

    /// Asserts that nothing arrives for a short while.
    pub async fn nothing_for(&mut self, wait: Duration) {
        if let Ok(Some(seen)) = tokio::time::timeout(wait, self.events.recv()).await {
            panic!("expected nothing, got {seen:?}");
        }
    }
}
