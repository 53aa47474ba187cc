//! `cargo run -p onsmqtt-local`: serves the local ApsaraMQ for MQTT API until Ctrl-C.

use clap::Parser;
use onsmqtt_local::{Account, Config, InstanceConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// A local ApsaraMQ for MQTT management API (onsmqtt 2020-04-20).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "ONSMQTT_LOCAL_BIND", default_value = "127.0.0.1:9099")]
    bind: std::net::SocketAddr,
    /// Persist state in this directory (an embedded redb database); in memory without it.
    #[arg(long, env = "ONSMQTT_LOCAL_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Instance IDs to create, comma-separated.
    #[arg(long, env = "ONSMQTT_LOCAL_INSTANCES", value_delimiter = ',', default_value = onsmqtt_local::DEMO_INSTANCE_ID)]
    instances: Vec<String>,
    /// Region of the instances.
    #[arg(long, env = "ONSMQTT_LOCAL_REGION", default_value = "cn-hangzhou")]
    region: String,
    /// The account's AccessKey ID.
    #[arg(long, env = "ONSMQTT_LOCAL_ACCESS_KEY_ID", default_value = onsmqtt_local::DEMO_ACCESS_KEY_ID)]
    access_key_id: String,
    /// The account's AccessKey secret.
    #[arg(long, env = "ONSMQTT_LOCAL_ACCESS_KEY_SECRET", default_value = onsmqtt_local::DEMO_ACCESS_KEY_SECRET, hide_default_value = true, hide_env_values = true)]
    access_key_secret: String,
    /// Do not start the embedded MQTT brokers (one per instance, on free ports of 127.0.0.1).
    #[arg(long, env = "ONSMQTT_LOCAL_NO_MQTT")]
    no_mqtt: bool,
}

/// `println!` that ignores a closed stdout instead of panicking (a parent that stopped reading
/// must not take the service down).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let demo_secret = args.access_key_secret == onsmqtt_local::DEMO_ACCESS_KEY_SECRET;
    let mut config = Config::demo();
    config.bind = args.bind;
    config.data_dir = args.data_dir.clone();
    config.mqtt = !args.no_mqtt;
    config.accounts = vec![Account {
        name: "demo".into(),
        access_key_id: args.access_key_id.clone(),
        access_key_secret: args.access_key_secret,
        security_token: None,
    }];
    config.instances = args
        .instances
        .iter()
        .map(|id| InstanceConfig { id: id.clone(), owner: "demo".into(), region: args.region.clone() })
        .collect();
    let running = match onsmqtt_local::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("onsmqtt-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    say!("onsmqtt-local listening on {}", running.endpoint());
    say!("  AccessKey ID:     {}", args.access_key_id);
    if demo_secret {
        // The demo secret is public; a secret given by flag or environment is never printed.
        say!("  AccessKey secret: {}", onsmqtt_local::DEMO_ACCESS_KEY_SECRET);
    } else {
        say!("  AccessKey secret: (as given)");
    }
    say!("  instances:        {}", args.instances.join(", "));
    for (instance, addr) in running.mqtt_addrs() {
        say!("  MQTT of {instance}: tcp://{addr}");
    }
    match &args.data_dir {
        Some(d) => say!("  data directory:   {}", d.display()),
        None => say!("  data directory:   none (state in memory)"),
    }
    say!("Point a client at the endpoint, e.g. Config::builder().endpoint(\"{}\").", running.endpoint());
    let _ = tokio::signal::ctrl_c().await;
    running.stop().await;
    ExitCode::SUCCESS
}
