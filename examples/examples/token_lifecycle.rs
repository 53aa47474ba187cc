//! Issues a token that lets a device read and write one topic for an hour, checks it, revokes it
//! and checks again. `cargo run --example token_lifecycle -- TOPIC`
use onsmqtt_examples::{BoxError, epoch_millis, from_env};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (client, instance_id) = from_env()?;
    let topic = std::env::args().nth(1).unwrap_or_else(|| "demo/+".to_owned());
    let issued = client
        .apply_token()
        .instance_id(&instance_id)
        .resources(&topic)
        .actions("R,W")
        .expire_time(epoch_millis(3600))
        .send()
        .await?;
    // A token is a secret: print only its length.
    println!("issued a token of {} characters for {topic}", issued.token.len());
    let status = client.query_token().instance_id(&instance_id).token(&issued.token).send().await?;
    println!("valid now: {}", status.token_status);
    client.revoke_token().instance_id(&instance_id).token(&issued.token).send().await?;
    let status = client.query_token().instance_id(&instance_id).token(&issued.token).send().await?;
    println!("valid after revoking: {}", status.token_status);
    Ok(())
}
