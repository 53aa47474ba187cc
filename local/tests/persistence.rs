//! With a data directory, every acknowledged write survives `kill -9` of the service process and
//! a restart.

use alibabacloud_onsmqtt::{Client, Config, Credentials, RetryConfig};
use onsmqtt_local::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_INSTANCE_ID};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Starts the binary on a free port over `dir`; the child and its endpoint.
async fn spawn(dir: &std::path::Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_onsmqtt-local"))
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("onsmqtt-local listening on ") {
                return url.to_owned();
            }
        }
        panic!("the service exited before listening");
    };
    let endpoint = tokio::time::timeout(std::time::Duration::from_secs(30), read).await.unwrap();
    // Keep draining what it prints.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, endpoint)
}

fn client(endpoint: &str) -> Client {
    Client::new(
        Config::builder()
            .endpoint(endpoint)
            .credentials(Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET))
            .retry(RetryConfig::disabled())
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, endpoint) = spawn(dir.path()).await;
    let c = client(&endpoint);
    let mut acknowledged = Vec::new();
    for i in 0..25 {
        let id = format!("GID_persist{i:02}");
        c.create_group_id().instance_id(DEMO_INSTANCE_ID).group_id(&id).send().await.unwrap();
        acknowledged.push(id);
    }
    let secret = c
        .register_device_credential()
        .instance_id(DEMO_INSTANCE_ID)
        .client_id("GID_persist00@@@dev")
        .send()
        .await
        .unwrap()
        .device_credential
        .unwrap()
        .device_access_key_secret;
    // Writes still in flight while the process dies: acknowledged or not, never half-applied.
    let racing = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut done = Vec::new();
            for i in 0..200 {
                let id = format!("GID_racing{i:03}");
                if c.create_group_id().instance_id(DEMO_INSTANCE_ID).group_id(&id).send().await.is_ok() {
                    done.push(id);
                } else {
                    break;
                }
            }
            done
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    let raced = racing.await.unwrap();

    let (_child, endpoint) = spawn(dir.path()).await;
    let c = client(&endpoint);
    let groups: Vec<String> = c
        .list_group_id()
        .instance_id(DEMO_INSTANCE_ID)
        .send()
        .await
        .unwrap()
        .data
        .into_iter()
        .filter_map(|g| g.group_id)
        .collect();
    for id in acknowledged.iter().chain(&raced) {
        assert!(groups.contains(id), "{id} was acknowledged but is gone after kill -9");
    }
    let got = c
        .get_device_credential()
        .instance_id(DEMO_INSTANCE_ID)
        .client_id("GID_persist00@@@dev")
        .send()
        .await
        .unwrap();
    assert_eq!(got.device_credential.device_access_key_secret, secret);
}
