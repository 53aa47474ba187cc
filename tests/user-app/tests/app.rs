//! The application code of this crate against the client's typed mocks: six operations, a
//! retry sequence, a paged listing, per-call options, and what a user's test asserts on.

use alibabacloud_onsmqtt::mock::{Mocks, rule};
use alibabacloud_onsmqtt::operations::{
    ApplyTokenError, ApplyTokenOutput, BatchQuerySessionByClientIdsOutput, ClientOnlineStatus,
    ListDeviceCertificateOutput, QueryTokenError, QueryTokenOutput, RefreshDeviceCredentialOutput,
    RevokeTokenOutput,
};
use alibabacloud_onsmqtt::types::{DeviceCertificate, DeviceCertificatePage, DeviceCredential};
use alibabacloud_onsmqtt::{Client, ServiceError};
use onsmqtt_user_app::{Fleet, FleetError, TOKEN_ATTEMPTS};

const INSTANCE: &str = "mqtt-cn-test";

fn online(ids: &[&str]) -> BatchQuerySessionByClientIdsOutput {
    let mut out = BatchQuerySessionByClientIdsOutput::default();
    out.online_status_list = ids
        .iter()
        .map(|id| {
            let mut s = ClientOnlineStatus::default();
            s.client_id = Some((*id).to_owned());
            s.online_status = Some(true);
            s
        })
        .collect();
    out
}

