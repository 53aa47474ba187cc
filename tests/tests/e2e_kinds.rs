//! One end-to-end test per kind of operation the spec can describe: flattened lists, declared
//! bounds checked before any I/O, form bodies, the three paging styles, enums with values this
//! crate does not know, failures inside HTTP 200, and retries of read-only versus mutating calls.

use std::time::Duration;

use alibabacloud_onsmqtt::operations::{AddCustomAuthConnectBlackError, ListInstancesError};
use alibabacloud_onsmqtt::types::{IdentityType, SignMode, Tag};
use alibabacloud_onsmqtt::{Error, SignatureVersion};
use futures_util::{StreamExt, TryStreamExt};
use onsmqtt_tests::{Recorded, Reply, Server, parse_v3_authorization};
use serde_json::json;
use sha2::Digest;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

// ---- lists -------------------------------------------------------------------------------------

#[tokio::test]
async fn string_list_is_flattened_one_based() {
    let server = Server::start([Reply::json(
        200,
        r#"{"OnlineStatusList":[{"ClientId":"GID_a@@@1","OnlineStatus":true},{"ClientId":"GID_b@@@2","OnlineStatus":false}],"RequestId":"R5"}"#,
    )])
    .await;
    let answer = server
        .client()
        .batch_query_session_by_client_ids()
        .instance_id("mqtt-cn-xx")
        .client_id_list(["GID_a@@@1", "GID_b@@@2"])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.online_status_list.len(), 2);
    assert_eq!(answer.online_status_list[0].client_id.as_deref(), Some("GID_a@@@1"));
    assert_eq!(answer.online_status_list[1].online_status, Some(false));

    let req = server.single_request();
    assert_eq!(
        sorted(req.query.clone()),
        pairs(&[
            ("ClientIdList.1", "GID_a@@@1"),
            ("ClientIdList.2", "GID_b@@@2"),
            ("InstanceId", "mqtt-cn-xx")
        ])
    );
    assert!(req.raw_query.contains("ClientIdList.1=GID_a%40%40%401"), "{}", req.raw_query);
}

