//! Is one device online? `cargo run --example quickstart -- GID_xxx@@@device-1`
use onsmqtt_examples::{BoxError, from_env};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (client, instance_id) = from_env()?;
    let client_id = std::env::args().nth(1).ok_or("usage: quickstart CLIENT_ID")?;
    let session =
        client.query_session_by_client_id().instance_id(&instance_id).client_id(&client_id).send().await?;
    println!("{client_id}: {}", if session.online_status { "online" } else { "offline" });
    Ok(())
}
