//! The client against the local service (`onsmqtt-local`), where a faithful service is what the
//! test needs: signatures verified for real (V3, V1, STS), state kept across calls, pages that
//! the service cuts.

use alibabacloud_onsmqtt::types::{IdentityType, SignMode};
use alibabacloud_onsmqtt::{Client, Credentials, SignatureVersion};
use futures_util::TryStreamExt;
use onsmqtt_local::{Account, Config, DEMO_INSTANCE_ID};

#[tokio::test]
async fn every_signing_setup_is_accepted_and_pages_follow_the_service() {
    let mut config = Config::demo();
    config.accounts.push(Account {
        name: "demo".into(),
        access_key_id: "STS.e2e".into(),
        access_key_secret: "sts-secret".into(),
        security_token: Some("sts-token".into()),
    });
    let local = onsmqtt_local::start(config).await.unwrap();
    let setups = [
        (SignatureVersion::V3, local.credentials()),
        (SignatureVersion::V1, local.credentials()),
        (SignatureVersion::V3, Credentials::new("STS.e2e", "sts-secret").with_security_token("sts-token")),
        (SignatureVersion::V1, Credentials::new("STS.e2e", "sts-secret").with_security_token("sts-token")),
    ];
    for (i, (version, creds)) in setups.into_iter().enumerate() {
        let client =
            Client::new(local.config().credentials(creds).signature_version(version).build().unwrap());
        for n in 0..3 {
            client
                .add_custom_auth_identity()
                .instance_id(DEMO_INSTANCE_ID)
                .username(format!("setup{i}-user{n}"))
                .secret("s")
                .identity_type(IdentityType::User)
                .sign_mode(SignMode::Signed)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{version:?} setup {i}: {e}"));
        }
    }
    let client = local.client().unwrap();
    // 12 identities in pages of 5: the paginator follows the service's tokens to the end.
    let pages: Vec<_> = client
        .query_custom_auth_identity()
        .instance_id(DEMO_INSTANCE_ID)
        .size(5)
        .into_pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.data.iter().flat_map(|d| d.results.iter().filter_map(|r| r.username.clone())))
        .collect();
    assert_eq!(names.len(), 12);
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, names, "each identity once, in order");
    local.stop().await;
}
