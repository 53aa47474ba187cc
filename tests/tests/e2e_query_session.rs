//! QuerySessionByClientId end to end against the recording server: what goes on the wire (V3 and
//! V1, with and without an STS token), how answers decode, how every documented error code maps to
//! its variant, retries, and timeouts.

use std::time::{Duration, Instant};

use alibabacloud_onsmqtt::operations::QuerySessionByClientIdError;
use alibabacloud_onsmqtt::{Error, RetryConfig, SignatureVersion, TimeoutPhase};
use onsmqtt_tests::{
    ACCESS_KEY_ID, EMPTY_SHA256, Recorded, Reply, SECURITY_TOKEN, Server, TRANSPORT_HEADERS, fast_retry,
    is_iso8601_utc_seconds, parse_v3_authorization, spec_operation,
};

const INSTANCE: &str = "post-cn-0pp12gl****";
const CLIENT: &str = "GID_test@@@test";
const OK_BODY: &str = r#"{"OnlineStatus": true, "RequestId": "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0000"}"#;
const REQUEST_ID: &str = "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001";

type Answer = Result<
    alibabacloud_onsmqtt::operations::QuerySessionByClientIdOutput,
    Error<QuerySessionByClientIdError>,
>;

async fn call(client: &alibabacloud_onsmqtt::Client) -> Answer {
    client.query_session_by_client_id().client_id(CLIENT).instance_id(INSTANCE).send().await
}

/// The variant an error maps to, as `Code` (or `InvalidParameter.<parameter>`, or `Unhandled`).
fn variant(e: &QuerySessionByClientIdError) -> String {
    use QuerySessionByClientIdError as E;
    match e {
        E::ApiNotSupport(_) => "ApiNotSupport".into(),
        E::CheckAccountInfoFailed(_) => "CheckAccountInfoFailed".into(),
        E::InstancePermissionCheckFailed(_) => "InstancePermissionCheckFailed".into(),
        E::InternalError(_) => "InternalError".into(),
        E::ParameterCheckFailed(_) => "ParameterCheckFailed".into(),
        E::PermissionCheckFailed(_) => "PermissionCheckFailed".into(),
        E::SystemOverFlow(_) => "SystemOverFlow".into(),
        E::InvalidParameter { parameter, .. } => format!("InvalidParameter.{parameter}"),
        E::Unhandled(_) => "Unhandled".into(),
        other => format!("a variant this test does not know: {other:?}"),
    }
}

fn assert_v3_common(req: &Recorded, action: &str) {
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/");
    assert_eq!(req.header("x-acs-action"), Some(action));
    assert_eq!(req.header("x-acs-version"), Some("2020-04-20"));
    let date = req.header("x-acs-date").expect("x-acs-date");
    assert!(is_iso8601_utc_seconds(date), "x-acs-date {date:?}");
    let nonce = req.header("x-acs-signature-nonce").expect("x-acs-signature-nonce");
    assert!(nonce.len() >= 16 && nonce.chars().all(|c| c.is_ascii_alphanumeric()), "nonce {nonce:?}");
    assert_eq!(req.header("x-acs-content-sha256"), Some(EMPTY_SHA256));
    assert!(req.header("host").is_some());
    assert!(req.body.is_empty());

    let auth = req.header("authorization").expect("authorization");
    let (credential, signed, signature) =
        parse_v3_authorization(auth).unwrap_or_else(|| panic!("not an ACS3-HMAC-SHA256 value: {auth}"));
    assert_eq!(credential, ACCESS_KEY_ID);
    assert_eq!(signature.len(), 64, "{auth}");
    assert!(signature.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{auth}");
    // Every header the client set is signed, sorted; nothing else is.
    let mut expected: Vec<String> = req
        .header_names_lower()
        .into_iter()
        .filter(|n| n != "authorization" && !TRANSPORT_HEADERS.contains(&n.as_str()))
        .collect();
    expected.dedup();
    assert_eq!(signed, expected, "{auth}");
    for must in [
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ] {
        assert!(signed.iter().any(|s| s == must), "{must} is not signed: {auth}");
    }
}

#[tokio::test]
async fn v3_request_on_the_wire() {
    let server = Server::start([Reply::json(200, OK_BODY)]).await;
    let answer = call(&server.client()).await.unwrap();
    assert!(answer.online_status);
    assert_eq!(answer.request_id, "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0000");

    let req = server.single_request();
    assert_v3_common(&req, "QuerySessionByClientId");
    // The query carries exactly the two parameters, decoded back to the values given.
    assert_eq!(
        req.query,
        vec![("ClientId".to_owned(), CLIENT.to_owned()), ("InstanceId".to_owned(), INSTANCE.to_owned())]
    );
    assert_eq!(req.raw_query, "ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A");
    assert!(req.header("x-acs-security-token").is_none());
    assert!(req.header("x-acs-accesskey-id").is_none());
}

#[tokio::test]
async fn each_call_gets_a_fresh_nonce_and_the_connection_is_reused() {
    let server = Server::start([Reply::json(200, OK_BODY), Reply::json(200, OK_BODY)]).await;
    let client = server.client();
    call(&client).await.unwrap();
    call(&client).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].header("x-acs-signature-nonce"), seen[1].header("x-acs-signature-nonce"));
    assert_eq!(server.connection_count(), 1, "keep-alive: one connection for both calls");
}

