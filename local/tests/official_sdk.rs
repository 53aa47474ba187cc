//! The official Python SDK (alibabacloud-onsmqtt20200420, in the venv `cargo xtask oracle`
//! creates) makes one call per operation against the local service, signing with V3 and with V1:
//! every call succeeds. With a wrong secret every call fails with `SignatureDoesNotMatch`.
//!
//! Fails, never skips, when the venv is missing.

use onsmqtt_local::{Config, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_INSTANCE_ID, Running};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    for p in [target.join("oracle-venv/bin/python"), root.join("target/oracle-venv/bin/python")] {
        if p.exists() {
            return p;
        }
    }
    panic!("the official SDK venv is missing: run `cargo xtask oracle` once, then the tests again");
}

fn drive(local: &Running, signature: &str, secret: &str, calls: &[(&str, Value)]) -> Vec<Value> {
    let plan = json!({
        "endpoint": local.addr().to_string(),
        "access_key_id": DEMO_ACCESS_KEY_ID,
        "access_key_secret": secret,
        "signature": signature,
        "calls": calls.iter().map(|(a, p)| json!([a, p])).collect::<Vec<_>>(),
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/drive.py");
    let mut child = std::process::Command::new(python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(plan.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the driver failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Certificates for the instance's registration code: CA, verification, device.
fn certificates(code: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "sdk test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf = |cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.signed_by(&key, &ca, &ca_key).unwrap().pem()
    };
    (ca.pem(), leaf(code), leaf("sdk-device"))
}

/// Two phases of calls, one per operation: the device certificate is registered in between (a
/// device does that by connecting; the API has no call for it).
/// Calls: the action and its parameters by wire name.
type Calls = Vec<(&'static str, Value)>;

fn plan(local: &Running) -> (Calls, Calls, String) {
    let inst = DEMO_INSTANCE_ID;
    let code = local.service().snapshot().instances[inst].register_code.clone();
    let (ca, verification, device) = certificates(&code);
    let ca_sn = onsmqtt_local::certs::parse(&ca).unwrap().sn;
    let dev_sn = onsmqtt_local::certs::parse(&device).unwrap().sn;
    let (begin, end) = (now_ms() - 60_000, now_ms() + 60_000);
    let id = |extra: Value| {
        let mut v = json!({"InstanceId": inst});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let mq = |extra: Value| {
        let mut v = json!({"MqttInstanceId": inst});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let first = vec![
        ("ListInstances", json!({})),
        ("CreateGroupId", id(json!({"GroupId": "GID_sdk01"}))),
        ("ListGroupId", id(json!({}))),
        ("DeleteGroupId", id(json!({"GroupId": "GID_sdk01"}))),
        ("ApplyToken", id(json!({"Resources": "t/a", "Actions": "R,W", "ExpireTime": now_ms() + 3_600_000}))),
        ("QueryToken", id(json!({"Token": "$token"}))),
        ("RevokeToken", id(json!({"Token": "$token"}))),
        ("RegisterDeviceCredential", id(json!({"ClientId": "GID_sdk@@@d1"}))),
        ("GetDeviceCredential", id(json!({"ClientId": "GID_sdk@@@d1"}))),
        ("RefreshDeviceCredential", id(json!({"ClientId": "GID_sdk@@@d1"}))),
        ("ListDeviceCredentialClientId", id(json!({"GroupId": "GID_sdk", "PageSize": 10}))),
        ("UnRegisterDeviceCredential", id(json!({"ClientId": "GID_sdk@@@d1"}))),
        (
            "AddCustomAuthIdentity",
            id(json!({"Username": "u1", "Secret": "s", "IdentityType": "USER", "SignMode": "ORIGIN"})),
        ),
        (
            "UpdateCustomAuthIdentity",
            id(json!({"Username": "u1", "Secret": "s2", "IdentityType": "USER", "SignMode": "SIGNED"})),
        ),
        ("QueryCustomAuthIdentity", id(json!({"Size": 10}))),
        ("DeleteCustomAuthIdentity", id(json!({"Username": "u1", "IdentityType": "USER"}))),
        (
            "AddCustomAuthPermission",
            id(
                json!({"IdentityType": "USER", "Identity": "u1", "PermitAction": "PUB", "Effect": "ALLOW", "Topic": "t/a"}),
            ),
        ),
        (
            "UpdateCustomAuthPermission",
            id(
                json!({"IdentityType": "USER", "Identity": "u1", "PermitAction": "SUB", "Effect": "DENY", "Topic": "t/a"}),
            ),
        ),
        ("QueryCustomAuthPermission", id(json!({"Size": 10}))),
        ("DeleteCustomAuthPermission", id(json!({"IdentityType": "USER", "Identity": "u1", "Topic": "t/a"}))),
        ("AddCustomAuthConnectBlack", id(json!({"ClientId": "GID_sdk@@@bad"}))),
        ("QueryCustomAuthConnectBlack", id(json!({"Size": 10}))),
        ("DeleteCustomAuthConnectBlack", id(json!({"ClientId": "GID_sdk@@@bad"}))),
        ("GetRegisterCode", mq(json!({}))),
        (
            "RegisterCaCertificate",
            mq(json!({"CaName": "ca", "CaContent": ca, "VerificationContent": verification})),
        ),
    ];
    let second = vec![
        ("GetCaCertificate", mq(json!({"Sn": ca_sn}))),
        ("ListCaCertificate", mq(json!({"PageNo": 1, "PageSize": 10}))),
        ("InactivateCaCertificate", mq(json!({"Sn": ca_sn}))),
        ("ActiveCaCertificate", mq(json!({"Sn": ca_sn}))),
        ("GetDeviceCertificate", mq(json!({"CaSn": ca_sn, "DeviceSn": dev_sn}))),
        ("ListDeviceCertificate", mq(json!({"PageNo": 1, "PageSize": 10}))),
        ("ListDeviceCertificateByCaSn", mq(json!({"CaSn": ca_sn, "PageNo": 1, "PageSize": 10}))),
        ("InactivateDeviceCertificate", mq(json!({"CaSn": ca_sn, "DeviceSn": dev_sn}))),
        ("ActiveDeviceCertificate", mq(json!({"CaSn": ca_sn, "DeviceSn": dev_sn}))),
        ("DeleteDeviceCertificate", mq(json!({"CaSn": ca_sn, "DeviceSn": dev_sn}))),
        ("DeleteCaCertificate", mq(json!({"Sn": ca_sn}))),
        ("SetSniConfig", mq(json!({"DefaultCertificate": "cert-1"}))),
        (
            "TagResources",
            json!({"ResourceType": "instance", "ResourceId": [inst], "Tag": [{"Key": "team", "Value": "a"}]}),
        ),
        ("ListTagResources", json!({"ResourceType": "instance"})),
        ("UntagResources", json!({"ResourceType": "instance", "ResourceId": [inst], "TagKey": ["team"]})),
        ("DisasterRecovery", id(json!({"RecoveryInstanceId": "mqtt-cn-local0002"}))),
        ("DisasterDowngrade", id(json!({"DowngradeInstanceId": "mqtt-cn-local0002"}))),
        ("SendMessage", id(json!({"MqttTopic": "t/a", "Payload": "hello"}))),
        (
            "QueryMqttTraceMessagePublish",
            id(json!({"MqttRegionId": "cn-hangzhou", "MsgId": "$msg", "BeginTime": begin, "EndTime": end})),
        ),
        (
            "QueryMqttTraceMessageSubscribe",
            id(
                json!({"MqttRegionId": "cn-hangzhou", "MsgId": "$msg", "BeginTime": begin, "EndTime": end, "CurrentPage": 1, "PageSize": 10}),
            ),
        ),
        (
            "QueryMqttTraceMessageOfClient",
            id(
                json!({"MqttRegionId": "cn-hangzhou", "ClientId": "GID_sdk@@@d1", "BeginTime": begin, "EndTime": end, "CurrentPage": 1, "PageSize": 10}),
            ),
        ),
        (
            "QueryMqttTraceDevice",
            id(
                json!({"MqttRegionId": "cn-hangzhou", "ClientId": "GID_sdk@@@d1", "BeginTime": begin, "EndTime": end, "CurrentPage": 1, "PageSize": 10}),
            ),
        ),
        ("QuerySessionByClientId", id(json!({"ClientId": "GID_sdk@@@d1"}))),
        ("BatchQuerySessionByClientIds", id(json!({"ClientIdList": ["GID_sdk@@@d1", "GID_sdk@@@d2"]}))),
        ("CloseConnection", id(json!({"ClientId": "GID_sdk@@@d1"}))),
    ];
    (first, second, device)
}

async fn start() -> Running {
    let mut config = Config::demo();
    config.instances.push(onsmqtt_local::InstanceConfig {
        id: "mqtt-cn-local0002".into(),
        owner: "demo".into(),
        region: "cn-hangzhou".into(),
    });
    onsmqtt_local::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_makes_every_call_with_v3_and_v1() {
    for signature in ["v3", "v1"] {
        let local = start().await;
        let (first, second, device) = plan(&local);
        let mut results =
            tokio::task::block_in_place(|| drive(&local, signature, DEMO_ACCESS_KEY_SECRET, &first));
        local.service().register_device_certificate(DEMO_INSTANCE_ID, &device).unwrap();
        results.extend(tokio::task::block_in_place(|| {
            drive(&local, signature, DEMO_ACCESS_KEY_SECRET, &second)
        }));
        let failed: Vec<&Value> = results.iter().filter(|r| r["ok"] != true).collect();
        assert!(failed.is_empty(), "{signature}: calls failed: {failed:#?}");
        let actions: BTreeSet<&str> = results.iter().filter_map(|r| r["action"].as_str()).collect();
        assert_eq!(
            actions.len(),
            onsmqtt_local::generated::ACTIONS.len(),
            "{signature}: one call per operation"
        );
        local.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_wrong_secret_every_call_fails_with_the_real_code() {
    for signature in ["v3", "v1"] {
        let local = start().await;
        let (mut calls, second, _) = plan(&local);
        calls.extend(second);
        let results = tokio::task::block_in_place(|| drive(&local, signature, "not-the-secret", &calls));
        assert_eq!(results.len(), onsmqtt_local::generated::ACTIONS.len());
        for r in &results {
            assert_eq!(r["code"], "SignatureDoesNotMatch", "{signature}: {r}");
        }
        local.stop().await;
    }
}