#[tokio::test]
async fn object_list_is_flattened_with_field_names() {
    let server = Server::start([Reply::json(200, r#"{"Code":"200","Data":true,"RequestId":"R6"}"#)]).await;
    server
        .client()
        .tag_resources()
        .resource_type("GROUP")
        .resource_id(["GID_a", "GID_b"])
        .tag([
            Tag::new().key("k1").value("v 1"),
            Tag::new().key("k2").value("v2"),
            Tag::new().key("only-key"),
        ])
        .send()
        .await
        .unwrap();
    let req = server.single_request();
    assert_eq!(
        sorted(req.query.clone()),
        pairs(&[
            ("ResourceId.1", "GID_a"),
            ("ResourceId.2", "GID_b"),
            ("ResourceType", "GROUP"),
            ("Tag.1.Key", "k1"),
            ("Tag.1.Value", "v 1"),
            ("Tag.2.Key", "k2"),
            ("Tag.2.Value", "v2"),
            ("Tag.3.Key", "only-key"),
        ])
    );
    assert!(req.raw_query.contains("Tag.1.Value=v%201"), "{}", req.raw_query);
}

#[tokio::test]
async fn too_many_items_fail_before_sending() {
    let server = Server::start([]).await;
    let ids: Vec<String> = (1..=11).map(|i| format!("GID_x@@@{i}")).collect();
    let err = server
        .client()
        .batch_query_session_by_client_ids()
        .instance_id("mqtt-cn-xx")
        .client_id_list(ids.clone())
        .send()
        .await
        .unwrap_err();
    let Error::InvalidInput(e) = &err else { panic!("{err:?}") };
    assert_eq!(e.param(), "ClientIdList");
    assert_eq!(e.expected(), "at most 10 items");
    assert_eq!(e.actual(), "11 items");
    assert!(err.to_string().contains("ClientIdList"), "{err}");
    assert_eq!(server.request_count(), 0, "nothing may be sent");

    // Ten is allowed.
    server
        .client()
        .batch_query_session_by_client_ids()
        .instance_id("mqtt-cn-xx")
        .client_id_list(ids.into_iter().take(10))
        .send()
        .await
        .unwrap();
    assert_eq!(server.single_request().query.len(), 11);
}

#[tokio::test]
async fn out_of_range_numbers_fail_before_sending() {
    let server = Server::always(Reply::json(
        200,
        r#"{"RequestId":"R","Code":200,"Success":true,"Data":{"Results":[]}}"#,
    ))
    .await;
    let client = server.client();
    for size in [0, 101, -1, i32::MAX] {
        let err = client
            .query_custom_auth_identity()
            .instance_id("mqtt-cn-xx")
            .size(size)
            .send()
            .await
            .unwrap_err();
        let Error::InvalidInput(e) = &err else { panic!("{size}: {err:?}") };
        assert_eq!(e.param(), "Size");
        assert_eq!(e.expected(), "a value from 1 to 100");
        assert_eq!(e.actual(), size.to_string());
    }
    assert_eq!(server.request_count(), 0, "nothing may be sent");
    for size in [1, 100] {
        client.query_custom_auth_identity().instance_id("mqtt-cn-xx").size(size).send().await.unwrap();
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].query_param("Size"), Some("1"));
    assert_eq!(seen[1].query_param("Size"), Some("100"));
}

// ---- form bodies -------------------------------------------------------------------------------

async fn add_identity(client: &alibabacloud_onsmqtt::Client) {
    client
        .add_custom_auth_identity()
        .instance_id("mqtt-cn-xx")
        .username("user é&=+")
        .secret("s3cr%t/*~")
        .identity_type(IdentityType::Client)
        .client_id("GID_test@@@test")
        .sign_mode(SignMode::Signed)
        .send()
        .await
        .unwrap();
}

fn expected_form() -> Vec<(String, String)> {
    pairs(&[
        ("ClientId", "GID_test@@@test"),
        ("IdentityType", "CLIENT"),
        ("InstanceId", "mqtt-cn-xx"),
        ("Secret", "s3cr%t/*~"),
        ("SignMode", "SIGNED"),
        ("Username", "user é&=+"),
    ])
}

const CUSTOM_AUTH_OK: &str = r#"{"RequestId":"R","Code":200,"Success":true,"Message":"operation success."}"#;

#[tokio::test]
async fn form_parameters_travel_in_a_signed_form_body() {
    let server = Server::always(Reply::json(200, CUSTOM_AUTH_OK)).await;
    add_identity(&server.client()).await;
    let req = server.single_request();
    assert_eq!(req.method, "POST");
    assert!(req.raw_query.is_empty(), "no parameter in the query: {}", req.target);
    assert!(req.is_form(), "{:?}", req.header("content-type"));
    assert_eq!(sorted(req.form()), expected_form());
    assert_eq!(req.header("content-length"), Some(req.body.len().to_string().as_str()));
    let body_hash = hex::encode(sha2::Sha256::digest(&req.body));
    assert_eq!(req.header("x-acs-content-sha256"), Some(body_hash.as_str()));
    let (_, signed, _) = parse_v3_authorization(req.header("authorization").unwrap()).unwrap();
    assert!(signed.contains(&"content-type".to_owned()), "{signed:?}");
}

#[tokio::test]
async fn form_parameters_stay_in_the_body_with_v1() {
    let server = Server::always(Reply::json(200, CUSTOM_AUTH_OK)).await;
    add_identity(&server.client_with(SignatureVersion::V1)).await;
    let req = server.single_request();
    assert!(req.is_form());
    assert_eq!(sorted(req.form()), expected_form());
    // Only the common parameters in the query.
    assert_eq!(
        req.query_names(),
        vec![
            "AccessKeyId",
            "Action",
            "Format",
            "Signature",
            "SignatureMethod",
            "SignatureNonce",
            "SignatureVersion",
            "Timestamp",
            "Version"
        ]
    );
}

// ---- paging ------------------------------------------------------------------------------------

fn permission_page(token: Option<&str>, identities: &[&str]) -> Reply {
    let results: Vec<_> = identities
        .iter()
        .map(|i| json!({"Identity": i, "IdentityType": "USER", "PermitAction": "PUB", "Effect": "ALLOW", "Topic": "t/#"}))
        .collect();
    let mut data = json!({ "Results": results });
    if let Some(t) = token {
        data["NextToken"] = json!(t);
    }
    Reply::json_value(200, &json!({"RequestId": "R", "Code": 200, "Success": true, "Data": data}))
}

fn permission_pages(req: &Recorded) -> Reply {
    match req.query_param("NextToken") {
        None => permission_page(Some("t1"), &["a", "b"]),
        Some("t1") => permission_page(Some("t2"), &["c", "d"]),
        Some("t2") => permission_page(None, &["e"]),
        Some(other) => {
            Reply::error(400, "InvalidParameter.NextToken", &format!("unknown token {other}"), "R")
        }
    }
}

#[tokio::test]
async fn next_token_paging_follows_tokens_until_none() {
    let server = Server::with_handler(permission_pages).await;
    let pages: Vec<_> = server
        .client()
        .query_custom_auth_permission()
        .instance_id("mqtt-cn-xx")
        .size(2)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let tokens: Vec<Option<String>> =
        server.requests().iter().map(|r| r.query_param("NextToken").map(str::to_owned)).collect();
    assert_eq!(tokens, vec![None, Some("t1".to_owned()), Some("t2".to_owned())]);
    assert!(server.requests().iter().all(|r| r.query_param("Size") == Some("2")));

    let server = Server::with_handler(permission_pages).await;
    let items: Vec<_> = server
        .client()
        .query_custom_auth_permission()
        .instance_id("mqtt-cn-xx")
        .size(2)
        .into_items()
        .try_collect()
        .await
        .unwrap();
    let identities: Vec<_> = items.iter().map(|p| p.identity.clone().unwrap()).collect();
    assert_eq!(identities, ["a", "b", "c", "d", "e"]);
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn next_token_paging_stops_on_a_repeated_token() {
    let server = Server::always(permission_page(Some("same"), &["x"])).await;
    let pages: Vec<_> = server
        .client()
        .query_custom_auth_permission()
        .instance_id("mqtt-cn-xx")
        .size(10)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(server.request_count(), 2);

    // An empty token ends the paging too.
    let server = Server::always(permission_page(Some(""), &["x"])).await;
    let n =
        server.client().query_custom_auth_permission().instance_id("i").size(10).into_pages().count().await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn next_token_paging_with_a_top_level_token() {
    let server = Server::with_handler(|req| {
        let (token, ids): (Option<&str>, &[&str]) = match req.query_param("NextToken") {
            None => (Some("n1"), &["r1", "r2"]),
            Some("n1") => (Some("n2"), &["r3"]),
            _ => (None, &["r4"]),
        };
        let resources: Vec<_> = ids
            .iter()
            .map(|id| json!({"ResourceType": "GROUP", "ResourceId": id, "TagKey": "k", "TagValue": "v"}))
            .collect();
        let mut body = json!({"RequestId": "R", "Code": "200", "Success": "true", "TagResources": resources});
        if let Some(t) = token {
            body["NextToken"] = json!(t);
        }
        Reply::json_value(200, &body)
    })
    .await;
    let items: Vec<_> = server
        .client()
        .list_tag_resources()
        .resource_type("GROUP")
        .tag([Tag::new().key("k").value("v")])
        .into_items()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = items.iter().map(|r| r.resource_id.clone().unwrap()).collect();
    assert_eq!(ids, ["r1", "r2", "r3", "r4"]);
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    // Every page repeats the filter.
    assert!(
        seen.iter().all(
            |r| r.query_param("Tag.1.Key") == Some("k") && r.query_param("ResourceType") == Some("GROUP")
        )
    );
}

#[tokio::test]
async fn page_number_paging_stops_at_the_total() {
    let server = Server::with_handler(|req| {
        let page: usize = req.query_param("PageNo").unwrap().parse().unwrap();
        let size: usize = req.query_param("PageSize").unwrap().parse().unwrap();
        let first = (page - 1) * size;
        let items: Vec<_> = (first..(first + size).min(25))
            .map(|i| json!({"Sn": format!("sn-{i:02}"), "CaName": "ca", "ValidBegin": "1654137303000", "Status": "1"}))
            .collect();
        Reply::json_value(
            200,
            &json!({"RequestId": "R", "Data": {"Total": 25, "PageNo": page, "PageSize": size, "CaCertificateVOS": items}}),
        )
    })
    .await;
    let items: Vec<_> = server
        .client()
        .list_ca_certificate()
        .mqtt_instance_id("mqtt-cn-xx")
        .page_no(1)
        .page_size(10)
        .into_items()
        .try_collect()
        .await
        .unwrap();
    let sns: Vec<String> = items.iter().map(|c| c.sn.clone().unwrap()).collect();
    let expected: Vec<String> = (0..25).map(|i| format!("sn-{i:02}")).collect();
    assert_eq!(sns, expected);
    assert_eq!(items[0].valid_begin, Some(1_654_137_303_000));
    let seen = server.requests();
    assert_eq!(seen.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["GET", "GET", "GET"]);
    let page_nos: Vec<_> = seen.iter().map(|r| r.query_param("PageNo").unwrap().to_owned()).collect();
    assert_eq!(page_nos, ["1", "2", "3"]);
    assert!(seen.iter().all(|r| r.query_param("PageSize") == Some("10")));
}

#[tokio::test]
async fn current_page_paging_stops_at_the_total() {
    let server = Server::with_handler(|req| {
        let page: usize = req.query_param("CurrentPage").unwrap().parse().unwrap();
        let size: usize = req.query_param("PageSize").unwrap().parse().unwrap();
        let first = (page - 1) * size;
        let events: Vec<_> = (first..(first + size).min(5))
            .map(|i| json!({"ChannelId": format!("ch-{i}"), "Time": "2021-05-21 15:51:54.867", "Action": "connect"}))
            .collect();
        Reply::json_value(
            200,
            &json!({"RequestId": "R", "CurrentPage": page, "PageSize": size, "Total": 5, "DeviceInfoList": events}),
        )
    })
    .await;
    let pages: Vec<_> = server
        .client()
        .query_mqtt_trace_device()
        .mqtt_region_id("cn-hangzhou")
        .instance_id("mqtt-cn-xx")
        .client_id("c1")
        .begin_time(1_600_000_000_000)
        .end_time(1_600_000_600_000)
        .current_page(1)
        .page_size(2)
        .reverse(true)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let channels: Vec<_> =
        pages.iter().flat_map(|p| p.device_info_list.iter().map(|e| e.channel_id.clone().unwrap())).collect();
    assert_eq!(channels, ["ch-0", "ch-1", "ch-2", "ch-3", "ch-4"]);
    let seen = server.requests();
    let current: Vec<_> = seen.iter().map(|r| r.query_param("CurrentPage").unwrap().to_owned()).collect();
    assert_eq!(current, ["1", "2", "3"]);
    assert!(
        seen.iter()
            .all(|r| r.query_param("Reverse") == Some("true") && r.query_param("PageSize") == Some("2"))
    );
}

#[tokio::test]
async fn paging_ends_with_the_first_error() {
    let server = Server::start([
        permission_page(Some("t1"), &["a"]),
        Reply::error(400, "InstancePermissionCheckFailed", "no", "R-E"),
        permission_page(None, &["never"]),
    ])
    .await;
    let results: Vec<_> =
        server.client().query_custom_auth_permission().instance_id("i").size(1).into_items().collect().await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.as_service().map(|e| e.service_error().code()), Some("InstancePermissionCheckFailed"));
    assert_eq!(server.request_count(), 2);
}

// ---- enums -------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_enum_values_are_kept() {
    let server = Server::start([Reply::json(
        200,
        r#"{"RequestId":"R","Code":200,"Success":true,"Message":"ok","Data":{"Results":[
            {"Username":"u1","IdentityType":"ROBOT","SignMode":"SIGNED"},
            {"Username":"u2","IdentityType":"USER","SignMode":"QUANTUM"}]}}"#,
    )])
    .await;
    let answer = server
        .client()
        .query_custom_auth_identity()
        .instance_id("mqtt-cn-xx")
        .identity_type("ROBOT")
        .size(10)
        .send()
        .await
        .unwrap();
    let results = &answer.data.as_ref().unwrap().results;
    assert_eq!(results[0].identity_type, Some(IdentityType::Unknown("ROBOT".to_owned())));
    assert_eq!(results[0].sign_mode, Some(SignMode::Signed));
    assert_eq!(results[1].identity_type, Some(IdentityType::User));
    assert_eq!(results[1].sign_mode, Some(SignMode::Unknown("QUANTUM".to_owned())));
    assert_eq!(IdentityType::Unknown("ROBOT".to_owned()).as_str(), "ROBOT");
    // An unknown value given to a setter is sent as it is.
    assert_eq!(server.single_request().query_param("IdentityType"), Some("ROBOT"));
}

