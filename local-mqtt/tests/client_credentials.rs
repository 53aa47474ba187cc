//! The client crate's `mqtt::ConnectCredentials` are accepted by the broker, in every mode,
//! built from the same inputs the API client uses.

mod common;

use alibabacloud_onsmqtt::Credentials;
use alibabacloud_onsmqtt::mqtt::{ConnectCredentials, CustomSignMode, TokenType};
use alibabacloud_onsmqtt::operations::{ApplyTokenOutput, RegisterDeviceCredentialOutput};
use common::*;
use onsmqtt_local_mqtt::{CustomIdentity, IdentityType, Secret, SignMode};

fn login(c: ConnectCredentials) -> Option<(String, String)> {
    Some(c.into_parts())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mode_computed_by_the_client_crate_is_accepted() {
    let (broker, source) = setup().await;
    let addr = broker.local_addr();
    let keys = Credentials::new(AK_ID, AK_SECRET);

    let id = "GID_test@@@client-sig";
    let sig = ConnectCredentials::signature(&keys, INSTANCE, id).unwrap();
    assert!(connect(addr, id, login(sig)).await.is_ok(), "signature");

    token(&source, "tok-r", "t/#", "R", 60_000);
    token(&source, "tok-w", "t/a", "W", 60_000);
    let answer = |t: &str| -> ApplyTokenOutput {
        serde_json::from_value(serde_json::json!({"Token": t, "RequestId": "r"})).unwrap()
    };
    let (read, write) = (answer("tok-r"), answer("tok-w"));
    let tok = ConnectCredentials::from_apply_token(
        &keys,
        INSTANCE,
        &[(TokenType::Read, &read), (TokenType::Write, &write)],
    )
    .unwrap();
    assert!(connect(addr, "GID_test@@@client-tok", login(tok)).await.is_ok(), "token");

    let id = "GID_test@@@client-dev";
    source.add_device_credential(INSTANCE, "dev-ak", id, "dev-secret");
    let registered: RegisterDeviceCredentialOutput = serde_json::from_value(serde_json::json!({
        "RequestId": "r",
        "DeviceCredential": {
            "DeviceAccessKeyId": "dev-ak", "DeviceAccessKeySecret": "dev-secret",
            "InstanceId": INSTANCE, "ClientId": id
        }
    }))
    .unwrap();
    let dev = ConnectCredentials::from_register_device_credential(&registered).unwrap();
    assert!(connect(addr, id, login(dev)).await.is_ok(), "device credential");

    let id = "GID_test@@@client-custom";
    source.add_custom_identity(
        INSTANCE,
        CustomIdentity {
            identity_type: IdentityType::User,
            username: "custom-user".into(),
            client_id: None,
            secret: Secret::new("custom-secret"),
            sign_mode: SignMode::Signed,
        },
    );
    let custom =
        ConnectCredentials::custom("custom-user", "custom-secret", CustomSignMode::Signed, id).unwrap();
    assert!(connect(addr, id, login(custom)).await.is_ok(), "custom");
}
