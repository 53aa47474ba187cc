//! Authentication like the real gateway, and bad input: each fault gets its code, nothing panics
//! and the state does not change.

use alibabacloud_onsmqtt::{Client, Credentials, Error, RetryConfig, SignatureVersion};
use base64::Engine;
use hmac::{Hmac, Mac};
use onsmqtt_local::{Account, Config, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_INSTANCE_ID, Running};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn pct(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A V1 query for `params` plus the common ones, signed with `secret`.
fn v1_query(params: &[(&str, &str)], timestamp: i64, nonce: &str, secret: &str) -> String {
    let ts = onsmqtt_local::auth::format_utc(timestamp);
    let mut all: Vec<(String, String)> =
        params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    for (k, v) in [
        ("AccessKeyId", DEMO_ACCESS_KEY_ID),
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", ts.as_str()),
    ] {
        all.push((k.to_owned(), v.to_owned()));
    }
    all.sort();
    let cq = all.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&");
    let sts = format!("POST&%2F&{}", pct(&cq));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("{cq}&Signature={}", pct(&sig))
}

/// Sends raw bytes, returns the status and body.
async fn raw(local: &Running, request: Vec<u8>) -> (u16, serde_json::Value) {
    let mut s = tokio::net::TcpStream::connect(local.addr()).await.unwrap();
    s.write_all(&request).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    let status: u16 = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

fn post(query: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /?{query} HTTP/1.1\r\nHost: local\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn code(v: &serde_json::Value) -> &str {
    v["Code"].as_str().unwrap_or("<none>")
}

fn list_groups(ts: i64, nonce: &str, secret: &str) -> String {
    v1_query(
        &[("Action", "ListGroupId"), ("Version", "2020-04-20"), ("InstanceId", DEMO_INSTANCE_ID)],
        ts,
        nonce,
        secret,
    )
}

#[tokio::test]
async fn signatures_timestamps_nonces_actions_versions() {
    let local = onsmqtt_local::start(Config::demo()).await.unwrap();
    let now = now_secs();
    let (status, body) = raw(&local, post(&list_groups(now, "n-1", DEMO_ACCESS_KEY_SECRET), "", b"")).await;
    assert_eq!((status, body["Data"].is_array()), (200, true), "{body}");
    let (status, body) = raw(&local, post(&list_groups(now, "n-1", DEMO_ACCESS_KEY_SECRET), "", b"")).await;
    assert_eq!((status, code(&body)), (400, "SignatureNonceUsed"));
    let (status, body) =
        raw(&local, post(&list_groups(now - 3600, "n-2", DEMO_ACCESS_KEY_SECRET), "", b"")).await;
    assert_eq!((status, code(&body)), (400, "InvalidTimeStamp.Expired"));
    let (status, body) = raw(&local, post(&list_groups(now, "n-3", "wrong"), "", b"")).await;
    assert_eq!((status, code(&body)), (400, "SignatureDoesNotMatch"));
    let q = v1_query(
        &[("Action", "NoSuchAction"), ("Version", "2020-04-20")],
        now,
        "n-4",
        DEMO_ACCESS_KEY_SECRET,
    );
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "InvalidAction.NotFound");
    let q = v1_query(&[("Version", "2020-04-20")], now, "n-5", DEMO_ACCESS_KEY_SECRET);
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "InvalidAction.NotFound", "no action at all");
    let q =
        v1_query(&[("Action", "ListGroupId"), ("Version", "2019-01-01")], now, "n-6", DEMO_ACCESS_KEY_SECRET);
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "InvalidVersion");
    let (status, body) = raw(&local, post("Action=ListGroupId&Version=2020-04-20", "", b"")).await;
    assert_eq!((status, code(&body)), (400, "MissingSignature"));
    // A missing required parameter, signed correctly: the operation's own code.
    let q =
        v1_query(&[("Action", "ListGroupId"), ("Version", "2020-04-20")], now, "n-7", DEMO_ACCESS_KEY_SECRET);
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "ParameterFieldCheckFailed");
    local.stop().await;
}

