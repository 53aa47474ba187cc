//! What every example shares: a client and an instance ID from the environment.
//!
//! | variable | meaning |
//! |---|---|
//! | `ONSMQTT_INSTANCE_ID` | the instance to work on (required) |
//! | `ONSMQTT_ENDPOINT` | an explicit endpoint, e.g. a local stand-in `http://127.0.0.1:PORT` (optional) |
//! | `ALIBABA_CLOUD_REGION_ID` | the region, when there is no explicit endpoint |
//! | `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` | credentials; any source of the default chain works |

use alibabacloud_onsmqtt::{Client, Config, ConfigBuilder};

/// The error type of the examples.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client the examples use, and the instance they work on.
pub fn from_env() -> Result<(Client, String), BoxError> {
    from_env_with(|builder| builder)
}

/// Like [`from_env`], with more settings made by `customize`.
pub fn from_env_with(
    customize: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> Result<(Client, String), BoxError> {
    let instance_id = std::env::var("ONSMQTT_INSTANCE_ID")
        .map_err(|_| "set ONSMQTT_INSTANCE_ID to the ID of an ApsaraMQ for MQTT instance")?;
    let mut builder = Config::builder();
    match std::env::var("ONSMQTT_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => builder = builder.endpoint(endpoint),
        _ => {
            let region = std::env::var("ALIBABA_CLOUD_REGION_ID")
                .map_err(|_| "set ALIBABA_CLOUD_REGION_ID (such as cn-hangzhou) or ONSMQTT_ENDPOINT")?;
            builder = builder.region(region);
        }
    }
    Ok((Client::new(customize(builder).build()?), instance_id))
}

/// Milliseconds since the Unix epoch, `from_now_secs` seconds from now.
pub fn epoch_millis(from_now_secs: u64) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from((now + std::time::Duration::from_secs(from_now_secs)).as_millis()).unwrap_or(i64::MAX)
}
