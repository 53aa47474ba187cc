//! `mqtt::ConnectCredentials` against the documented examples (tests/data/mqtt_connect_examples.json).

use alibabacloud_onsmqtt::Credentials;
use alibabacloud_onsmqtt::mqtt::{ConnectCredentials, CustomSignMode, TokenType};
use alibabacloud_onsmqtt::operations::ApplyTokenOutput;
use alibabacloud_onsmqtt::operations::RegisterDeviceCredentialOutput;
use serde_json::Value;

fn examples() -> Value {
    serde_json::from_str(include_str!("data/mqtt_connect_examples.json")).expect("valid JSON")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))
}

fn kind(letters: &str) -> TokenType {
    match letters {
        "R" => TokenType::Read,
        "W" => TokenType::Write,
        "RW" => TokenType::ReadWrite,
        other => panic!("unknown token type {other}"),
    }
}

#[test]
fn signature_mode_matches_the_examples() {
    let examples = examples();
    for ex in examples["signature"].as_array().unwrap() {
        let keys = Credentials::new(s(ex, "access_key_id"), s(ex, "access_key_secret"));
        let login = ConnectCredentials::signature(&keys, s(ex, "instance_id"), s(ex, "client_id")).unwrap();
        assert_eq!(login.username(), s(ex, "username"));
        assert_eq!(login.password(), s(ex, "password"));
        let debug = format!("{login:?}");
        assert!(!debug.contains(s(ex, "password")) && !debug.contains(s(ex, "access_key_secret")), "{debug}");
    }
}

#[test]
fn token_mode_matches_the_examples() {
    let examples = examples();
    for ex in examples["token"].as_array().unwrap() {
        let tokens: Vec<(TokenType, &str)> = ex["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (kind(pair[0].as_str().unwrap()), pair[1].as_str().unwrap()))
            .collect();
        let login = ConnectCredentials::token(s(ex, "access_key_id"), s(ex, "instance_id"), &tokens).unwrap();
        assert_eq!(login.username(), s(ex, "username"));
        assert_eq!(login.password(), s(ex, "password"));

        // The same from ApplyToken answers.
        let outputs: Vec<(TokenType, ApplyTokenOutput)> = tokens
            .iter()
            .map(|(k, t)| {
                (*k, serde_json::from_value(serde_json::json!({"Token": t, "RequestId": "r"})).unwrap())
            })
            .collect();
        let refs: Vec<(TokenType, &ApplyTokenOutput)> = outputs.iter().map(|(k, o)| (*k, o)).collect();
        let keys = Credentials::new(s(ex, "access_key_id"), "unused-secret");
        let from_api = ConnectCredentials::from_apply_token(&keys, s(ex, "instance_id"), &refs).unwrap();
        assert_eq!(from_api, login);
        assert!(!format!("{from_api:?}").contains(s(ex, "password")));
    }
}

#[test]
fn device_credential_mode_matches_the_examples() {
    let examples = examples();
    for ex in examples["device_credential"].as_array().unwrap() {
        let output: RegisterDeviceCredentialOutput = serde_json::from_value(ex["response"].clone()).unwrap();
        let login = ConnectCredentials::from_register_device_credential(&output).unwrap();
        assert_eq!(login.username(), s(ex, "username"));
        assert_eq!(login.password(), s(ex, "password"));
        assert!(!format!("{login:?}").contains(s(ex, "password")));
    }
}

#[test]
fn custom_mode_matches_the_examples() {
    let examples = examples();
    for ex in examples["custom"].as_array().unwrap() {
        let mode = match s(ex, "sign_mode") {
            "SIGNED" => CustomSignMode::Signed,
            _ => CustomSignMode::Origin,
        };
        let login =
            ConnectCredentials::custom(s(ex, "username"), s(ex, "secret"), mode, s(ex, "client_id")).unwrap();
        assert_eq!(login.username(), s(ex, "username"));
        assert_eq!(login.password(), s(ex, "password"));
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let keys = Credentials::new("AK", "secret");
    assert!(ConnectCredentials::signature(&keys, "", "GID@@@d").is_err());
    assert!(ConnectCredentials::signature(&keys, "inst", "").is_err());
    assert!(ConnectCredentials::signature(&Credentials::new("A|K", "s"), "inst", "GID@@@d").is_err());
    assert!(ConnectCredentials::token("AK", "inst", &[]).is_err());
    assert!(
        ConnectCredentials::token("AK", "inst", &[(TokenType::Read, "a"), (TokenType::Read, "b")]).is_err()
    );
    assert!(ConnectCredentials::token("AK", "inst", &[(TokenType::Read, "a|b")]).is_err());
    let empty: RegisterDeviceCredentialOutput = serde_json::from_str(r#"{"RequestId":"r"}"#).unwrap();
    assert!(ConnectCredentials::from_register_device_credential(&empty).is_err());
    let partial: RegisterDeviceCredentialOutput = serde_json::from_str(
        r#"{"RequestId":"r","DeviceCredential":{"DeviceAccessKeyId":"k","ClientId":"GID@@@d"}}"#,
    )
    .unwrap();
    let err = ConnectCredentials::from_register_device_credential(&partial).unwrap_err();
    assert!(err.to_string().contains("DeviceAccessKeySecret"), "{err}");
}
