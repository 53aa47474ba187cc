//! 64 concurrent clients creating and deleting the same resources: every answer is a success or
//! the documented conflict, and the final state is exactly what the successes add up to.

use alibabacloud_onsmqtt::Error;
use onsmqtt_local::{Config, DEMO_INSTANCE_ID};
use std::collections::BTreeMap;

const CLIENTS: usize = 64;
const ROUNDS: usize = 40;
const GROUPS: usize = 6;

#[derive(Default)]
struct Tally {
    created: BTreeMap<String, i64>,
    deleted: BTreeMap<String, i64>,
    registered: BTreeMap<String, i64>,
    unregistered: BTreeMap<String, i64>,
    unexpected: Vec<String>,
}

fn service_code<E: std::fmt::Display>(e: &Error<E>) -> String {
    match e {
        Error::Service(e) => e.to_string(),
        other => format!("not a service error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_and_deletes_leave_consistent_state() {
    let local = onsmqtt_local::start(Config::demo()).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..CLIENTS {
        let c = local.client().unwrap();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            for r in 0..ROUNDS {
                let g = format!("GID_shared{}", (t + r) % GROUPS);
                let client_id = format!("{g}@@@dev");
                match (t + r) % 4 {
                    0 => match c.create_group_id().instance_id(DEMO_INSTANCE_ID).group_id(&g).send().await {
                        Ok(_) => *tally.created.entry(g).or_default() += 1,
                        Err(Error::Service(e)) if e.service_error().code() == "GroupIdAlreadyExsited" => {}
                        Err(e) => tally.unexpected.push(service_code(&e)),
                    },
                    1 => match c.delete_group_id().instance_id(DEMO_INSTANCE_ID).group_id(&g).send().await {
                        Ok(_) => *tally.deleted.entry(g).or_default() += 1,
                        Err(Error::Service(e)) if e.service_error().code() == "ParameterFieldCheckFailed" => {
                        }
                        Err(e) => tally.unexpected.push(service_code(&e)),
                    },
                    2 => match c
                        .register_device_credential()
                        .instance_id(DEMO_INSTANCE_ID)
                        .client_id(&client_id)
                        .send()
                        .await
                    {
                        Ok(_) => *tally.registered.entry(client_id).or_default() += 1,
                        Err(Error::Service(e)) if e.service_error().code() == "DeviceCredentialExsit" => {}
                        Err(e) => tally.unexpected.push(service_code(&e)),
                    },
                    _ => match c
                        .un_register_device_credential()
                        .instance_id(DEMO_INSTANCE_ID)
                        .client_id(&client_id)
                        .send()
                        .await
                    {
                        Ok(_) => *tally.unregistered.entry(client_id).or_default() += 1,
                        Err(Error::Service(e)) if e.service_error().code() == "DeviceCredentialNotFound" => {}
                        Err(e) => tally.unexpected.push(service_code(&e)),
                    },
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for task in tasks {
        let t = task.await.unwrap();
        for (src, dst) in [
            (t.created, &mut total.created),
            (t.deleted, &mut total.deleted),
            (t.registered, &mut total.registered),
            (t.unregistered, &mut total.unregistered),
        ] {
            for (k, v) in src {
                *dst.entry(k).or_default() += v;
            }
        }
        total.unexpected.extend(t.unexpected);
    }
    assert!(total.unexpected.is_empty(), "unexpected answers: {:?}", total.unexpected);
    let state = local.service().snapshot();
    let inst = &state.instances[DEMO_INSTANCE_ID];
    for i in 0..GROUPS {
        let g = format!("GID_shared{i}");
        let net = total.created.get(&g).copied().unwrap_or(0) - total.deleted.get(&g).copied().unwrap_or(0);
        assert_eq!(
            net,
            i64::from(inst.groups.contains_key(&g)),
            "{g}: creates minus deletes against the final state"
        );
        let c = format!("{g}@@@dev");
        let net =
            total.registered.get(&c).copied().unwrap_or(0) - total.unregistered.get(&c).copied().unwrap_or(0);
        assert_eq!(net, i64::from(inst.credentials.contains_key(&c)), "{c}: registrations minus removals");
    }
    let successes: i64 = total.created.values().chain(total.deleted.values()).sum();
    assert!(successes > 0, "some creates and deletes succeeded");
    local.stop().await;
}
