//! The local service driven by the typed client: each area's documented behaviour, its paging and
//! its errors.

use alibabacloud_onsmqtt::types::{Effect, IdentityType, PermitAction, SignMode, Tag};
use alibabacloud_onsmqtt::{Client, Error};
use futures_util::TryStreamExt;
use onsmqtt_local::{Account, Config, InstanceConfig, Running};

/// The code of a service error, or a description of any other outcome.
macro_rules! code {
    ($call:expr) => {
        match $call {
            Err(Error::Service(e)) => e.service_error().code().to_owned(),
            Err(other) => format!("not a service error: {other}"),
            Ok(out) => format!("success: {out:?}"),
        }
    };
}

async fn start() -> (Running, Client, String) {
    let local = onsmqtt_local::start(Config::demo()).await.unwrap();
    let client = local.client().unwrap();
    let instance = local.instance_ids()[0].clone();
    (local, client, instance)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn group_ids_create_list_delete_with_tags_and_errors() {
    let (local, c, inst) = start().await;
    c.create_group_id().instance_id(&inst).group_id("GID_one").send().await.unwrap();
    c.create_group_id()
        .instance_id(&inst)
        .group_id("GID_two")
        .tag([Tag::new().key("env").value("test")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        code!(c.create_group_id().instance_id(&inst).group_id("GID_one").send().await),
        "GroupIdAlreadyExsited"
    );
    assert_eq!(
        code!(c.create_group_id().instance_id(&inst).group_id("nope").send().await),
        "ParameterFieldCheckFailed"
    );
    assert_eq!(
        code!(c.create_group_id().instance_id("mqtt-missing").group_id("GID_xyz1").send().await),
        "InstanceNotFound"
    );
    let all = c.list_group_id().instance_id(&inst).send().await.unwrap();
    let ids: Vec<_> = all.data.iter().filter_map(|g| g.group_id.clone()).collect();
    assert_eq!(ids, ["GID_one", "GID_two"]);
    let tagged =
        c.list_group_id().instance_id(&inst).tag([Tag::new().key("env").value("test")]).send().await.unwrap();
    assert_eq!(tagged.data.len(), 1);
    assert_eq!(tagged.data[0].tags[0].tag_key.as_deref(), Some("env"));
    c.delete_group_id().instance_id(&inst).group_id("GID_one").send().await.unwrap();
    assert_eq!(
        code!(c.delete_group_id().instance_id(&inst).group_id("GID_one").send().await),
        "ParameterFieldCheckFailed"
    );
    assert_eq!(c.list_group_id().instance_id(&inst).send().await.unwrap().data.len(), 1);
    local.stop().await;
}

#[tokio::test]
async fn tokens_expire_and_revoke() {
    let (local, c, inst) = start().await;
    let exp = now_ms() + 3_600_000;
    let t = c
        .apply_token()
        .instance_id(&inst)
        .resources("a/+,b")
        .actions("R,W")
        .expire_time(exp)
        .send()
        .await
        .unwrap()
        .token;
    assert!(c.query_token().instance_id(&inst).token(&t).send().await.unwrap().token_status);
    assert!(!c.query_token().instance_id(&inst).token("forged").send().await.unwrap().token_status);
    c.revoke_token().instance_id(&inst).token(&t).send().await.unwrap();
    assert!(!c.query_token().instance_id(&inst).token(&t).send().await.unwrap().token_status);
    let past =
        c.apply_token().instance_id(&inst).resources("a").actions("R").expire_time(now_ms() - 1).send().await;
    assert_eq!(code!(past), "InvalidParameter.ExpireTime");
    let bad = c.apply_token().instance_id(&inst).resources("a").actions("X").expire_time(exp).send().await;
    assert_eq!(code!(bad), "InvalidParameter.Actions");
    assert_eq!(
        code!(c.revoke_token().instance_id(&inst).token("forged").send().await),
        "InvalidParameter.Token"
    );
    local.stop().await;
}

#[tokio::test]
async fn device_credentials_lifecycle_and_next_token_paging() {
    let (local, c, inst) = start().await;
    let mut secrets = Vec::new();
    for i in 0..7 {
        let out = c
            .register_device_credential()
            .instance_id(&inst)
            .client_id(format!("GID_a@@@dev{i}"))
            .send()
            .await
            .unwrap();
        secrets.push(out.device_credential.unwrap().device_access_key_secret.unwrap());
    }
    c.register_device_credential().instance_id(&inst).client_id("GID_b@@@other").send().await.unwrap();
    let dup = c.register_device_credential().instance_id(&inst).client_id("GID_a@@@dev0").send().await;
    assert_eq!(code!(dup), "DeviceCredentialExsit");
    assert_eq!(
        code!(c.register_device_credential().instance_id(&inst).client_id("no-at").send().await),
        "InvalidParameter.ClientId"
    );
    let got = c.get_device_credential().instance_id(&inst).client_id("GID_a@@@dev3").send().await.unwrap();
    assert_eq!(got.device_credential.device_access_key_secret.as_deref(), Some(secrets[3].as_str()));
    let refreshed =
        c.refresh_device_credential().instance_id(&inst).client_id("GID_a@@@dev3").send().await.unwrap();
    assert_ne!(
        refreshed.device_credential.unwrap().device_access_key_secret.as_deref(),
        Some(secrets[3].as_str())
    );
    // Pages of 3 through the client's own paginator: 7 IDs of the group, each once, in order.
    let ids: Vec<String> = c
        .list_device_credential_client_id()
        .instance_id(&inst)
        .group_id("GID_a")
        .page_size(3)
        .into_items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, (0..7).map(|i| format!("GID_a@@@dev{i}")).collect::<Vec<_>>());
    let first = c
        .list_device_credential_client_id()
        .instance_id(&inst)
        .group_id("GID_a")
        .page_size(3)
        .send()
        .await
        .unwrap();
    let page = first.device_credential_client_id_list.unwrap();
    assert_eq!((page.total, page.client_id_list.len()), (Some(7), 3));
    assert!(page.next_token.is_some());
    c.un_register_device_credential().instance_id(&inst).client_id("GID_a@@@dev3").send().await.unwrap();
    assert_eq!(
        code!(c.get_device_credential().instance_id(&inst).client_id("GID_a@@@dev3").send().await),
        "DeviceCredentialNotFound"
    );
    assert_eq!(
        code!(c.un_register_device_credential().instance_id(&inst).client_id("GID_a@@@dev3").send().await),
        "DeviceCredentialNotFound"
    );
    local.stop().await;
}

#[tokio::test]
async fn custom_authentication_identities_permissions_blacklist() {
    let (local, c, inst) = start().await;
    for i in 0..5 {
        c.add_custom_auth_identity()
            .instance_id(&inst)
            .username(format!("user{i}"))
            .secret("s3cret")
            .identity_type(IdentityType::User)
            .sign_mode(SignMode::Origin)
            .send()
            .await
            .unwrap();
    }
    let dup = c
        .add_custom_auth_identity()
        .instance_id(&inst)
        .username("user0")
        .secret("x")
        .identity_type(IdentityType::User)
        .sign_mode(SignMode::Signed)
        .send()
        .await;
    assert_eq!(code!(dup), "InvalidParameter.Username");
    let no_client = c
        .add_custom_auth_identity()
        .instance_id(&inst)
        .username("u")
        .secret("x")
        .identity_type(IdentityType::Client)
        .sign_mode(SignMode::Signed)
        .send()
        .await;
    assert_eq!(code!(no_client), "InvalidParameter.ClientId");
    let all: Vec<_> =
        c.query_custom_auth_identity().instance_id(&inst).size(2).into_items().try_collect().await.unwrap();
    assert_eq!(all.len(), 5);
    c.update_custom_auth_identity()
        .instance_id(&inst)
        .username("user1")
        .secret("new")
        .identity_type(IdentityType::User)
        .sign_mode(SignMode::Signed)
        .send()
        .await
        .unwrap();
    let one =
        c.query_custom_auth_identity().instance_id(&inst).username("user1").size(10).send().await.unwrap();
    let results = one.data.unwrap().results;
    assert_eq!((results.len(), results[0].sign_mode.clone()), (1, Some(SignMode::Signed)));
    c.delete_custom_auth_identity()
        .instance_id(&inst)
        .username("user1")
        .identity_type(IdentityType::User)
        .send()
        .await
        .unwrap();
    let gone = c
        .delete_custom_auth_identity()
        .instance_id(&inst)
        .username("user1")
        .identity_type(IdentityType::User)
        .send()
        .await;
    assert_eq!(code!(gone), "InvalidParameter.Username");
    // Size is checked by the client before sending; the server checks it too (see bad_input.rs).
    c.add_custom_auth_permission()
        .instance_id(&inst)
        .identity_type(IdentityType::User)
        .identity("user0")
        .topic("t/1")
        .permit_action(PermitAction::PubSub)
        .effect(Effect::Allow)
        .send()
        .await
        .unwrap();
    c.update_custom_auth_permission()
        .instance_id(&inst)
        .identity_type(IdentityType::User)
        .identity("user0")
        .topic("t/1")
        .permit_action(PermitAction::Sub)
        .effect(Effect::Deny)
        .send()
        .await
        .unwrap();
    let perms = c
        .query_custom_auth_permission()
        .instance_id(&inst)
        .size(10)
        .send()
        .await
        .unwrap()
        .data
        .unwrap()
        .results;
    assert_eq!(
        (perms[0].permit_action.clone(), perms[0].effect.clone()),
        (Some(PermitAction::Sub), Some(Effect::Deny))
    );
    c.delete_custom_auth_permission()
        .instance_id(&inst)
        .identity_type(IdentityType::User)
        .identity("user0")
        .topic("t/1")
        .send()
        .await
        .unwrap();
    c.add_custom_auth_connect_black().instance_id(&inst).client_id("GID_x@@@bad").send().await.unwrap();
    assert_eq!(
        code!(c.add_custom_auth_connect_black().instance_id(&inst).client_id("GID_x@@@bad").send().await),
        "InvalidParameter.ClientId"
    );
    let black = c
        .query_custom_auth_connect_black()
        .instance_id(&inst)
        .size(10)
        .send()
        .await
        .unwrap()
        .data
        .unwrap()
        .results;
    assert_eq!(black[0].client_id.as_deref(), Some("GID_x@@@bad"));
    c.delete_custom_auth_connect_black().instance_id(&inst).client_id("GID_x@@@bad").send().await.unwrap();
    // Another account's instance is refused with the documented code, inside HTTP 200.
    let other = c.query_custom_auth_identity().instance_id("mqtt-elsewhere").size(10).send().await;
    assert_eq!(code!(other), "InstancePermissionCheckFailed");
    local.stop().await;
}

/// A CA, a verification certificate signed by it whose common name is `code`, and a device
/// certificate signed by it.
fn certificates(code: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "local test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf = |cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.signed_by(&key, &ca, &ca_key).unwrap().pem()
    };
    (ca.pem(), leaf(code), leaf("device-1"))
}