#[tokio::test]
async fn offline_devices_are_found_in_batches_of_ten() {
    let ids: Vec<String> = (1..=12).map(|i| format!("GID_a@@@dev{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let first = rule(Client::batch_query_session_by_client_ids)
        .matching(|input| input.instance_id() == Some(INSTANCE) && input.client_id_list().len() == 10)
        .then_output(online(&[
            "GID_a@@@dev1",
            "GID_a@@@dev2",
            "GID_a@@@dev4",
            "GID_a@@@dev5",
            "GID_a@@@dev6",
            "GID_a@@@dev7",
            "GID_a@@@dev8",
            "GID_a@@@dev9",
            "GID_a@@@dev10",
        ]));
    let second = rule(Client::batch_query_session_by_client_ids)
        .matching(|input| input.client_id_list() == ["GID_a@@@dev11", "GID_a@@@dev12"])
        .then_output(online(&["GID_a@@@dev12"]));
    let fleet = Fleet::new(Client::new(Mocks::new().with(&first).with(&second).config()), INSTANCE);
    let offline = fleet.offline(&refs).await.unwrap();
    assert_eq!(offline, ["GID_a@@@dev3", "GID_a@@@dev11"]);
    assert_eq!((first.hits(), second.hits()), (1, 1));
}

#[tokio::test]
async fn a_refused_parameter_is_reported_by_name() {
    let refused = rule(Client::batch_query_session_by_client_ids)
        .then_error(ServiceError::new(400, "InvalidParameter.ClientIdList", "bad client id").into());
    let fleet = Fleet::new(Client::new(Mocks::new().with(&refused).config()), INSTANCE);
    let err = fleet.offline(&["x"]).await.unwrap_err();
    assert_eq!(err, FleetError::Api("the service refused ClientIdList".to_owned()));
}

fn overflow() -> ApplyTokenError {
    ApplyTokenError::from(ServiceError::new(400, "ApplyTokenOverFlow", "too many tokens"))
}

fn token(value: &str) -> ApplyTokenOutput {
    let mut out = ApplyTokenOutput::default();
    out.token = value.to_owned();
    out
}

#[tokio::test]
async fn token_issue_is_asked_again_while_the_service_is_overwhelmed() {
    let apply = rule(Client::apply_token)
        .matching(|input| input.actions() == Some("R") && input.resources() == Some("sensors/+"))
        .then_error(overflow())
        .then_error(overflow())
        .then_output(token("tok-123"));
    let fleet = Fleet::new(Client::new(Mocks::new().with(&apply).config()), INSTANCE);
    let token = fleet.issue_read_token("sensors/+", 1_900_000_000_000).await.unwrap();
    assert_eq!(token, "tok-123");
    // The client does not retry ApplyToken (it changes state): every attempt is the app's own.
    assert_eq!(apply.hits(), 3);
}

#[tokio::test]
async fn token_issue_gives_up_after_its_attempts() {
    let apply = rule(Client::apply_token).then_error(overflow()).repeat_last();
    let fleet = Fleet::new(Client::new(Mocks::new().with(&apply).config()), INSTANCE);
    let err = fleet.issue_read_token("sensors/+", 1).await.unwrap_err();
    assert_eq!(err, FleetError::Busy { attempts: TOKEN_ATTEMPTS });
    assert_eq!(apply.hits(), TOKEN_ATTEMPTS as usize);
}

#[tokio::test]
async fn another_error_is_not_asked_again() {
    let apply = rule(Client::apply_token)
        .then_error(ServiceError::new(400, "Some.NewCode", "new").into())
        .then_output(token("never"));
    let fleet = Fleet::new(Client::new(Mocks::new().with(&apply).config()), INSTANCE);
    let err = fleet.issue_read_token("t", 1).await.unwrap_err();
    assert_eq!(err, FleetError::Api("Some.NewCode: new".to_owned()));
    assert_eq!(apply.hits(), 1);
}

fn status(valid: bool) -> QueryTokenOutput {
    let mut out = QueryTokenOutput::default();
    out.token_status = valid;
    out
}

#[tokio::test]
async fn only_a_valid_token_is_revoked() {
    let query =
        rule(Client::query_token).matching(|input| input.token() == Some("live")).then_output(status(true));
    let expired =
        rule(Client::query_token).matching(|input| input.token() == Some("old")).then_output(status(false));
    let revoke = rule(Client::revoke_token)
        .matching(|input| input.token() == Some("live"))
        .then_output(RevokeTokenOutput::default());
    let mocks = Mocks::new().with(&query).with(&expired).with(&revoke);
    let fleet = Fleet::new(Client::new(mocks.config()), INSTANCE);
    assert!(fleet.revoke_if_valid("live").await.unwrap());
    assert!(!fleet.revoke_if_valid("old").await.unwrap());
    assert_eq!((query.hits(), expired.hits(), revoke.hits()), (1, 1, 1));
}

#[tokio::test]
async fn the_status_check_is_made_once_whatever_the_client_retry_policy() {
    // The service would be retried by the client (503 on a read-only call), but this call turns
    // retries off with its own options.
    let busy = rule(Client::query_token)
        .then_error(QueryTokenError::from(ServiceError::new(503, "ServiceUnavailable", "busy")))
        .then_output(status(true));
    let fleet = Fleet::new(Client::new(Mocks::new().with(&busy).config()), INSTANCE);
    let err = fleet.revoke_if_valid("live").await.unwrap_err();
    assert_eq!(err, FleetError::Api("ServiceUnavailable: busy".to_owned()));
    assert_eq!(busy.hits(), 1);
}

#[tokio::test]
async fn rotating_a_credential_returns_the_new_secret() {
    let refresh = rule(Client::refresh_device_credential)
        .matching(|input| input.client_id() == Some("GID_a@@@dev1"))
        .then_output_with(|input| {
            let mut credential = DeviceCredential::default();
            credential.client_id = input.client_id().map(str::to_owned);
            credential.device_access_key_secret = Some("new-secret".to_owned());
            let mut out = RefreshDeviceCredentialOutput::default();
            out.device_credential = Some(credential);
            out
        });
    let empty = rule(Client::refresh_device_credential).then_output(RefreshDeviceCredentialOutput::default());
    let fleet = Fleet::new(Client::new(Mocks::new().with(&refresh).with(&empty).config()), INSTANCE);
    assert_eq!(fleet.rotate_credential("GID_a@@@dev1").await.unwrap(), "new-secret");
    assert_eq!(
        fleet.rotate_credential("GID_a@@@dev2").await.unwrap_err(),
        FleetError::Incomplete("device credential")
    );
}

fn certificates(page: i32, serials: &[&str], total: i32) -> ListDeviceCertificateOutput {
    let mut data = DeviceCertificatePage::default();
    data.page_no = Some(page);
    data.total = Some(total);
    data.device_certificate_vos = serials
        .iter()
        .map(|sn| {
            let mut c = DeviceCertificate::default();
            c.device_sn = Some((*sn).to_owned());
            c
        })
        .collect();
    let mut out = ListDeviceCertificateOutput::default();
    out.data = Some(data);
    out
}

#[tokio::test]
async fn every_certificate_is_listed_page_by_page() {
    let pages = rule(Client::list_device_certificate)
        .matching(|input| input.mqtt_instance_id() == Some(INSTANCE) && input.page_size() == Some(2))
        .then_output_with(|input| match input.page_no() {
            Some(1) => certificates(1, &["sn-1", "sn-2"], 5),
            Some(2) => certificates(2, &["sn-3", "sn-4"], 5),
            Some(3) => certificates(3, &["sn-5"], 5),
            other => panic!("page {other:?} was not expected"),
        })
        .repeat_last();
    let fleet = Fleet::new(Client::new(Mocks::new().with(&pages).config()), INSTANCE);
    let serials = fleet.certificate_serials(2).await.unwrap();
    assert_eq!(serials, ["sn-1", "sn-2", "sn-3", "sn-4", "sn-5"]);
    assert_eq!(pages.hits(), 3);
}

#[tokio::test]
async fn a_page_that_fails_after_retries_ends_the_listing() {
    let pages = rule(Client::list_device_certificate)
        .then_output(certificates(1, &["sn-1", "sn-2"], 4))
        .then_transport_error()
        .repeat_last();
    let fleet = Fleet::new(Client::new(Mocks::new().with(&pages).config()), INSTANCE);
    let err = fleet.certificate_serials(2).await.unwrap_err();
    let FleetError::Api(message) = err else { panic!("{err:?}") };
    assert!(message.starts_with("could not connect to http://mock.invalid after 3 attempts"), "{message}");
    // One page, then the second page's three attempts (the client's default policy).
    assert_eq!(pages.hits(), 4);
}
