//! Handles each kind of failure of a call: throttling (with the wait the service asks for), each
//! typed service error, bad input caught before sending, timeouts and a per-call deadline.
//! `cargo run --example errors -- GID_xxx@@@device-1`
use std::time::Duration;

use alibabacloud_onsmqtt::operations::QuerySessionByClientIdError as E;
use alibabacloud_onsmqtt::{CallOptions, Error, RetryConfig, TimeoutPhase};
use onsmqtt_examples::{BoxError, from_env};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (client, instance_id) = from_env()?;
    let client_id = std::env::args().nth(1).unwrap_or_else(|| "GID_demo@@@device-1".to_owned());
    // This call: 5 attempts, and 20 s in all, waits included.
    let options = CallOptions::new()
        .retry(RetryConfig { max_attempts: 5, ..RetryConfig::default() })
        .deadline(Duration::from_secs(20));
    for attempt in 1..=3 {
        let result = client
            .query_session_by_client_id()
            .instance_id(&instance_id)
            .client_id(&client_id)
            .with_options(options)
            .send()
            .await;
        let wait = match result {
            Ok(session) => {
                println!("{client_id} online: {}", session.online_status);
                return Ok(());
            }
            // Throttling that outlasted the client's own retries: wait as asked, then try again.
            Err(Error::Service(E::Unhandled(e))) if e.code().starts_with("Throttling") => {
                e.retry_after().unwrap_or(Duration::from_secs(1))
            }
            Err(Error::Service(E::InternalError(e))) => {
                println!("the service failed (request id {:?}); trying again", e.request_id());
                Duration::from_secs(1)
            }
            Err(Error::Service(E::InvalidParameter { parameter, error })) => {
                return Err(format!("the service refused {parameter}: {}", error.message()).into());
            }
            Err(Error::Service(E::InstancePermissionCheckFailed(_) | E::PermissionCheckFailed(_))) => {
                return Err("this account may not use the instance: check the RAM policies".into());
            }
            Err(Error::Service(other)) => {
                let e = other.service_error();
                return Err(
                    format!("{} (HTTP {}, request id {:?})", e.code(), e.status(), e.request_id()).into()
                );
            }
            Err(Error::InvalidInput(e)) => return Err(format!("not sent: {e}").into()),
            Err(Error::Timeout(t)) if t.phase() == TimeoutPhase::Deadline => {
                return Err(format!("gave up after {} attempts: {t}", t.attempts()).into());
            }
            Err(Error::Timeout(t)) => {
                println!("timed out ({t}); trying again");
                Duration::from_millis(200)
            }
            Err(Error::Transport(t)) if t.is_connect() => {
                return Err(format!("endpoint unreachable: {t}").into());
            }
            Err(e) => return Err(e.into()),
        };
        println!("attempt {attempt}: waiting {wait:?}");
        tokio::time::sleep(wait).await;
    }
    Err("still failing after 3 rounds".into())
}