#[tokio::test]
async fn certificates_register_verify_activate_page() {
    let (local, c, inst) = start().await;
    let code = c.get_register_code().mqtt_instance_id(&inst).send().await.unwrap().register_code;
    let (ca, verification, device) = certificates(&code);
    let (_, wrong_code, _) = certificates("not-the-code");
    let bad = c
        .register_ca_certificate()
        .mqtt_instance_id(&inst)
        .ca_name("ca")
        .ca_content(&ca)
        .verification_content(&wrong_code)
        .send()
        .await;
    assert_eq!(code!(bad), "CertificateContentError", "a verification certificate of another CA");
    let sn = c
        .register_ca_certificate()
        .mqtt_instance_id(&inst)
        .ca_name("ca")
        .ca_content(&ca)
        .verification_content(&verification)
        .send()
        .await
        .unwrap()
        .sn;
    let again = c
        .register_ca_certificate()
        .mqtt_instance_id(&inst)
        .ca_name("ca")
        .ca_content(&ca)
        .verification_content(&verification)
        .send()
        .await;
    assert_eq!(code!(again), "SnNotUnique");
    let garbage = c
        .register_ca_certificate()
        .mqtt_instance_id(&inst)
        .ca_name("ca")
        .ca_content("not pem")
        .verification_content("x")
        .send()
        .await;
    assert_eq!(code!(garbage), "CertificateContentError");
    let got = c.get_ca_certificate().mqtt_instance_id(&inst).sn(&sn).send().await.unwrap().data;
    assert_eq!((got.status.as_deref(), got.registration_code.as_deref()), (Some("1"), Some(code.as_str())));
    c.inactivate_ca_certificate().mqtt_instance_id(&inst).sn(&sn).send().await.unwrap();
    assert_eq!(
        c.get_ca_certificate().mqtt_instance_id(&inst).sn(&sn).send().await.unwrap().data.status.as_deref(),
        Some("0")
    );
    c.active_ca_certificate().mqtt_instance_id(&inst).sn(&sn).send().await.unwrap();
    let listed = c
        .list_ca_certificate()
        .mqtt_instance_id(&inst)
        .page_no(1)
        .page_size(10)
        .send()
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!((listed.total, listed.ca_certificate_vos.len()), (Some(1), 1));
    assert_eq!(
        code!(c.get_ca_certificate().mqtt_instance_id(&inst).sn("00").send().await),
        "FindCaBySnError"
    );
    assert_eq!(
        code!(c.get_ca_certificate().mqtt_instance_id("mqtt-none").sn(&sn).send().await),
        "MqttInstanceNotFound"
    );
    // Devices register their certificates by connecting; the library stands in for that.
    let dsn = local.service().register_device_certificate(&inst, &device).unwrap();
    let by_ca = c
        .list_device_certificate_by_ca_sn()
        .mqtt_instance_id(&inst)
        .ca_sn(&sn)
        .page_no(1)
        .page_size(10)
        .send()
        .await
        .unwrap();
    assert_eq!(by_ca.data.unwrap().device_certificate_vos[0].device_name.as_deref(), Some("device-1"));
    c.inactivate_device_certificate()
        .mqtt_instance_id(&inst)
        .ca_sn(&sn)
        .device_sn(&dsn)
        .send()
        .await
        .unwrap();
    let d = c
        .get_device_certificate()
        .mqtt_instance_id(&inst)
        .ca_sn(&sn)
        .device_sn(&dsn)
        .send()
        .await
        .unwrap()
        .data;
    assert_eq!(d.status.as_deref(), Some("0"));
    c.active_device_certificate().mqtt_instance_id(&inst).ca_sn(&sn).device_sn(&dsn).send().await.unwrap();
    let all =
        c.list_device_certificate().mqtt_instance_id(&inst).page_no(1).page_size(10).send().await.unwrap();
    assert_eq!(all.data.unwrap().total, Some(1));
    let page2 =
        c.list_device_certificate().mqtt_instance_id(&inst).page_no(2).page_size(10).send().await.unwrap();
    assert!(page2.data.unwrap().device_certificate_vos.is_empty());
    c.delete_device_certificate().mqtt_instance_id(&inst).ca_sn(&sn).device_sn(&dsn).send().await.unwrap();
    let gone = c.get_device_certificate().mqtt_instance_id(&inst).ca_sn(&sn).device_sn(&dsn).send().await;
    assert_eq!(code!(gone), "FindDeviceBySnError");
    c.delete_ca_certificate().mqtt_instance_id(&inst).sn(&sn).send().await.unwrap();
    assert_eq!(
        code!(c.delete_ca_certificate().mqtt_instance_id(&inst).sn(&sn).send().await),
        "FindCaBySnError"
    );
    local.stop().await;
}