fn client(local: &Running, creds: Credentials, v: SignatureVersion) -> Client {
    Client::new(
        alibabacloud_onsmqtt::Config::builder()
            .endpoint(local.endpoint())
            .credentials(creds)
            .signature_version(v)
            .retry(RetryConfig::disabled())
            .build()
            .unwrap(),
    )
}

async fn call_code(c: &Client) -> String {
    match c.list_group_id().instance_id(DEMO_INSTANCE_ID).send().await {
        Ok(_) => "ok".into(),
        Err(Error::Service(e)) => e.service_error().code().to_owned(),
        Err(e) => format!("other: {e}"),
    }
}

#[tokio::test]
async fn the_client_meets_the_gateway_codes_with_v3_and_v1_and_sts() {
    let mut config = Config::demo();
    config.accounts.push(Account {
        name: "demo".into(),
        access_key_id: "STS.local".into(),
        access_key_secret: "sts-secret".into(),
        security_token: Some("the-token".into()),
    });
    let local = onsmqtt_local::start(config).await.unwrap();
    for v in [SignatureVersion::V3, SignatureVersion::V1] {
        assert_eq!(
            call_code(&client(&local, Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), v)).await,
            "ok"
        );
        assert_eq!(
            call_code(&client(&local, Credentials::new(DEMO_ACCESS_KEY_ID, "wrong"), v)).await,
            "SignatureDoesNotMatch"
        );
        assert_eq!(
            call_code(&client(&local, Credentials::new("LTAIunknown", "x"), v)).await,
            "InvalidAccessKeyId.NotFound"
        );
        let sts = Credentials::new("STS.local", "sts-secret").with_security_token("the-token");
        assert_eq!(call_code(&client(&local, sts, v)).await, "ok");
        let bad = Credentials::new("STS.local", "sts-secret").with_security_token("another");
        assert_eq!(call_code(&client(&local, bad, v)).await, "InvalidSecurityToken.MismatchWithAccessKey");
        let none = Credentials::new("STS.local", "sts-secret");
        assert_eq!(call_code(&client(&local, none, v)).await, "InvalidSecurityToken.MismatchWithAccessKey");
    }
    local.stop().await;
}

