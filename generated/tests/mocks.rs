//! The typed mocks (feature `test-util`) on the real generated client: rules matched on inputs,
//! answers in sequence through the client's retry policy, hit counts, paging, loud failures.
#![cfg(feature = "test-util")]

use std::time::Duration;

use alibabacloud_onsmqtt::mock::{Mocks, rule};
use alibabacloud_onsmqtt::operations::{
    DeviceCredentialClientIdPage, ListDeviceCredentialClientIdOutput, QueryTokenError, QueryTokenOutput,
    RevokeTokenError,
};
use alibabacloud_onsmqtt::{CallOptions, Client, Config, Error, RetryConfig, ServiceError, TimeoutPhase};
use futures_util::TryStreamExt;

fn token_output(valid: bool) -> QueryTokenOutput {
    let mut out = QueryTokenOutput::default();
    out.token_status = valid;
    out.request_id = "R-1".to_owned();
    out
}

#[tokio::test]
async fn rules_match_on_the_typed_input_and_count_hits() {
    let valid = rule(Client::query_token)
        .matching(|input| input.token() == Some("good"))
        .then_output(token_output(true))
        .repeat_last();
    let invalid = rule(Client::query_token).then_output(token_output(false)).repeat_last();
    let client = Client::new(Mocks::new().with(&valid).with(&invalid).config());
    for _ in 0..2 {
        let out = client.query_token().instance_id("i").token("good").send().await.unwrap();
        assert!(out.token_status);
    }
    let out = client.query_token().instance_id("i").token("other").send().await.unwrap();
    assert!(!out.token_status);
    assert_eq!((valid.hits(), invalid.hits()), (2, 1));
    assert_eq!(valid.remaining(), None);
}

#[tokio::test]
async fn answers_come_in_sequence_through_the_retry_policy() {
    let busy = || QueryTokenError::from(ServiceError::new(503, "ServiceUnavailable", "busy"));
    let flaky = rule(Client::query_token)
        .then_error(busy())
        .then_transport_error()
        .then_timeout()
        .then_output(token_output(true));
    let config = Config::builder()
        .mocks(Mocks::new().with(&flaky))
        .retry(RetryConfig {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(1),
            ..RetryConfig::default()
        })
        .build()
        .unwrap();
    let client = Client::new(config);
    let out = client.query_token().instance_id("i").token("t").send().await.unwrap();
    assert!(out.token_status);
    assert_eq!((flaky.hits(), flaky.remaining()), (4, Some(0)));

    // With retries off for one call, the caller sees each answer in turn.
    let flaky = rule(Client::query_token).then_error(busy()).then_timeout().then_output(token_output(true));
    let client = Client::new(Mocks::new().with(&flaky).config());
    let once = || {
        client
            .query_token()
            .instance_id("i")
            .token("t")
            .with_options(CallOptions::new().retry(RetryConfig::disabled()))
    };
    let err = once().send().await.unwrap_err();
    assert!(
        matches!(err, Error::Service(QueryTokenError::Unhandled(ref e)) if e.code() == "ServiceUnavailable"),
        "{err:?}"
    );
    let err = once().send().await.unwrap_err();
    assert!(matches!(err, Error::Timeout(ref t) if t.phase() == TimeoutPhase::Read), "{err:?}");
    assert!(once().send().await.unwrap().token_status);
}

#[tokio::test]
async fn mutating_calls_are_not_retried_after_a_service_error() {
    let throttled = rule(Client::revoke_token)
        .then_error(RevokeTokenError::from(ServiceError::new(429, "Throttling.User", "slow down")))
        .then_output_with(|_| unreachable!("a mutating call is not retried"));
    let client = Client::new(Mocks::new().with(&throttled).config());
    let err = client.revoke_token().instance_id("i").token("t").send().await.unwrap_err();
    assert_eq!(err.as_service().map(|e| e.service_error().code()), Some("Throttling.User"));
    assert_eq!(throttled.hits(), 1);
}