#[tokio::test]
async fn instances_tags_sni_disaster_messages_sessions() {
    let mut config = Config::demo();
    config.instances.push(InstanceConfig {
        id: "mqtt-cn-local0002".into(),
        owner: "demo".into(),
        region: "cn-shanghai".into(),
    });
    config.accounts.push(Account {
        name: "other".into(),
        access_key_id: "LTAIother".into(),
        access_key_secret: "other-secret".into(),
        security_token: None,
    });
    config.instances.push(InstanceConfig {
        id: "mqtt-cn-other".into(),
        owner: "other".into(),
        region: "cn-hangzhou".into(),
    });
    let local = onsmqtt_local::start(config).await.unwrap();
    let c = local.client().unwrap();
    let inst = "mqtt-cn-local0001";
    let listed = c.list_instances().send().await.unwrap();
    let ids: Vec<_> = listed.instances.iter().filter_map(|i| i.instance_id.clone()).collect();
    assert_eq!(ids, ["mqtt-cn-local0001", "mqtt-cn-local0002"], "only the caller's instances");
    c.tag_resources()
        .resource_type("instance")
        .resource_id([inst])
        .tag([Tag::new().key("team").value("a")])
        .send()
        .await
        .unwrap();
    let tagged = c.list_instances().tags(r#"[{"key":"team","value":"a"}]"#).send().await.unwrap();
    assert_eq!(tagged.instances.len(), 1);
    assert_eq!(code!(c.list_instances().tags("not json").send().await), "ServiceUnable");
    let resources: Vec<_> =
        c.list_tag_resources().resource_type("instance").into_items().try_collect().await.unwrap();
    assert_eq!(resources.len(), 1);
    assert_eq!(
        code!(
            c.tag_resources()
                .resource_type("instance")
                .resource_id(["mqtt-cn-other"])
                .tag([Tag::new().key("k")])
                .send()
                .await
        ),
        "ResourceIdNotFound"
    );
    c.untag_resources().resource_type("instance").resource_id([inst]).tag_key(["team"]).send().await.unwrap();
    assert!(c.list_instances().tags(r#"[{"key":"team"}]"#).send().await.unwrap().instances.is_empty());
    let sni = c.set_sni_config().mqtt_instance_id(inst).default_certificate("cert-1").send().await.unwrap();
    assert_eq!(sni.success, Some(true));
    assert_eq!(
        code!(c.set_sni_config().mqtt_instance_id("mqtt-none").default_certificate("c").send().await),
        "MqttInstanceNotFound"
    );
    c.disaster_recovery().instance_id(inst).recovery_instance_id("mqtt-cn-local0002").send().await.unwrap();
    c.disaster_downgrade().instance_id(inst).downgrade_instance_id("mqtt-cn-local0002").send().await.unwrap();
    let bad = c.disaster_recovery().instance_id(inst).recovery_instance_id("mqtt-cn-other").send().await;
    assert_eq!(code!(bad), "InvalidParameter.RecoveryInstanceId");
    let begin = now_ms() - 1000;
    let msg =
        c.send_message().instance_id(inst).mqtt_topic("t/a").payload("hello").send().await.unwrap().msg_id;
    let trace = c
        .query_mqtt_trace_message_publish()
        .mqtt_region_id("cn-hangzhou")
        .instance_id(inst)
        .msg_id(&msg)
        .begin_time(begin)
        .end_time(now_ms() + 1000)
        .send()
        .await
        .unwrap();
    assert_eq!(trace.message_trace_lists.len(), 1);
    assert_eq!(
        code!(c.send_message().instance_id(inst).mqtt_topic("t/#").payload("x").send().await),
        "InvalidParameter.MqttTopic"
    );
    assert!(
        !c.query_session_by_client_id()
            .instance_id(inst)
            .client_id("GID_a@@@1")
            .send()
            .await
            .unwrap()
            .online_status
    );
    let batch = c
        .batch_query_session_by_client_ids()
        .instance_id(inst)
        .client_id_list(["a", "b"])
        .send()
        .await
        .unwrap();
    assert_eq!(batch.online_status_list.len(), 2);
    c.close_connection().instance_id(inst).client_id("GID_a@@@1").send().await.unwrap();
    let other = c.query_session_by_client_id().instance_id("mqtt-cn-other").client_id("x").send().await;
    assert_eq!(code!(other), "InstancePermissionCheckFailed");
    local.stop().await;
}