#[tokio::test]
async fn bad_input_gets_answers_and_leaves_state_alone() {
    let local = onsmqtt_local::start(Config::demo()).await.unwrap();
    let before = local.service().snapshot();
    let now = now_secs();
    let mut nonce = 0;
    let mut next = || {
        nonce += 1;
        format!("bad-{nonce}")
    };
    // Invalid UTF-8 once decoded.
    let (status, body) = raw(&local, post("Action=ListGroupId&InstanceId=%FF%FE", "", b"")).await;
    assert_eq!((status, code(&body)), (400, "InvalidParameter"));
    // Malformed percent-encoding is kept literally, as form decoders do; the signature then fails.
    let (status, _) = raw(&local, post("Action=%ZZ", "", b"")).await;
    assert_eq!(status, 400);
    // A body over the limit.
    let big = vec![b'a'; onsmqtt_local::http::MAX_BODY + 10];
    let (status, body) =
        raw(&local, post("", "Content-Type: application/x-www-form-urlencoded\r\n", &big)).await;
    assert_eq!((status, code(&body)), (413, "RequestEntityTooLarge"));
    // Headers over the limit: hyper refuses the request itself and closes the connection.
    let huge = format!("X-Big: {}\r\n", "h".repeat(onsmqtt_local::http::MAX_HEAD + 10));
    let (status, _) = raw(&local, post("", &huge, b"")).await;
    assert!(matches!(status, 400 | 431), "{status}");
    // Thousands of parameters.
    let many: String = (0..5000).map(|i| format!("P{i}=v&")).collect();
    let (status, body) =
        raw(&local, post("", "Content-Type: application/x-www-form-urlencoded\r\n", many.as_bytes())).await;
    assert_eq!((status, code(&body)), (400, "InvalidParameter"));
    // A duplicate parameter: the first counts (here an unknown instance, then the real one; the
    // signing helper sorts by name and value, so the unknown one comes first).
    let signed = v1_query(
        &[
            ("Action", "CreateGroupId"),
            ("Version", "2020-04-20"),
            ("InstanceId", "mqtt-none"),
            ("GroupId", "GID_dup01"),
        ],
        now,
        &next(),
        DEMO_ACCESS_KEY_SECRET,
    );
    let q = format!("{signed}&InstanceId={DEMO_INSTANCE_ID}");
    // The appended duplicate is part of what V1 signs, so the signature no longer matches.
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "SignatureDoesNotMatch");
    let dup = v1_query(
        &[
            ("Action", "CreateGroupId"),
            ("Version", "2020-04-20"),
            ("InstanceId", "a-missing"),
            ("GroupId", "GID_dup01"),
            ("InstanceId", DEMO_INSTANCE_ID),
        ],
        now,
        &next(),
        DEMO_ACCESS_KEY_SECRET,
    );
    assert_eq!(code(&raw(&local, post(&dup, "", b"")).await.1), "InstanceNotFound");
    // A JSON body carries no parameters: the required ones are missing.
    let q = v1_query(
        &[("Action", "CreateGroupId"), ("Version", "2020-04-20")],
        now,
        &next(),
        DEMO_ACCESS_KEY_SECRET,
    );
    let (_, body) = raw(
        &local,
        post(&q, "Content-Type: application/json\r\n", br#"{"InstanceId":"x","GroupId":"GID_json1"}"#),
    )
    .await;
    assert_eq!(code(&body), "ParameterFieldCheckFailed");
    // Values of the wrong type and out of their bounds.
    let q = v1_query(
        &[
            ("Action", "QueryCustomAuthIdentity"),
            ("Version", "2020-04-20"),
            ("InstanceId", DEMO_INSTANCE_ID),
            ("Size", "many"),
        ],
        now,
        &next(),
        DEMO_ACCESS_KEY_SECRET,
    );
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "InvalidParameter.Size");
    let q = v1_query(
        &[
            ("Action", "QueryCustomAuthIdentity"),
            ("Version", "2020-04-20"),
            ("InstanceId", DEMO_INSTANCE_ID),
            ("Size", "1000"),
        ],
        now,
        &next(),
        DEMO_ACCESS_KEY_SECRET,
    );
    let (status, body) = raw(&local, post(&q, "", b"")).await;
    assert_eq!(
        (status, code(&body)),
        (400, "InvalidParameter.Size"),
        "a gateway-level rejection is a plain HTTP error"
    );
    let mut list = vec![
        ("Action", "BatchQuerySessionByClientIds"),
        ("Version", "2020-04-20"),
        ("InstanceId", DEMO_INSTANCE_ID),
    ];
    let names: Vec<String> = (1..=11).map(|i| format!("ClientIdList.{i}")).collect();
    for n in &names {
        list.push((n.as_str(), "c"));
    }
    let q = v1_query(&list, now, &next(), DEMO_ACCESS_KEY_SECRET);
    assert_eq!(code(&raw(&local, post(&q, "", b"")).await.1), "InvalidParameter.ClientIdList");
    // Garbage that is not HTTP at all.
    let (status, _) = raw(&local, b"\x00\x01\x02 not http\r\n\r\n".to_vec()).await;
    assert!(status == 0 || status == 400, "{status}");
    assert_eq!(local.service().snapshot(), before, "no bad request changed the state");
    // The service still answers.
    let (status, _) = raw(&local, post(&list_groups(now, &next(), DEMO_ACCESS_KEY_SECRET), "", b"")).await;
    assert_eq!(status, 200);
    local.stop().await;
}
