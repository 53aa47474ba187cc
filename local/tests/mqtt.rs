//! The local service with its embedded broker: real MQTT clients (rumqttc) connect with what the
//! API hands out, and the API sees them.

#[path = "../../local-mqtt/tests/common/mod.rs"]
mod common;

use alibabacloud_onsmqtt::Client;
use alibabacloud_onsmqtt::mqtt::{ConnectCredentials, CustomSignMode, TokenType};
use alibabacloud_onsmqtt::types::{Effect, IdentityType, PermitAction, SignMode};
use common::{Seen, connect};
use onsmqtt_local::{Config, Running};
use rumqttc::{ConnectReturnCode, QoS};
use std::net::SocketAddr;

fn granted(codes: &[rumqttc::SubscribeReasonCode]) -> bool {
    matches!(codes, [rumqttc::SubscribeReasonCode::Success(_)])
}

fn now_ms() -> i64 {
    onsmqtt_local::state::now_ms()
}

async fn start() -> (Running, Client, String, SocketAddr) {
    let local = onsmqtt_local::start(Config::demo()).await.unwrap();
    let client = local.client().unwrap();
    let inst = local.instance_ids()[0].clone();
    let addr = local.mqtt_addr(&inst).expect("a broker per instance");
    client.create_group_id().instance_id(&inst).group_id("GID_app").send().await.unwrap();
    (local, client, inst, addr)
}

fn login(c: ConnectCredentials) -> Option<(String, String)> {
    Some(c.into_parts())
}

async fn online(c: &Client, inst: &str, client_id: &str) -> bool {
    c.query_session_by_client_id().instance_id(inst).client_id(client_id).send().await.unwrap().online_status
}

#[tokio::test]
async fn token_connects_until_revoked() {
    let (local, c, inst, addr) = start().await;
    let out = c
        .apply_token()
        .instance_id(&inst)
        .resources("t/a")
        .actions("R,W")
        .expire_time(now_ms() + 3_600_000)
        .send()
        .await
        .unwrap();
    let creds =
        ConnectCredentials::from_apply_token(&local.credentials(), &inst, &[(TokenType::ReadWrite, &out)])
            .unwrap();
    let dev = connect(addr, "GID_app@@@tok", login(creds.clone())).await.expect("token accepted");
    dev.close().await;
    c.revoke_token().instance_id(&inst).token(&out.token).send().await.unwrap();
    let refused = connect(addr, "GID_app@@@tok", login(creds)).await.err();
    assert_eq!(refused, Some(Some(ConnectReturnCode::NotAuthorized)));
    local.stop().await;
}

#[tokio::test]
async fn device_credential_session_send_message_close_and_traces() {
    let (local, c, inst, addr) = start().await;
    let begin = now_ms() - 1000;
    let client_id = "GID_app@@@dev1";
    let reg = c.register_device_credential().instance_id(&inst).client_id(client_id).send().await.unwrap();
    let creds = ConnectCredentials::from_register_device_credential(&reg).unwrap();
    assert!(!online(&c, &inst, client_id).await);
    let mut dev = connect(addr, client_id, login(creds)).await.expect("device credential accepted");
    assert!(online(&c, &inst, client_id).await);
    let batch = c
        .batch_query_session_by_client_ids()
        .instance_id(&inst)
        .client_id_list([client_id, "GID_app@@@nobody"])
        .send()
        .await
        .unwrap();
    let states: Vec<_> = batch.online_status_list.iter().map(|s| s.online_status).collect();
    assert_eq!(states, [Some(true), Some(false)]);

    // A device credential may use every topic of its instance.
    assert!(granted(&dev.subscribe("t/dev1").await));
    let msg_id = c
        .send_message()
        .instance_id(&inst)
        .mqtt_topic("t/dev1")
        .payload("hello")
        .send()
        .await
        .unwrap()
        .msg_id;
    assert_eq!(dev.message().await, ("t/dev1".to_owned(), b"hello".to_vec()));

    c.close_connection().instance_id(&inst).client_id(client_id).send().await.unwrap();
    assert!(!online(&c, &inst, client_id).await);
    assert!(matches!(dev.next().await, Seen::Closed(_)));

    let end = now_ms() + 1000;
    let publish = c
        .query_mqtt_trace_message_publish()
        .mqtt_region_id("cn-hangzhou")
        .instance_id(&inst)
        .msg_id(&msg_id)
        .begin_time(begin)
        .end_time(end)
        .send()
        .await
        .unwrap();
    let actions: Vec<_> = publish.message_trace_lists.iter().filter_map(|t| t.action.clone()).collect();
    assert_eq!(actions, ["pub_openapi"]);
    let sub = c
        .query_mqtt_trace_message_subscribe()
        .mqtt_region_id("cn-hangzhou")
        .instance_id(&inst)
        .msg_id(&msg_id)
        .begin_time(begin)
        .end_time(end)
        .current_page(1)
        .page_size(10)
        .send()
        .await
        .unwrap();
    assert_eq!(sub.message_trace_lists.len(), 1);
    assert_eq!(sub.message_trace_lists[0].client_id.as_deref(), Some(client_id));
    let device = c
        .query_mqtt_trace_device()
        .mqtt_region_id("cn-hangzhou")
        .instance_id(&inst)
        .client_id(client_id)
        .begin_time(begin)
        .end_time(end)
        .current_page(1)
        .page_size(10)
        .send()
        .await
        .unwrap();
    let steps: Vec<_> = device.device_info_list.iter().filter_map(|d| d.action.clone()).collect();
    assert_eq!(steps, ["connect", "disconnect"]);
    local.stop().await;
}

