//! Registers a device credential for a client ID, rotates it (the old secret stops working), and
//! removes it. `cargo run --example device_credential -- GID_xxx@@@device-1`
use onsmqtt_examples::{BoxError, from_env};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (client, instance_id) = from_env()?;
    let client_id = std::env::args().nth(1).ok_or("usage: device_credential CLIENT_ID")?;
    let registered =
        client.register_device_credential().instance_id(&instance_id).client_id(&client_id).send().await?;
    let first = registered.device_credential.and_then(|c| c.device_access_key_id).unwrap_or_default();
    println!("registered: AccessKey ID {first}");
    let rotated =
        client.refresh_device_credential().instance_id(&instance_id).client_id(&client_id).send().await?;
    let second = rotated.device_credential.and_then(|c| c.device_access_key_id).unwrap_or_default();
    println!("rotated:    AccessKey ID {second} (secret not printed)");
    let current =
        client.get_device_credential().instance_id(&instance_id).client_id(&client_id).send().await?;
    assert_eq!(current.device_credential.device_access_key_id.as_deref(), Some(second.as_str()));
    client.un_register_device_credential().instance_id(&instance_id).client_id(&client_id).send().await?;
    println!("removed");
    Ok(())
}
