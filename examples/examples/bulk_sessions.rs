//! Checks the sessions of many devices at once: ten client IDs per call (the API's limit), four
//! calls in flight. `cargo run --example bulk_sessions -- ID1 ID2 ...` (or IDs on stdin, one a line).
use std::io::BufRead;

use alibabacloud_onsmqtt::RateLimit;
use futures_util::{StreamExt, TryStreamExt};
use onsmqtt_examples::{BoxError, from_env_with};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // Keep under the documented QPS limit rather than being throttled.
    let (client, instance_id) = from_env_with(|config| config.rate_limit(RateLimit::Documented))?;
    let mut ids: Vec<String> = std::env::args().skip(1).collect();
    if ids.is_empty() {
        ids = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    }
    let batches: Vec<Vec<String>> = ids.chunks(10).map(<[String]>::to_vec).collect();
    let answers: Vec<_> = futures_util::stream::iter(batches)
        .map(|batch| {
            client.batch_query_session_by_client_ids().instance_id(&instance_id).client_id_list(batch).send()
        })
        .buffer_unordered(4)
        .try_collect()
        .await?;
    let (mut online, mut offline) = (0, 0);
    for answer in answers {
        for status in answer.online_status_list {
            let id = status.client_id.unwrap_or_default();
            if status.online_status == Some(true) {
                online += 1;
                println!("online  {id}");
            } else {
                offline += 1;
                println!("offline {id}");
            }
        }
    }
    println!("{online} online, {offline} offline, {} asked", ids.len());
    Ok(())
}