#[tokio::test]
async fn signature_mode_with_the_account_access_key() {
    let (local, _c, inst, addr) = start().await;
    let creds = ConnectCredentials::signature(&local.credentials(), &inst, "GID_app@@@sig").unwrap();
    connect(addr, "GID_app@@@sig", login(creds)).await.expect("signature accepted").close().await;
    // The group must exist on the instance.
    let creds = ConnectCredentials::signature(&local.credentials(), &inst, "GID_none@@@sig").unwrap();
    assert!(connect(addr, "GID_none@@@sig", login(creds)).await.is_err());
    let wrong = alibabacloud_onsmqtt::Credentials::new(local.account().access_key_id.clone(), "wrong-secret");
    let creds = ConnectCredentials::signature(&wrong, &inst, "GID_app@@@sig").unwrap();
    assert_eq!(
        connect(addr, "GID_app@@@sig", login(creds)).await.err(),
        Some(Some(ConnectReturnCode::BadUserNamePassword))
    );
    local.stop().await;
}

#[tokio::test]
async fn custom_auth_permissions_and_blacklist_from_the_api() {
    let (local, c, inst, addr) = start().await;
    c.add_custom_auth_identity()
        .instance_id(&inst)
        .username("sensor")
        .secret("s3cret")
        .identity_type(IdentityType::User)
        .sign_mode(SignMode::Signed)
        .send()
        .await
        .unwrap();
    c.add_custom_auth_permission()
        .instance_id(&inst)
        .identity_type(IdentityType::User)
        .identity("sensor")
        .topic("allowed/#")
        .permit_action(PermitAction::PubSub)
        .effect(Effect::Allow)
        .send()
        .await
        .unwrap();
    let cid = "GID_app@@@s1";
    let creds = ConnectCredentials::custom("sensor", "s3cret", CustomSignMode::Signed, cid).unwrap();
    let mut dev = connect(addr, cid, login(creds.clone())).await.expect("custom identity accepted");
    assert!(granted(&dev.subscribe("allowed/x").await));
    assert!(!granted(&dev.subscribe("other/x").await));
    dev.client.publish("allowed/x", QoS::AtLeastOnce, false, "ok").await.unwrap();
    assert_eq!(dev.message().await, ("allowed/x".to_owned(), b"ok".to_vec()));
    dev.close().await;

    c.add_custom_auth_connect_black().instance_id(&inst).client_id(cid).send().await.unwrap();
    assert!(connect(addr, cid, login(creds.clone())).await.is_err(), "blacklisted client refused");
    c.delete_custom_auth_connect_black().instance_id(&inst).client_id(cid).send().await.unwrap();
    connect(addr, cid, login(creds)).await.expect("accepted again").close().await;
    local.stop().await;
}

#[tokio::test]
async fn mqtt_can_be_turned_off() {
    let mut config = Config::demo();
    config.mqtt = false;
    let local = onsmqtt_local::start(config).await.unwrap();
    assert!(local.mqtt_addrs().is_empty());
    local.stop().await;
}

#[tokio::test]
async fn expired_token_is_refused() {
    let (local, c, inst, addr) = start().await;
    let out = c
        .apply_token()
        .instance_id(&inst)
        .resources("t/a")
        .actions("R")
        .expire_time(now_ms() + 1500)
        .send()
        .await
        .unwrap();
    let creds = ConnectCredentials::from_apply_token(&local.credentials(), &inst, &[(TokenType::Read, &out)])
        .unwrap();
    connect(addr, "GID_app@@@exp", login(creds.clone())).await.expect("valid token accepted").close().await;
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    assert!(connect(addr, "GID_app@@@exp", login(creds)).await.is_err(), "expired token refused");
    local.stop().await;
}
