//! A quick end-to-end check of the runtime through a generated operation, against a raw local
//! HTTP server.

use std::time::Duration;

use alibabacloud_onsmqtt::{Client, Config, Credentials, Error, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers each connection with the next canned response and returns the raw request heads.
async fn serve(answers: Vec<String>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let mut heads = Vec::new();
        for answer in answers {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut tmp).await.unwrap();
                assert!(n > 0, "client closed early");
                buf.extend_from_slice(&tmp[..n]);
            }
            heads.push(String::from_utf8_lossy(&buf).into_owned());
            sock.write_all(answer.as_bytes()).await.unwrap();
            sock.shutdown().await.unwrap();
        }
        heads
    });
    (format!("http://{addr}"), handle)
}

fn answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn client(endpoint: &str) -> Client {
    Client::new(
        Config::builder()
            .endpoint(endpoint)
            .credentials(Credentials::new("testid", "testsecret"))
            .retry(RetryConfig {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
            })
            .app_name("smoke/1.0")
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn query_session_by_client_id_round_trip() {
    let (endpoint, server) = serve(vec![answer(
        "200 OK",
        r#"{"OnlineStatus": true, "RequestId": "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0000"}"#,
    )])
    .await;
    let out = client(&endpoint)
        .query_session_by_client_id()
        .instance_id("post-cn-0pp12gl****")
        .client_id("GID_test@@@test")
        .send()
        .await
        .unwrap();
    assert!(out.online_status);
    assert_eq!(out.request_id, "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0000");

    let heads = server.await.unwrap();
    let head = &heads[0];
    assert!(
        head.starts_with(
            "POST /?ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A HTTP/1.1\r\n"
        ),
        "{head}"
    );
    assert!(head.contains("authorization: ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="), "{head}");
    assert!(head.contains(" smoke/1.0\r\n"), "{head}");
}

#[tokio::test]
async fn service_errors_reach_the_caller_readably() {
    let body = r#"{"Code": "InvalidParameter.ClientId", "Message": "The ClientId is invalid.", "RequestId": "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001", "HostId": "onsmqtt.cn-hangzhou.aliyuncs.com"}"#;
    let (endpoint, server) = serve(vec![answer("400 Bad Request", body)]).await;
    let err = client(&endpoint)
        .query_session_by_client_id()
        .instance_id("post-cn-0pp12gl****")
        .client_id("bad")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "InvalidParameter.ClientId: The ClientId is invalid. (request id E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001)"
    );
    // A 400 is final: one request only.
    assert_eq!(server.await.unwrap().len(), 1);
}