#[tokio::test]
async fn paging_streams_run_over_mocks() {
    let page = |ids: &[&str], next: Option<&str>| {
        let mut list = DeviceCredentialClientIdPage::default();
        list.client_id_list = ids.iter().map(|s| s.to_string()).collect();
        list.next_token = next.map(str::to_owned);
        let mut out = ListDeviceCredentialClientIdOutput::default();
        out.device_credential_client_id_list = Some(list);
        out
    };
    let first = rule(Client::list_device_credential_client_id)
        .matching(|input| input.next_token().is_none())
        .then_output(page(&["a", "b"], Some("t2")));
    let second = rule(Client::list_device_credential_client_id)
        .matching(|input| input.next_token() == Some("t2") && input.page_size() == Some(2))
        .then_output(page(&["c"], None));
    let client = Client::new(Mocks::new().with(&first).with(&second).config());
    let ids: Vec<String> = client
        .list_device_credential_client_id()
        .instance_id("i")
        .group_id("GID_x")
        .page_size(2)
        .into_items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!((first.hits(), second.hits()), (1, 1));
}

#[tokio::test]
async fn constraints_are_checked_before_a_mock_answers() {
    let any =
        rule(Client::batch_query_session_by_client_ids).then_output_with(|_| unreachable!()).repeat_last();
    let client = Client::new(Mocks::new().with(&any).config());
    let ids: Vec<String> = (0..11).map(|i| format!("c{i}")).collect();
    let err = client
        .batch_query_session_by_client_ids()
        .instance_id("i")
        .client_id_list(ids)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(ref e) if e.param() == "ClientIdList"), "{err:?}");
    assert_eq!(any.hits(), 0);
}

#[tokio::test]
async fn the_deadline_applies_to_mocked_calls() {
    let slow = rule(Client::query_token)
        .then_error(QueryTokenError::from(ServiceError::new(503, "Busy", "x")))
        .repeat_last();
    let config = Config::builder()
        .mocks(Mocks::new().with(&slow))
        .retry(RetryConfig {
            max_attempts: 100,
            initial_backoff: Duration::from_millis(40),
            max_backoff: Duration::from_millis(40),
        })
        .deadline(Duration::from_millis(100))
        .build()
        .unwrap();
    let client = Client::new(config);
    let err = client.query_token().instance_id("i").token("t").send().await.unwrap_err();
    // Either the deadline passed during a wait, or the next wait would have passed it.
    match &err {
        Error::Timeout(t) => assert_eq!(t.phase(), TimeoutPhase::Deadline),
        Error::Service(e) => assert_eq!(e.service_error().code(), "Busy"),
        other => panic!("{other:?}"),
    }
    assert!(slow.hits() < 100, "{}", slow.hits());
}

#[tokio::test]
#[should_panic(expected = "no mock rule answers this QueryToken call")]
async fn an_unmatched_call_fails_loudly_with_its_input() {
    let other = rule(Client::query_token)
        .matching(|input| input.token() == Some("x"))
        .then_output(token_output(true));
    let client = Client::new(Mocks::new().with(&other).config());
    let _ = client.query_token().instance_id("inst-1").token("unexpected").send().await;
}

#[test]
fn the_unmatched_message_shows_the_input_and_the_rules() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let used = rule(Client::query_token).then_output(token_output(true));
    let client = Client::new(Mocks::new().with(&used).config());
    rt.block_on(client.query_token().instance_id("i").token("t").send()).unwrap();
    let task = rt.spawn(client.query_token().instance_id("inst-1").token("unexpected").send());
    let panic = rt.block_on(task).unwrap_err().into_panic();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("instance_id: Some(\n        \"inst-1\""), "{message}");
    // The token is sensitive: the message shows the input as its `Debug` does, masked.
    assert!(!message.contains("unexpected"), "{message}");
    assert!(message.contains("answers: [\"output\"], given: 1"), "{message}");
}