#[tokio::test]
async fn v1_request_on_the_wire() {
    let server = Server::start([Reply::json(200, OK_BODY)]).await;
    let answer = call(&server.client_with(SignatureVersion::V1)).await.unwrap();
    assert!(answer.online_status);

    let req = server.single_request();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/"));
    assert!(req.header("authorization").is_none());
    assert!(req.body.is_empty());
    assert_eq!(
        req.query_names(),
        vec![
            "AccessKeyId",
            "Action",
            "ClientId",
            "Format",
            "InstanceId",
            "Signature",
            "SignatureMethod",
            "SignatureNonce",
            "SignatureVersion",
            "Timestamp",
            "Version"
        ]
    );
    assert_eq!(req.query_param("Action"), Some("QuerySessionByClientId"));
    assert!(req.query_param("Format").unwrap().eq_ignore_ascii_case("json"));
    assert_eq!(req.query_param("Version"), Some("2020-04-20"));
    assert!(is_iso8601_utc_seconds(req.query_param("Timestamp").unwrap()));
    assert!(!req.query_param("SignatureNonce").unwrap().is_empty());
    assert_eq!(req.query_param("SignatureMethod"), Some("HMAC-SHA1"));
    assert_eq!(req.query_param("SignatureVersion"), Some("1.0"));
    assert_eq!(req.query_param("AccessKeyId"), Some(ACCESS_KEY_ID));
    let signature = req.query_param("Signature").unwrap();
    assert_eq!(signature.len(), 28, "base64 of a SHA-1 HMAC: {signature}");
    assert!(signature.ends_with('='));
    assert_eq!(req.query_param("ClientId"), Some(CLIENT));
    assert_eq!(req.query_param("InstanceId"), Some(INSTANCE));
    assert!(req.query_param("SecurityToken").is_none());
}

#[tokio::test]
async fn sts_token_travels_as_a_signed_header_in_v3() {
    let server = Server::start([Reply::json(200, OK_BODY)]).await;
    call(&server.sts_client(SignatureVersion::V3)).await.unwrap();
    let req = server.single_request();
    assert_v3_common(&req, "QuerySessionByClientId");
    assert_eq!(req.header("x-acs-security-token"), Some(SECURITY_TOKEN));
    assert_eq!(req.header("x-acs-accesskey-id"), Some(ACCESS_KEY_ID));
    let (_, signed, _) = parse_v3_authorization(req.header("authorization").unwrap()).unwrap();
    assert!(signed.contains(&"x-acs-security-token".to_owned()), "{signed:?}");
    assert!(req.query_param("SecurityToken").is_none());
    assert_eq!(req.query_names(), vec!["ClientId", "InstanceId"]);
}

#[tokio::test]
async fn sts_token_travels_as_security_token_in_v1() {
    let server = Server::start([Reply::json(200, OK_BODY)]).await;
    call(&server.sts_client(SignatureVersion::V1)).await.unwrap();
    let req = server.single_request();
    assert_eq!(req.query_param("SecurityToken"), Some(SECURITY_TOKEN));
    assert!(req.header("x-acs-security-token").is_none());
    assert!(req.header("authorization").is_none());
}

#[tokio::test]
async fn awkward_values_arrive_intact() {
    let server = Server::always(Reply::json(200, OK_BODY)).await;
    let client = server.client();
    for version in [SignatureVersion::V3, SignatureVersion::V1] {
        let client =
            if version == SignatureVersion::V1 { server.client_with(version) } else { client.clone() };
        for value in ["a&InstanceId=evil", "a=b", "x+y z", "100%", "é/阿里云", "*~\n\t", "?#[]"] {
            client.query_session_by_client_id().client_id(value).instance_id(INSTANCE).send().await.unwrap();
            let req = server.requests().pop().unwrap();
            assert_eq!(req.query_param("ClientId"), Some(value), "{version:?} {:?}", req.raw_query);
            assert_eq!(req.query.iter().filter(|(k, _)| k == "InstanceId").count(), 1);
            assert_eq!(req.query_param("InstanceId"), Some(INSTANCE));
        }
    }
}

