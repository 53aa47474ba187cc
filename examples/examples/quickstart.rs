//! The whole loop on your machine, no cloud account needed: `cargo run --example quickstart`.
//!
//! Starts the local ApsaraMQ for MQTT service in process (with its embedded MQTT broker),
//! creates a group ID, registers a device credential, connects a real MQTT client with it,
//! checks that the device is online, sends it a message through the API and receives it, then
//! closes the connection through the API and sees the device offline.

use alibabacloud_onsmqtt::mqtt::ConnectCredentials;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest any step may take; the example fails instead of hanging.
const STEP: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tokio::time::timeout(Duration::from_secs(60), run()).await.map_err(|_| "the quickstart took over 60 s")?
}

async fn run() -> Result<(), BoxError> {
    let local = onsmqtt_local::start(onsmqtt_local::Config::demo()).await?;
    let instance_id = local.instance_ids()[0].clone();
    let mqtt_addr = local.mqtt_addr(&instance_id).ok_or("the local service has no MQTT broker")?;
    println!(
        "1. local service: API at {}, MQTT at tcp://{mqtt_addr}, instance {instance_id}",
        local.endpoint()
    );

    // The API client, configured exactly as for the cloud except for the endpoint.
    let client = local.client()?;

    let group_id = "GID_quickstart";
    client.create_group_id().instance_id(&instance_id).group_id(group_id).send().await?;
    println!("2. created group ID {group_id}");

    let client_id = format!("{group_id}@@@device-1");
    let registered =
        client.register_device_credential().instance_id(&instance_id).client_id(&client_id).send().await?;
    let (username, password) = ConnectCredentials::from_register_device_credential(&registered)?.into_parts();
    println!("3. registered a device credential for {client_id} (MQTT user name {username})");

    let mut options = MqttOptions::new(&client_id, mqtt_addr.ip().to_string(), mqtt_addr.port());
    options.set_credentials(username, password);
    options.set_keep_alive(Duration::from_secs(30));
    let (mqtt, mut events) = AsyncClient::new(options, 16);
    wait_for(&mut events, |p| matches!(p, Packet::ConnAck(_))).await?;
    let topic = "quickstart/device-1";
    mqtt.subscribe(topic, QoS::AtLeastOnce).await?;
    wait_for(&mut events, |p| matches!(p, Packet::SubAck(_))).await?;
    println!("4. device connected over MQTT and subscribed to {topic}");

    let online =
        client.query_session_by_client_id().instance_id(&instance_id).client_id(&client_id).send().await?;
    println!("5. QuerySessionByClientId: OnlineStatus {}", online.online_status);
    if !online.online_status {
        return Err("the connected device should be online".into());
    }

    let sent = client
        .send_message()
        .instance_id(&instance_id)
        .mqtt_topic(topic)
        .payload("hello, device")
        .send()
        .await?;
    println!("6. SendMessage: message ID {}", sent.msg_id);
    let received = wait_for(&mut events, |p| matches!(p, Packet::Publish(_))).await?;
    if let Packet::Publish(p) = received {
        println!("7. device received on {}: {}", p.topic, String::from_utf8_lossy(&p.payload));
    }

    client.close_connection().instance_id(&instance_id).client_id(&client_id).send().await?;
    let online =
        client.query_session_by_client_id().instance_id(&instance_id).client_id(&client_id).send().await?;
    println!("8. CloseConnection, then QuerySessionByClientId: OnlineStatus {}", online.online_status);
    if online.online_status {
        return Err("the closed device should be offline".into());
    }

    drop(events);
    local.stop().await;
    println!("done");
    Ok(())
}

/// Polls the MQTT event loop until a packet matching `want` arrives (bounded by [`STEP`]).
async fn wait_for(events: &mut EventLoop, want: impl Fn(&Packet) -> bool) -> Result<Packet, BoxError> {
    let wait = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(p)) if want(&p) => return Ok(p),
                Ok(_) => {}
                Err(e) => return Err(BoxError::from(format!("MQTT connection failed: {e}"))),
            }
        }
    };
    tokio::time::timeout(STEP, wait).await.map_err(|_| "no answer from the MQTT broker in time")?
}
