//! A small piece of application code that uses the ApsaraMQ for MQTT client, kept in a crate of
//! its own exactly as a user's would be: `tests/app.rs` tests it against the client's typed mocks
//! (feature `test-util`, enabled only in `[dev-dependencies]`), with no network and no trait
//! threaded through the code: `Fleet` holds an ordinary `Client`.
//!
//! The README's examples are compiled as doc tests of this crate, as a user's code would compile
//! them.

use std::fmt;
use std::time::Duration;

use alibabacloud_onsmqtt::operations::{ApplyTokenError, BatchQuerySessionByClientIdsError};
use alibabacloud_onsmqtt::{CallOptions, Client, Error, RetryConfig};
use futures_util::TryStreamExt;

/// How many client IDs one `BatchQuerySessionByClientIds` call takes.
const BATCH: usize = 10;

/// How often [`Fleet::issue_read_token`] asks again when the service says it is overwhelmed.
pub const TOKEN_ATTEMPTS: u32 = 3;

/// The devices of one ApsaraMQ for MQTT instance.
#[derive(Clone, Debug)]
pub struct Fleet {
    client: Client,
    instance_id: String,
}

/// What went wrong, as this application reports it.
#[derive(Debug, PartialEq, Eq)]
pub enum FleetError {
    /// The service kept refusing to issue tokens for now.
    Busy {
        /// Attempts made.
        attempts: u32,
    },
    /// The service's answer lacked something the application needs.
    Incomplete(&'static str),
    /// Any other failure, as text.
    Api(String),
}

impl fmt::Display for FleetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FleetError::Busy { attempts } => write!(f, "the service is busy ({attempts} attempts)"),
            FleetError::Incomplete(what) => write!(f, "the answer has no {what}"),
            FleetError::Api(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FleetError {}

fn api<E: fmt::Display>(e: Error<E>) -> FleetError {
    FleetError::Api(e.to_string())
}

impl Fleet {
    /// The fleet of one instance.
    pub fn new(client: Client, instance_id: impl Into<String>) -> Fleet {
        Fleet { client, instance_id: instance_id.into() }
    }

    /// The client IDs among `client_ids` that are offline, asked in batches of ten (the most one
    /// call takes). A client the service does not report is counted offline.
    pub async fn offline(&self, client_ids: &[&str]) -> Result<Vec<String>, FleetError> {
        let mut offline = Vec::new();
        for batch in client_ids.chunks(BATCH) {
            let answer = self
                .client
                .batch_query_session_by_client_ids()
                .instance_id(&self.instance_id)
                .client_id_list(batch.iter().copied())
                .send()
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(Error::Service(BatchQuerySessionByClientIdsError::InvalidParameter {
                    parameter,
                    ..
                })) => {
                    return Err(FleetError::Api(format!("the service refused {parameter}")));
                }
                Err(e) => return Err(api(e)),
            };
            for id in batch {
                let online = answer
                    .online_status_list
                    .iter()
                    .any(|s| s.client_id.as_deref() == Some(id) && s.online_status == Some(true));
                if !online {
                    offline.push((*id).to_owned());
                }
            }
        }
        Ok(offline)
    }

    /// A token that lets devices read `topic` until `expire_at_ms` (milliseconds since the
    /// epoch). `ApplyToken` changes state, so the client never retries it; this asks again itself,
    /// up to [`TOKEN_ATTEMPTS`] times, when the service answers `ApplyTokenOverFlow`.
    pub async fn issue_read_token(&self, topic: &str, expire_at_ms: i64) -> Result<String, FleetError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = self
                .client
                .apply_token()
                .instance_id(&self.instance_id)
                .resources(topic)
                .actions("R")
                .expire_time(expire_at_ms)
                .send()
                .await;
            match answer {
                Ok(answer) => return Ok(answer.token),
                Err(Error::Service(ApplyTokenError::ApplyTokenOverFlow(e))) if attempt < TOKEN_ATTEMPTS => {
                    let wait = e.retry_after().unwrap_or(Duration::from_millis(10));
                    tokio::time::sleep(wait.min(Duration::from_secs(1))).await;
                }
                Err(Error::Service(ApplyTokenError::ApplyTokenOverFlow(_))) => {
                    return Err(FleetError::Busy { attempts: attempt });
                }
                Err(e) => return Err(api(e)),
            }
        }
    }

    /// Revokes `token` if it is still valid: `Ok(false)` when it was not (nothing revoked).
    pub async fn revoke_if_valid(&self, token: &str) -> Result<bool, FleetError> {
        // A status check should not hold the caller up: one quick attempt.
        let status = self
            .client
            .query_token()
            .instance_id(&self.instance_id)
            .token(token)
            .with_options(CallOptions::new().retry(RetryConfig::disabled()).deadline(Duration::from_secs(2)))
            .send()
            .await
            .map_err(api)?;
        if !status.token_status {
            return Ok(false);
        }
        self.client.revoke_token().instance_id(&self.instance_id).token(token).send().await.map_err(api)?;
        Ok(true)
    }

    /// Gives the device a new credential, replacing its current one, and returns the new
    /// AccessKey secret.
    pub async fn rotate_credential(&self, client_id: &str) -> Result<String, FleetError> {
        let answer = self
            .client
            .refresh_device_credential()
            .instance_id(&self.instance_id)
            .client_id(client_id)
            .send()
            .await
            .map_err(api)?;
        answer
            .device_credential
            .and_then(|c| c.device_access_key_secret)
            .ok_or(FleetError::Incomplete("device credential"))
    }

    /// The serial number of every device certificate of the instance, fetching page after page.
    pub async fn certificate_serials(&self, page_size: i32) -> Result<Vec<String>, FleetError> {
        let certificates: Vec<_> = self
            .client
            .list_device_certificate()
            .mqtt_instance_id(&self.instance_id)
            .page_no(1)
            .page_size(page_size)
            .into_items()
            .try_collect()
            .await
            .map_err(api)?;
        Ok(certificates.into_iter().filter_map(|c| c.device_sn).collect())
    }
}

/// The README, whose Rust examples (the quick start, and "Testing your code" with its mocks)
/// compile and run as doc tests of this crate, with the dependencies a user's crate would have.
#[doc = include_str!("../../../README.md")]
#[doc(hidden)]
pub mod readme {}