#[tokio::test]
async fn success_body_decodes() {
    let server = Server::start([
        Reply::json(200, r#"{"OnlineStatus": false, "RequestId": "R-1", "SomethingNew": [1, 2]}"#),
        Reply::json(200, r#"{"RequestId": "R-2"}"#),
    ])
    .await;
    let client = server.client();
    let answer = call(&client).await.unwrap();
    assert!(!answer.online_status);
    assert_eq!(answer.request_id, "R-1");
    // OnlineStatus is required: an answer without it is a decode error naming the call.
    let err = call(&client).await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("{err:?}") };
    assert_eq!(d.action(), "QuerySessionByClientId");
    assert_eq!(d.request_id(), Some("R-2"));
}

#[tokio::test]
async fn every_documented_error_code_maps_to_its_variant() {
    let spec = spec_operation("QuerySessionByClientId");
    let mut codes: Vec<&str> = spec.errors.iter().map(|e| e.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    // If the spec gains a code, `variant` above (and the generated enum) must know it.
    assert_eq!(
        codes,
        vec![
            "ApiNotSupport",
            "CheckAccountInfoFailed",
            "InstancePermissionCheckFailed",
            "InternalError",
            "InvalidParameter.%s",
            "ParameterCheckFailed",
            "PermissionCheckFailed",
            "SystemOverFlow"
        ]
    );

    let server = Server::start([]).await;
    let client = server.client_without_retries();
    for row in &spec.errors {
        let code = row.code.replace("%s", "ClientId");
        let message = row.message.clone().unwrap_or_else(|| "documented error".to_owned());
        let status = u16::try_from(row.status).expect("the spec's statuses are HTTP statuses");
        server.push(Reply::error(status, &code, &message, REQUEST_ID));
        let before = server.request_count();
        let err = call(&client).await.unwrap_err();
        assert_eq!(server.request_count(), before + 1);
        let Error::Service(e) = &err else { panic!("{code}: {err:?}") };
        assert_eq!(variant(e), code, "{e:?}");
        let se = e.service_error();
        assert_eq!(se.status(), status);
        assert_eq!(se.code(), code);
        assert_eq!(se.message(), message);
        assert_eq!(se.request_id(), Some(REQUEST_ID));
        assert_eq!(se.host_id(), Some("onsmqtt.cn-hangzhou.aliyuncs.com"));
        assert_eq!(se.recommend(), Some(format!("https://api.aliyun.com/troubleshoot?q={code}").as_str()));
        assert_eq!(se.attempts(), 1);
        assert!(se.has_service_code());
        assert_eq!(err.to_string(), format!("{code}: {message} (request id {REQUEST_ID})"));
    }

    // InvalidParameter carries the parameter name, whatever it is.
    server.push(Reply::error(400, "InvalidParameter.InstanceId", "bad", REQUEST_ID));
    let err = call(&client).await.unwrap_err();
    assert!(
        matches!(&err, Error::Service(QuerySessionByClientIdError::InvalidParameter { parameter, .. }) if parameter == "InstanceId"),
        "{err:?}"
    );

    // A code the spec does not list is Unhandled, with everything kept.
    server.push(Reply::json(
        403,
        r#"{"Code":"Forbidden.RAM","Message":"User not authorized","RequestId":"R-403","HostId":"h","Recommend":"r",
            "AccessDeniedDetail":{"PolicyType":"AccountLevelIdentityBasedPolicy","AuthAction":"mq:QuerySessionByClientId","NoPermissionType":"ImplicitDeny"}}"#,
    ));
    let err = call(&client).await.unwrap_err();
    let Error::Service(QuerySessionByClientIdError::Unhandled(se)) = &err else { panic!("{err:?}") };
    assert_eq!((se.status(), se.code(), se.message()), (403, "Forbidden.RAM", "User not authorized"));
    assert_eq!((se.request_id(), se.host_id(), se.recommend()), (Some("R-403"), Some("h"), Some("r")));
    let detail = se.access_denied_detail().expect("AccessDeniedDetail");
    assert_eq!(detail["AuthAction"], "mq:QuerySessionByClientId");
    assert_eq!(detail["NoPermissionType"], "ImplicitDeny");
}

#[tokio::test]
async fn display_of_a_service_error() {
    let server = Server::start([Reply::json(
        400,
        format!(r#"{{"Code":"InvalidParameter.ClientId","Message":"The ClientId is invalid.","RequestId":"{REQUEST_ID}"}}"#),
    )])
    .await;
    let err = call(&server.client()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("InvalidParameter.ClientId: The ClientId is invalid. (request id {REQUEST_ID})")
    );
    let Error::Service(QuerySessionByClientIdError::InvalidParameter { parameter, error }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(parameter, "ClientId");
    assert_eq!(error.status(), 400);
    // Not retried: a 400 with a non-throttling code is final.
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn xml_error_body_is_understood() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <RequestId>R-XML</RequestId>
  <HostId>onsmqtt.cn-hangzhou.aliyuncs.com</HostId>
  <Code>InvalidParameter.ClientId</Code>
  <Message>The ClientId &amp; more is invalid.</Message>
  <Recommend><![CDATA[https://api.aliyun.com/troubleshoot?q=InvalidParameter.ClientId]]></Recommend>
</Error>"#;
    let server = Server::start([Reply::xml(400, xml)]).await;
    let err = call(&server.client()).await.unwrap_err();
    let Error::Service(QuerySessionByClientIdError::InvalidParameter { parameter, error }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(parameter, "ClientId");
    assert_eq!(error.message(), "The ClientId & more is invalid.");
    assert_eq!(error.request_id(), Some("R-XML"));
    assert_eq!(error.host_id(), Some("onsmqtt.cn-hangzhou.aliyuncs.com"));
    assert_eq!(error.recommend(), Some("https://api.aliyun.com/troubleshoot?q=InvalidParameter.ClientId"));
}

#[tokio::test]
async fn internal_error_then_success_is_retried() {
    let server = Server::start([
        Reply::error(500, "InternalError", "An error occurred while processing your request.", "R-500"),
        Reply::json(200, OK_BODY),
    ])
    .await;
    let answer = call(&server.client()).await.unwrap();
    assert!(answer.online_status);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    // Each attempt is signed afresh.
    assert_ne!(seen[0].header("x-acs-signature-nonce"), seen[1].header("x-acs-signature-nonce"));
}

#[tokio::test]
async fn persistent_503_gives_up_after_the_configured_attempts() {
    let server = Server::always(Reply::error(503, "ServiceUnavailable", "busy", "R-503")).await;
    let err = call(&server.client()).await.unwrap_err();
    let Error::Service(e) = &err else { panic!("{err:?}") };
    let se = e.service_error();
    assert_eq!((se.status(), se.code(), se.attempts()), (503, "ServiceUnavailable", 3));
    assert!(matches!(e, QuerySessionByClientIdError::Unhandled(_)));
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    let server = Server::start([
        Reply::error(429, "Throttling.User", "Request was denied due to user flow control.", "R-429")
            .header("x-acs-retry-after", "200"),
        Reply::json(200, OK_BODY),
    ])
    .await;
    let started = Instant::now();
    call(&server.client()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].received_at - seen[0].received_at;
    assert!(gap >= Duration::from_millis(200), "retried after {gap:?}");
}

#[tokio::test]
async fn retries_can_be_disabled() {
    let server = Server::always(Reply::error(503, "ServiceUnavailable", "busy", "R-503")).await;
    let client = server.client_without_retries();
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.as_service().map(|e| e.service_error().attempts()), Some(1));
    assert_eq!(server.request_count(), 1);
    assert_eq!(client.config().retry(), RetryConfig::disabled());
}

#[tokio::test]
async fn slow_answer_is_a_read_timeout() {
    let server = Server::start([Reply::json(200, OK_BODY).delay(Duration::from_secs(3))]).await;
    let client = alibabacloud_onsmqtt::Client::new(
        server
            .config()
            .read_timeout(Duration::from_millis(200))
            .retry(RetryConfig::disabled())
            .build()
            .unwrap(),
    );
    let started = Instant::now();
    let err = call(&client).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let Error::Timeout(t) = &err else { panic!("{err:?}") };
    assert_eq!(t.phase(), TimeoutPhase::Read);
    assert_eq!(t.timeout(), Duration::from_millis(200));
    assert_eq!(t.attempts(), 1);
    assert_eq!(server.request_count(), 1);

    // A read-only call is retried after a read timeout.
    let server = Server::always(Reply::json(200, OK_BODY).delay(Duration::from_secs(3))).await;
    let client = alibabacloud_onsmqtt::Client::new(
        server.config().read_timeout(Duration::from_millis(100)).retry(fast_retry(2)).build().unwrap(),
    );
    let err = call(&client).await.unwrap_err();
    assert!(matches!(&err, Error::Timeout(t) if t.attempts() == 2), "{err:?}");
    assert_eq!(server.request_count(), 2);
}
