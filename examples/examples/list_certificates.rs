//! Pages through every CA certificate of the instance and every device certificate, fetching the
//! next page as the stream is read. `cargo run --example list_certificates`
use futures_util::TryStreamExt;
use onsmqtt_examples::{BoxError, from_env};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (client, instance_id) = from_env()?;
    let mut cas =
        client.list_ca_certificate().mqtt_instance_id(&instance_id).page_no(1).page_size(50).into_items();
    let mut count = 0;
    while let Some(ca) = cas.try_next().await? {
        count += 1;
        println!("CA     {} {}", ca.sn.unwrap_or_default(), ca.ca_name.unwrap_or_default());
    }
    println!("{count} CA certificates");
    let devices: Vec<_> = client
        .list_device_certificate()
        .mqtt_instance_id(&instance_id)
        .page_no(1)
        .page_size(50)
        .into_items()
        .try_collect()
        .await?;
    for cert in &devices {
        println!(
            "device {} (CA {})",
            cert.device_sn.as_deref().unwrap_or("?"),
            cert.ca_sn.as_deref().unwrap_or("?")
        );
    }
    println!("{} device certificates", devices.len());
    Ok(())
}