// ---- failures inside HTTP 200 ------------------------------------------------------------------

#[tokio::test]
async fn success_false_inside_a_200_is_an_error() {
    let server = Server::start([
        Reply::json(200, r#"{"Success": false, "Code": 400, "Message": "The instance does not exist.", "RequestId": "R-F"}"#),
        Reply::json(200, r#"{"Success": false, "Code": "Customauth.over.capacity", "Message": "full", "RequestId": "R-G"}"#),
    ])
    .await;
    let client = server.client();
    let call =
        || client.add_custom_auth_connect_black().instance_id("mqtt-cn-xx").client_id("GID_a@@@1").send();
    let err = call().await.unwrap_err();
    let Error::Service(e) = &err else { panic!("{err:?}") };
    let se = e.service_error();
    assert_eq!((se.status(), se.code(), se.message()), (200, "400", "The instance does not exist."));
    assert_eq!(se.request_id(), Some("R-F"));
    assert!(matches!(e, AddCustomAuthConnectBlackError::Unhandled(_)), "{e:?}");
    assert_eq!(err.to_string(), "400: The instance does not exist. (request id R-F)");

    let err = call().await.unwrap_err();
    assert!(
        matches!(&err, Error::Service(AddCustomAuthConnectBlackError::CustomauthOverCapacity(se)) if se.status() == 200),
        "{err:?}"
    );
    // A mutating call: never repeated.
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn success_false_as_a_string_is_an_error() {
    let server = Server::start([
        Reply::json(200, r#"{"Success": "false", "Code": "MqttOwnerCheckError", "Message": "not yours", "RequestId": "R-L"}"#),
        Reply::json(200, r#"{"Success": "true", "Code": "200", "Message": "ok", "RequestId": "R-OK", "Instances": []}"#),
    ])
    .await;
    let client = server.client();
    let err = client.list_instances().send().await.unwrap_err();
    let Error::Service(ListInstancesError::MqttOwnerCheckError(se)) = &err else { panic!("{err:?}") };
    assert_eq!(
        (se.status(), se.code(), se.message(), se.request_id()),
        (200, "MqttOwnerCheckError", "not yours", Some("R-L"))
    );
    assert_eq!(server.request_count(), 1, "a final code is not retried");
    let answer = client.list_instances().send().await.unwrap();
    assert_eq!(answer.success, Some(true));
    assert!(answer.instances.is_empty());
}

// ---- retries: read-only versus mutating --------------------------------------------------------

fn failing_answers() -> Vec<(&'static str, Reply)> {
    vec![
        ("500 without a code", Reply::status(500).header("content-type", "text/plain").body("oops")),
        ("503", Reply::error(503, "ServiceUnavailable", "busy", "R-503")),
        ("connection closed after the request", Reply::close()),
    ]
}

#[tokio::test]
async fn mutating_calls_are_sent_once() {
    for (what, reply) in failing_answers() {
        let server = Server::always(reply.clone()).await;
        let client = server.client();
        let err = client
            .send_message()
            .mqtt_topic("t/1")
            .instance_id("mqtt-cn-xx")
            .payload("hello")
            .send()
            .await
            .unwrap_err();
        assert_eq!(server.request_count(), 1, "SendMessage, {what}: {err:?}");

        let server = Server::always(reply).await;
        let err = server
            .client()
            .create_group_id()
            .group_id("GID_x")
            .instance_id("mqtt-cn-xx")
            .send()
            .await
            .unwrap_err();
        assert_eq!(server.request_count(), 1, "CreateGroupId, {what}: {err:?}");
        if what.starts_with("connection") {
            let Error::Transport(t) = &err else { panic!("{err:?}") };
            assert!(!t.is_connect());
            assert_eq!(t.attempts(), 1);
        }
    }
}

#[tokio::test]
async fn read_only_calls_are_retried() {
    for (what, reply) in failing_answers() {
        let server = Server::always(reply).await;
        let err = server
            .client()
            .get_device_credential()
            .client_id("GID_a@@@1")
            .instance_id("mqtt-cn-xx")
            .send()
            .await
            .unwrap_err();
        assert_eq!(server.request_count(), 3, "GetDeviceCredential, {what}: {err:?}");
    }
    // And succeed when the service recovers.
    let server = Server::start([
        Reply::close(),
        Reply::status(502).body("bad gateway"),
        Reply::json(
            200,
            r#"{"RequestId":"R","DeviceCredential":{"ClientId":"GID_a@@@1","InstanceId":"mqtt-cn-xx"}}"#,
        ),
    ])
    .await;
    server
        .client()
        .get_device_credential()
        .client_id("GID_a@@@1")
        .instance_id("mqtt-cn-xx")
        .send()
        .await
        .unwrap();
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn mutating_call_times_out_once() {
    let server =
        Server::always(Reply::json(200, r#"{"RequestId":"R","MsgId":"m"}"#).delay(Duration::from_secs(3)))
            .await;
    let client = alibabacloud_onsmqtt::Client::new(
        server.config().read_timeout(Duration::from_millis(150)).build().unwrap(),
    );
    let err = client.send_message().mqtt_topic("t").instance_id("i").payload("p").send().await.unwrap_err();
    assert!(matches!(&err, Error::Timeout(t) if t.attempts() == 1), "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn final_codes_on_500_are_not_retried_even_for_read_only_calls() {
    let server =
        Server::always(Reply::error(500, "MqttInstanceNotFound", "The instance does not exist.", "R-500"))
            .await;
    let err = server
        .client()
        .list_ca_certificate()
        .mqtt_instance_id("mqtt-cn-xx")
        .page_no(1)
        .page_size(10)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Service(alibabacloud_onsmqtt::operations::ListCaCertificateError::MqttInstanceNotFound(se)) if se.status() == 500),
        "{err:?}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn throttling_inside_a_200_is_retried_for_read_only_calls() {
    let server = Server::start([
        Reply::json(
            200,
            r#"{"Success": false, "Code": "Throttling.User", "Message": "slow down", "RequestId": "R-T"}"#,
        ),
        Reply::json(
            200,
            r#"{"RequestId":"R","Code":200,"Success":true,"Data":{"Results":[{"Username":"u"}]}}"#,
        ),
    ])
    .await;
    let answer =
        server.client().query_custom_auth_identity().instance_id("mqtt-cn-xx").size(10).send().await.unwrap();
    assert_eq!(answer.data.unwrap().results[0].username.as_deref(), Some("u"));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_longer_retry_after_than_a_minute_is_not_waited_for() {
    let server = Server::always(
        Reply::error(429, "Throttling.User", "Request was denied due to user flow control.", "R-429")
            .header("x-acs-retry-after", "61000"),
    )
    .await;
    let started = std::time::Instant::now();
    let err = server
        .client()
        .get_device_credential()
        .client_id("GID_a@@@1")
        .instance_id("mqtt-cn-xx")
        .send()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let se = err.as_service().unwrap().service_error();
    assert_eq!(se.retry_after(), Some(Duration::from_millis(61_000)));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn page_number_paging_without_a_total_stops_at_an_empty_page() {
    let server = Server::with_handler(|req| {
        let page: usize = req.query_param("CurrentPage").unwrap().parse().unwrap();
        let events: Vec<_> =
            if page <= 2 { vec![json!({"ChannelId": format!("ch-{page}")})] } else { Vec::new() };
        Reply::json_value(200, &json!({"RequestId": "R", "CurrentPage": page, "DeviceInfoList": events}))
    })
    .await;
    let items: Vec<_> = server
        .client()
        .query_mqtt_trace_device()
        .mqtt_region_id("cn-hangzhou")
        .instance_id("mqtt-cn-xx")
        .client_id("c1")
        .begin_time(1)
        .end_time(2)
        .current_page(1)
        .page_size(1)
        .into_items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(server.request_count(), 3);
}

/// Starting at page 2 of 25 items by 10, pages 2 and 3 hold everything left: the paginator counts
/// page 1 as seen and stops at page 3, without a wasted call for an empty page 4.
#[tokio::test]
async fn starting_past_page_one_stops_at_the_total() {
    let server = Server::with_handler(|req| {
        let page: usize = req.query_param("PageNo").unwrap().parse().unwrap();
        let size: usize = req.query_param("PageSize").unwrap().parse().unwrap();
        let first = (page - 1) * size;
        let items: Vec<_> = (first..(first + size).min(25)).map(|i| json!({"Sn": format!("sn-{i:02}")})).collect();
        Reply::json_value(
            200,
            &json!({"RequestId": "R", "Data": {"Total": 25, "PageNo": page, "PageSize": size, "CaCertificateVOS": items}}),
        )
    })
    .await;
    let items: Vec<_> = server
        .client()
        .list_ca_certificate()
        .mqtt_instance_id("mqtt-cn-xx")
        .page_no(2)
        .page_size(10)
        .into_items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 15);
    let pages: Vec<_> =
        server.requests().iter().map(|r| r.query_param("PageNo").unwrap().to_owned()).collect();
    assert_eq!(pages, ["2", "3"]);
}
