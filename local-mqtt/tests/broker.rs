//! The broker with real MQTT clients: every auth mode accepted and refused, permissions,
//! blacklist, token expiry and revocation, sessions, CloseConnection, publishing, traces, and
//! bad input on the wire.

mod common;

use std::time::Duration;

use common::*;
use onsmqtt_local_mqtt::auth::sign_client_id;
use onsmqtt_local_mqtt::{
    CustomIdentity, CustomPermission, IdentityType, PermitAction, Secret, SignMode, TraceKind,
};
use rumqttc::{ConnectReturnCode, QoS, SubscribeReasonCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn granted(codes: &[SubscribeReasonCode]) -> bool {
    matches!(codes, [SubscribeReasonCode::Success(_)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_mode_accepts_the_right_signature_and_refuses_the_rest() {
    let (broker, _source) = setup().await;
    let addr = broker.local_addr();
    let id = "GID_test@@@sig-1";

    let client = connect(addr, id, Some(signature_login(id))).await;
    assert!(client.is_ok(), "right signature accepted");

    let wrong_secret = (format!("Signature|{AK_ID}|{INSTANCE}"), sign_client_id("other-secret", id));
    assert_eq!(
        connect(addr, id, Some(wrong_secret)).await.err(),
        Some(Some(ConnectReturnCode::BadUserNamePassword))
    );

    let other_client =
        (format!("Signature|{AK_ID}|{INSTANCE}"), sign_client_id(AK_SECRET, "GID_test@@@other"));
    assert_eq!(
        connect(addr, id, Some(other_client)).await.err(),
        Some(Some(ConnectReturnCode::BadUserNamePassword))
    );

    let unknown_key = ("Signature|LTAIunknown|mqtt-cn-local01".to_owned(), sign_client_id(AK_SECRET, id));
    assert_eq!(
        connect(addr, id, Some(unknown_key)).await.err(),
        Some(Some(ConnectReturnCode::BadUserNamePassword))
    );

    let other_instance = (format!("Signature|{AK_ID}|mqtt-cn-other"), sign_client_id(AK_SECRET, id));
    assert_eq!(
        connect(addr, id, Some(other_instance)).await.err(),
        Some(Some(ConnectReturnCode::BadUserNamePassword))
    );

    let short_user = (format!("Signature|{AK_ID}"), sign_client_id(AK_SECRET, id));
    assert_eq!(
        connect(addr, id, Some(short_user)).await.err(),
        Some(Some(ConnectReturnCode::BadUserNamePassword))
    );

    assert_eq!(connect(addr, id, None).await.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));

    // Client IDs: not GroupId@@@DeviceId, or a group the instance does not have.
    let bad_form = "GID_test-no-separator";
    assert_eq!(
        connect(addr, bad_form, Some(signature_login(bad_form))).await.err(),
        Some(Some(ConnectReturnCode::NotAuthorized))
    );
    let unknown_group = "GID_nope@@@dev";
    assert_eq!(
        connect(addr, unknown_group, Some(signature_login(unknown_group))).await.err(),
        Some(Some(ConnectReturnCode::NotAuthorized))
    );
    let too_long = format!("GID_test@@@{}", "d".repeat(60));
    assert_eq!(
        connect(addr, &too_long, Some(signature_login(&too_long))).await.err(),
        Some(Some(ConnectReturnCode::BadClientId))
    );

    // Refusals are traced with their code, and no secret.
    let refused: Vec<_> = broker
        .handle()
        .trace()
        .query(|e| e.client_id == id && matches!(e.kind, TraceKind::ConnectRefused { .. }));
    assert_eq!(refused.len(), 6);
    assert!(format!("{refused:?}").contains("signature does not match"));
    assert!(!format!("{refused:?}").contains(AK_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_mode_enforces_resources_actions_expiry_and_revocation() {
    let (broker, source) = setup().await;
    let addr = broker.local_addr();
    let user = format!("Token|{AK_ID}|{INSTANCE}");
    token(&source, "tok-read", "sensors/#", "R", 60_000);
    token(&source, "tok-write", "sensors/a", "W", 60_000);
    token(&source, "tok-rw", "both/+", "R,W", 60_000);
    token(&source, "tok-expired", "sensors/#", "R", -1);
    token(&source, "tok-revoked", "sensors/#", "R", 60_000);
    assert!(source.revoke_token(INSTANCE, "tok-revoked"));

    let id = "GID_test@@@tok-1";
    let mut client =
        connect(addr, id, Some((user.clone(), "R|tok-read|W|tok-write".into()))).await.expect("accepted");
    assert!(granted(&client.subscribe("sensors/#").await), "R token covers sensors/#");
    assert!(!granted(&client.subscribe("other/#").await), "outside the resources");
    assert!(!granted(&client.subscribe("#").await), "broader than the resources");
    client.client.publish("sensors/a", QoS::AtLeastOnce, false, "hello").await.expect("queued");
    assert_eq!(client.message().await, ("sensors/a".to_owned(), b"hello".to_vec()));
    // Writing outside the W token's resources closes the connection, as ApsaraMQ does.
    client.client.publish("sensors/b", QoS::AtLeastOnce, false, "nope").await.expect("queued");
    client.closed().await;

    let rw = connect(addr, "GID_test@@@tok-2", Some((user.clone(), "RW|tok-rw".into()))).await;
    assert!(rw.is_ok(), "RW type with an R,W token");

    let refused = |password: &str| {
        let user = user.clone();
        let password = password.to_owned();
        async move { connect(addr, "GID_test@@@tok-3", Some((user, password))).await.err() }
    };
    assert_eq!(refused("R|tok-expired").await, Some(Some(ConnectReturnCode::NotAuthorized)));
    assert_eq!(refused("R|tok-revoked").await, Some(Some(ConnectReturnCode::NotAuthorized)));
    assert_eq!(refused("W|tok-write|R|tok-expired").await, Some(Some(ConnectReturnCode::NotAuthorized)));
    assert_eq!(refused("R|no-such-token").await, Some(Some(ConnectReturnCode::BadUserNamePassword)));
    assert_eq!(refused("W|tok-read").await, Some(Some(ConnectReturnCode::BadUserNamePassword)));
    assert_eq!(refused("tok-read").await, Some(Some(ConnectReturnCode::BadUserNamePassword)));
    let unknown_key =
        connect(addr, "GID_test@@@tok-3", Some((format!("Token|LTAIx|{INSTANCE}"), "R|tok-read".into())));
    assert_eq!(unknown_key.await.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));

    // Revoking during a connection takes effect at the next publish.
    let mut writer =
        connect(addr, "GID_test@@@tok-4", Some((user.clone(), "W|tok-write".into()))).await.expect("ok");
    assert!(source.revoke_token(INSTANCE, "tok-write"));
    writer.client.publish("sensors/a", QoS::AtLeastOnce, false, "late").await.expect("queued");
    writer.closed().await;

    // A token that expires during a connection stops granting subscriptions.
    token(&source, "tok-short", "short/#", "R", 300);
    let mut reader = connect(addr, "GID_test@@@tok-5", Some((user, "R|tok-short".into()))).await.expect("ok");
    assert!(granted(&reader.subscribe("short/a").await));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!granted(&reader.subscribe("short/b").await), "expired token grants nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_credential_mode() {
    let (broker, source) = setup().await;
    let addr = broker.local_addr();
    let id = "GID_test@@@device-1";
    source.add_device_credential(INSTANCE, "dev-ak-1", id, "dev-secret-1");
    source.add_device_credential(INSTANCE, "dev-ak-2", "GID_test@@@device-2", "dev-secret-2");
    let user = |ak: &str| format!("DeviceCredential|{ak}|{INSTANCE}");

    let mut client =
        connect(addr, id, Some((user("dev-ak-1"), sign_client_id("dev-secret-1", id)))).await.expect("ok");
    assert!(granted(&client.subscribe("any/topic").await));

    let wrong = connect(addr, id, Some((user("dev-ak-1"), sign_client_id("dev-secret-2", id)))).await;
    assert_eq!(wrong.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));
    let unknown = connect(addr, id, Some((user("dev-ak-9"), sign_client_id("dev-secret-1", id)))).await;
    assert_eq!(unknown.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));
    // Another device's credential, correctly signed for this client ID: bound elsewhere.
    let borrowed = connect(addr, id, Some((user("dev-ak-2"), sign_client_id("dev-secret-2", id)))).await;
    assert_eq!(borrowed.err(), Some(Some(ConnectReturnCode::NotAuthorized)));

    source.remove_device_credentials_of(INSTANCE, id);
    let unregistered = connect(addr, id, Some((user("dev-ak-1"), sign_client_id("dev-secret-1", id)))).await;
    assert_eq!(unregistered.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_authentication_identities_permissions_and_blacklist() {
    let (broker, source) = setup().await;
    let addr = broker.local_addr();
    source.add_custom_identity(
        INSTANCE,
        CustomIdentity {
            identity_type: IdentityType::User,
            username: "plain-user".into(),
            client_id: None,
            secret: Secret::new("plain-pass"),
            sign_mode: SignMode::Origin,
        },
    );
    source.add_custom_identity(
        INSTANCE,
        CustomIdentity {
            identity_type: IdentityType::Client,
            username: "signed-user".into(),
            client_id: Some("GID_test@@@custom-2".into()),
            secret: Secret::new("signed-secret"),
            sign_mode: SignMode::Signed,
        },
    );
    let allow = |topic: &str, action| CustomPermission { topic: topic.into(), action, allow: true };
    let deny = |topic: &str, action| CustomPermission { topic: topic.into(), action, allow: false };
    source.set_custom_permission(INSTANCE, IdentityType::User, "plain-user", allow("c/#", PermitAction::Sub));
    source.set_custom_permission(
        INSTANCE,
        IdentityType::User,
        "plain-user",
        deny("c/secret", PermitAction::PubSub),
    );
    source.set_custom_permission(
        INSTANCE,
        IdentityType::Client,
        "GID_test@@@custom-2",
        allow("c/x", PermitAction::Pub),
    );

    // USER identity with ORIGIN sign mode: any client ID, the secret as password.
    let mut reader = connect(addr, "GID_test@@@custom-1", Some(("plain-user".into(), "plain-pass".into())))
        .await
        .expect("ok");
    assert!(granted(&reader.subscribe("c/x").await));
    assert!(!granted(&reader.subscribe("c/secret").await), "DENY wins");
    assert!(!granted(&reader.subscribe("c/#").await), "a filter reaching a denied topic is refused");
    assert!(!granted(&reader.subscribe("d/x").await), "nothing allows it");
    let wrong = connect(addr, "GID_test@@@custom-9", Some(("plain-user".into(), "nope".into()))).await;
    assert_eq!(wrong.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));

    // CLIENT identity with SIGNED sign mode: only its client ID, a signature as password.
    let id = "GID_test@@@custom-2";
    let mut writer = connect(addr, id, Some(("signed-user".into(), sign_client_id("signed-secret", id))))
        .await
        .expect("ok");
    writer.client.publish("c/x", QoS::AtLeastOnce, false, "from custom").await.expect("queued");
    assert_eq!(reader.message().await, ("c/x".to_owned(), b"from custom".to_vec()));
    writer.client.publish("c/y", QoS::AtLeastOnce, false, "not allowed").await.expect("queued");
    writer.closed().await;
    reader.nothing_for(Duration::from_millis(300)).await;
    let elsewhere = "GID_test@@@custom-3";
    let other_id =
        connect(addr, elsewhere, Some(("signed-user".into(), sign_client_id("signed-secret", elsewhere))))
            .await;
    assert_eq!(other_id.err(), Some(Some(ConnectReturnCode::BadUserNamePassword)));

    // The connect blacklist refuses a client ID whatever its credentials.
    source.add_blacklist(INSTANCE, id);
    let blocked = connect(addr, id, Some(("signed-user".into(), sign_client_id("signed-secret", id)))).await;
    assert_eq!(blocked.err(), Some(Some(ConnectReturnCode::NotAuthorized)));
    let blocked_sig = connect(addr, id, Some(signature_login(id))).await;
    assert_eq!(blocked_sig.err(), Some(Some(ConnectReturnCode::NotAuthorized)));
    source.remove_blacklist(INSTANCE, id);
    assert!(connect(addr, id, Some(signature_login(id))).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_close_connection_send_message_and_traces() {
    let (broker, _source) = setup().await;
    let addr = broker.local_addr();
    let handle = broker.handle();
    let sub_id = "GID_test@@@subscriber";
    let pub_id = "GID_test@@@publisher";

    assert!(!handle.is_online(sub_id));
    let mut subscriber = connect(addr, sub_id, Some(signature_login(sub_id))).await.expect("ok");
    assert!(handle.is_online(sub_id));
    assert!(granted(&subscriber.subscribe("news/+").await));

    // SendMessage: published through the handle, received by the real client.
    let api_msg = handle.publish("news/today", "from the API", 1).await.expect("published");
    assert_eq!(subscriber.message().await, ("news/today".to_owned(), b"from the API".to_vec()));
    assert!(handle.publish("news/#", "x", 1).await.is_err(), "no wildcards in a topic name");
    assert!(handle.publish("news/a", "x", 3).await.is_err(), "no QoS 3");

    // A client publish, received and traced with its own message ID.
    let publisher = connect(addr, pub_id, Some(signature_login(pub_id))).await.expect("ok");
    let sessions = handle.online_sessions();
    assert_eq!(sessions.iter().map(|s| s.client_id.as_str()).collect::<Vec<_>>(), vec![pub_id, sub_id]);
    publisher.client.publish("news/sport", QoS::AtLeastOnce, false, "goal").await.expect("queued");
    assert_eq!(subscriber.message().await, ("news/sport".to_owned(), b"goal".to_vec()));

    // CloseConnection.
    assert!(handle.disconnect(sub_id).await);
    subscriber.closed().await;
    assert!(!handle.is_online(sub_id));
    assert!(handle.is_online(pub_id));
    assert!(!handle.disconnect(sub_id).await, "not connected any more");
    publisher.close().await;
    for _ in 0..100 {
        if !handle.is_online(pub_id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!handle.is_online(pub_id), "a client that disconnects goes offline");

    // The trace log tells the whole story, in order, with matching message IDs.
    let trace = handle.trace().all();
    let api_publish = trace.iter().position(
        |e| matches!(&e.kind, TraceKind::Publish { msg_id, from_api: true, .. } if *msg_id == api_msg),
    );
    let api_delivery = trace.iter().position(|e| {
        e.client_id == sub_id && matches!(&e.kind, TraceKind::Deliver { msg_id, .. } if *msg_id == api_msg)
    });
    assert!(api_publish.is_some() && api_delivery.is_some() && api_publish < api_delivery, "{trace:#?}");
    let client_pub = trace
        .iter()
        .find_map(|e| match &e.kind {
            TraceKind::Publish { msg_id, from_api: false, topic }
                if e.client_id == pub_id && topic == "news/sport" =>
            {
                Some(msg_id.clone())
            }
            _ => None,
        })
        .expect("client publish traced");
    assert_ne!(client_pub, api_msg);
    assert!(trace.iter().any(|e| {
        e.client_id == sub_id && matches!(&e.kind, TraceKind::Deliver { msg_id, .. } if *msg_id == client_pub)
    }));
    let sub_events: Vec<&TraceKind> = trace
        .iter()
        .filter(|e| {
            e.client_id == sub_id && matches!(e.kind, TraceKind::Connect | TraceKind::Disconnect { .. })
        })
        .map(|e| &e.kind)
        .collect();
    assert_eq!(sub_events.len(), 2);
    assert_eq!(sub_events[0], &TraceKind::Connect);
    assert_eq!(sub_events[1], &TraceKind::Disconnect { reason: "closed by CloseConnection".into() });
    assert!(trace.iter().all(|e| e.time_ms > 0 && e.instance_id == INSTANCE));
    assert!(trace.iter().any(|e| e.client_id == pub_id && matches!(e.kind, TraceKind::Disconnect { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_with_the_same_client_id_takes_over() {
    let (broker, _source) = setup().await;
    let addr = broker.local_addr();
    let handle = broker.handle();
    let id = "GID_test@@@twin";
    let mut first = connect(addr, id, Some(signature_login(id))).await.expect("ok");
    let _second = connect(addr, id, Some(signature_login(id))).await.expect("ok");
    first.closed().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(handle.is_online(id), "the new connection stays online");
    assert_eq!(handle.online_sessions().len(), 1);
}

/// What the broker did with a connection: answered (first bytes), closed, or nothing within
/// `wait`.
#[derive(Debug, PartialEq)]
enum Outcome {
    Answered(Vec<u8>),
    Closed,
    Stalled,
}

async fn outcome(stream: &mut TcpStream, wait: Duration) -> Outcome {
    let mut buf = vec![0u8; 64];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Outcome::Closed,
        Ok(Ok(n)) => Outcome::Answered(buf[..n].to_vec()),
        Err(_) => Outcome::Stalled,
    }
}

/// A CONNECT packet (MQTT 3.1.1) with user name and password.
fn connect_packet(client_id: &str, user: &str, pass: &str) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0b1100_0010, 0, 30];
    for field in [client_id, user, pass] {
        body.extend_from_slice(&(field.len() as u16).to_be_bytes());
        body.extend_from_slice(field.as_bytes());
    }
    let mut packet = vec![0x10];
    encode_len(&mut packet, body.len());
    packet.extend(body);
    packet
}

fn encode_len(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_brings_the_broker_down() {
    let (broker, _source) = setup().await;
    let addr = broker.local_addr();
    let handle = broker.handle();

    // Garbage instead of CONNECT; a PUBLISH before CONNECT; a CONNECT with an absurd length;
    // a truncated CONNECT followed by silence; a wrong protocol level.
    let mut cases: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        vec![0x30, 0x05, 0x00, 0x01, b'a', b'h', b'i'],
        vec![0x10, 0xff, 0xff, 0xff, 0x7f],
        vec![0x10, 0xff, 0xff, 0xff, 0xff, 0x01],
        vec![0xf0, 0x00],
    ];
    let mut wrong_level = connect_packet("GID_test@@@raw", "u", "p");
    wrong_level[8] = 9;
    cases.push(wrong_level);
    let mut stalled = Vec::new();
    for (i, bytes) in cases.into_iter().enumerate() {
        let mut stream = TcpStream::connect(addr).await.expect("tcp");
        stream.write_all(&bytes).await.expect("write");
        match outcome(&mut stream, Duration::from_secs(7)).await {
            Outcome::Answered(reply) => {
                assert!(
                    !(reply.len() >= 4 && reply[0] == 0x20 && reply[3] == 0),
                    "accepted {bytes:?}: {reply:?}"
                );
            }
            Outcome::Closed => {}
            Outcome::Stalled => {
                eprintln!("case {i} stalled: {bytes:?}");
                stalled.push(stream);
            }
        }
    }
    // rmqtt 0.18 reads the protocol version (the start of CONNECT) without a timeout: a
    // connection that stops in the middle of it stays open until the peer closes it. Only the
    // two truncated CONNECT headers do that; they must not hinder anyone else.
    assert!(stalled.len() <= 1, "{} connections stalled", stalled.len());

    // An authenticated client sending a payload above the packet limit is disconnected.
    let id = "GID_test@@@big";
    let big = connect(addr, id, Some(signature_login(id))).await.expect("ok");
    let mut big = big;
    big.client.publish("big/x", QoS::AtMostOnce, false, vec![7u8; 200 * 1024]).await.expect("queued");
    big.closed().await;

    // A bounded flood: 200 idle sockets and 200 refused CONNECTs at once.
    let mut idle = Vec::new();
    for _ in 0..200 {
        if let Ok(s) = TcpStream::connect(addr).await {
            idle.push(s);
        }
    }
    let mut refused = Vec::new();
    for i in 0..200 {
        refused.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.ok()?;
            let packet = connect_packet(
                &format!("GID_test@@@flood{i}"),
                &format!("Signature|{AK_ID}|{INSTANCE}"),
                "bad",
            );
            stream.write_all(&packet).await.ok()?;
            Some(outcome(&mut stream, WAIT).await)
        }));
    }
    let mut bad_password_answers = 0;
    for task in refused {
        if let Ok(Some(Outcome::Answered(reply))) = task.await {
            assert_eq!(reply.get(..4), Some(&[0x20, 0x02, 0x00, 0x04][..]), "refused with code 4");
            bad_password_answers += 1;
        }
    }
    assert!(bad_password_answers >= 150, "most refused CONNECTs were answered ({bad_password_answers})");

    // Still up: a good client connects and gets a message.
    let id = "GID_test@@@after";
    let mut after = connect(addr, id, Some(signature_login(id))).await.expect("broker still accepts");
    assert!(granted(&after.subscribe("after/x").await));
    handle.publish("after/x", "still here", 0).await.expect("published");
    assert_eq!(after.message().await.1, b"still here".to_vec());
    drop((idle, stalled));
}
