//! The default credentials chain: its order (environment, OIDC, CLI profile, credentials file,
//! ECS RAM role, credentials URI), each mode of the CLI profile and of the credentials file, the
//! message listing every source when nothing is found, configured sources that fail (reported,
//! and the chain goes on to the next source), and the chain behind a real client call. HOME is a temporary directory; STS and the
//! metadata service are local servers.

mod creds_support;

use std::sync::Arc;
use std::time::Duration;

use alibabacloud_onsmqtt::{Client, Config, DefaultCredentialsChain, Error, ProvideCredentials, RetryConfig};
use creds_support::{
    FakeServer, REFRESH_SOON, Reply, TestEnv, assert_signed_assume_role, closed_port_url, in_secs,
    metadata_json, metadata_ok, param, secs_ago, sts_ok, until_refresh_due,
};

const ROLE: &str = "acs:ram::123456789012:role/onsmqtt-operator";

fn chain_with(sts: Option<&FakeServer>, metadata: Option<&FakeServer>) -> DefaultCredentialsChain {
    let mut b = DefaultCredentialsChain::builder();
    if let Some(s) = sts {
        b = b.sts_endpoint(&s.url);
    }
    if let Some(m) = metadata {
        b = b.metadata_endpoint(&m.url);
    }
    b.build()
}

async fn key_id(chain: &DefaultCredentialsChain) -> String {
    chain.provide_credentials().await.unwrap().access_key_id().to_owned()
}

fn cli_config(current: &str, profiles: &str) -> String {
    format!(r#"{{"current": "{current}", "profiles": [{profiles}], "meta_path": ""}}"#)
}

const CLI_AK: &str = r#"{"name": "default", "mode": "AK", "access_key_id": "LTAIcli", "access_key_secret": "CliSecret", "region_id": "cn-hangzhou", "output_format": "json", "language": "en"}"#;
const INI_AK: &str = "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = IniSecret\n";

/// An ECS metadata service with role `EcsRole` and IMDSv2.
async fn ecs_server() -> FakeServer {
    FakeServer::start(|_, req| match req.path.as_str() {
        "/latest/api/token" => Reply::ok("imds-token"),
        "/latest/meta-data/ram/security-credentials/" => Reply::ok("EcsRole"),
        "/latest/meta-data/ram/security-credentials/EcsRole" => {
            Reply::ok(metadata_ok("STS.ecs", "EcsSecret", "EcsToken", 3600))
        }
        _ => Reply::new(404, "not found"),
    })
    .await
}

// ---- nothing found ----

#[tokio::test]
async fn nothing_found_lists_every_source_and_why() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    env.set("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    let chain = DefaultCredentialsChain::builder().metadata_endpoint(closed_port_url()).build();
    let err = chain.provide_credentials().await.unwrap_err();
    assert!(err.is_not_found());
    let msg = err.to_string();
    let home = env.home().display().to_string();
    let expected_parts = [
        "could not obtain credentials: no credentials found. Tried, in order: ".to_owned(),
        "environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; "
            .to_owned(),
        "OIDC: ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are not set; ".to_owned(),
        format!("CLI profile: {home}/.aliyun/config.json not found; "),
        format!("credentials file: {home}/.alibabacloud/credentials.ini not found; "),
        "ECS RAM role: the instance metadata service at 127.0.0.1 is not reachable (not running on ECS?): "
            .to_owned(),
        "; credentials URI: ALIBABA_CLOUD_CREDENTIALS_URI is not set. Set ALIBABA_CLOUD_ACCESS_KEY_ID and \
         ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure one of these sources, or give credentials with \
         ConfigBuilder::credentials"
            .to_owned(),
    ];
    let mut rest = msg.as_str();
    for part in &expected_parts {
        let at = rest.find(part.as_str()).unwrap_or_else(|| panic!("{part:?} not in order in {msg}"));
        rest = &rest[at + part.len()..];
    }
    assert_eq!(chain.source(), None);
}

#[tokio::test]
async fn a_client_without_credentials_reports_the_chain_and_sends_nothing() {
    let env = TestEnv::new().await;
    env.set("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    let service = FakeServer::always(Reply::ok(r#"{"OnlineStatus":true,"RequestId":"R"}"#)).await;
    // No credentials given: the default chain (ECS disabled by the test environment).
    let client = Client::new(Config::builder().endpoint(&service.url).build().unwrap());
    assert!(format!("{:?}", client.config().credentials_provider()).contains("DefaultCredentialsChain"));
    let err = client.query_session_by_client_id().instance_id("i").client_id("c").send().await.unwrap_err();
    let Error::Credentials(e) = &err else { panic!("{err:?}") };
    let msg = e.to_string();
    for source in [
        "environment: ",
        "OIDC: ",
        "CLI profile: disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true",
        "credentials file: ",
        "ECS RAM role: the instance metadata service is disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
        "credentials URI: ALIBABA_CLOUD_CREDENTIALS_URI is not set",
    ] {
        assert!(msg.contains(source), "{source:?} missing from {msg}");
    }
    assert_eq!(service.count(), 0);
}

// ---- order ----

#[tokio::test]
async fn environment_wins_over_every_file() {
    let env = TestEnv::new().await;
    env.write(".aliyun/config.json", &cli_config("default", CLI_AK));
    env.write(".alibabacloud/credentials.ini", INI_AK);
    env.set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
    env.set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "EnvSecret");
    env.set("ALIBABA_CLOUD_SECURITY_TOKEN", "EnvToken");
    let chain = chain_with(None, None);
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((c.access_key_id(), c.security_token()), ("LTAIenv", Some("EnvToken")));
    assert_eq!(chain.source(), Some("env"));
    // The variables are read at each call.
    env.set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv2");
    assert_eq!(key_id(&chain).await, "LTAIenv2");
    let dbg = format!("{chain:?}");
    assert!(!dbg.contains("EnvSecret") && !dbg.contains("EnvToken"), "{dbg}");
}

#[tokio::test]
async fn oidc_wins_over_the_cli_profile() {
    let env = TestEnv::new().await;
    env.write(".aliyun/config.json", &cli_config("default", CLI_AK));
    let token = env.write("oidc/token", "oidc-token-value");
    env.set("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    env.set("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::123456789012:oidc-provider/ack");
    env.set("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token.to_str().unwrap());
    env.set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "rrsa-session");
    let sts = FakeServer::always(Reply::ok(sts_ok("STS.oidc", "OidcSecret", "OidcToken", 3600))).await;
    let chain = chain_with(Some(&sts), None);
    assert_eq!(key_id(&chain).await, "STS.oidc");
    assert_eq!(chain.source(), Some("oidc_role_arn"));
    let req = &sts.requests()[0];
    assert_eq!(req.query_param("Action").as_deref(), Some("AssumeRoleWithOIDC"));
    assert_eq!(req.form_param("OIDCToken").as_deref(), Some("oidc-token-value"));
    assert_eq!(req.form_param("RoleSessionName").as_deref(), Some("rrsa-session"));
    assert_eq!(req.form_param("RoleArn").as_deref(), Some(ROLE));
}

#[tokio::test]
async fn half_configured_oidc_is_skipped() {
    let env = TestEnv::new().await;
    env.write(".aliyun/config.json", &cli_config("default", CLI_AK));
    env.set("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    let chain = chain_with(None, None);
    assert_eq!(key_id(&chain).await, "LTAIcli");
    assert_eq!(chain.source(), Some("cli_profile"));
}

#[tokio::test]
async fn cli_profile_wins_over_the_credentials_file() {
    let env = TestEnv::new().await;
    env.write(".aliyun/config.json", &cli_config("default", CLI_AK));
    env.write(".alibabacloud/credentials.ini", INI_AK);
    let chain = chain_with(None, None);
    assert_eq!(key_id(&chain).await, "LTAIcli");
    assert_eq!(chain.source(), Some("cli_profile"));

    // Disabled, the CLI profile gives way to the file.
    env.set("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    let chain = chain_with(None, None);
    assert_eq!(key_id(&chain).await, "LTAIini");
    assert_eq!(chain.source(), Some("profile"));
}

#[tokio::test]
async fn credentials_file_wins_over_ecs() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    env.write(".alibabacloud/credentials.ini", INI_AK);
    let md = ecs_server().await;
    let chain = chain_with(None, Some(&md));
    assert_eq!(key_id(&chain).await, "LTAIini");
    assert_eq!(md.count(), 0);
}

#[tokio::test]
async fn ecs_wins_over_the_credentials_uri() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let uri = FakeServer::always(Reply::ok(metadata_ok("STS.uri", "UriSecret", "UriToken", 3600))).await;
    env.set("ALIBABA_CLOUD_CREDENTIALS_URI", &uri.url);
    let md = ecs_server().await;
    let chain = chain_with(None, Some(&md));
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((c.access_key_id(), c.security_token()), ("STS.ecs", Some("EcsToken")));
    assert_eq!(chain.source(), Some("ecs_ram_role"));
    assert_eq!(uri.count(), 0);
    // IMDSv2: token first, then the role list and the role's credentials with the token.
    let reqs = md.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].method, "PUT");
    assert!(reqs[1..].iter().all(|r| r.header("x-aliyun-ecs-metadata-token") == Some("imds-token")));
}

#[tokio::test]
async fn the_credentials_uri_comes_last() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let uri = FakeServer::always(Reply::ok(metadata_ok("STS.uri", "UriSecret", "UriToken", 3600))).await;
    env.set("ALIBABA_CLOUD_CREDENTIALS_URI", &format!("{}/creds", uri.url));
    // Off ECS: the metadata service does not answer, and the chain goes on.
    let chain = DefaultCredentialsChain::builder().metadata_endpoint(closed_port_url()).build();
    assert_eq!(key_id(&chain).await, "STS.uri");
    assert_eq!(chain.source(), Some("credential_uri"));
    // On ECS without a role attached: also skipped.
    let no_role = FakeServer::start(|_, req| match req.path.as_str() {
        "/latest/api/token" => Reply::ok("tok"),
        _ => Reply::new(404, "Not Found"),
    })
    .await;
    let chain = chain_with(None, Some(&no_role));
    assert_eq!(key_id(&chain).await, "STS.uri");
    assert_eq!(no_role.count(), 2);
}

// ---- CLI profile modes ----

#[tokio::test]
async fn cli_profile_modes() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let sts = FakeServer::start(|n, _| {
        Reply::ok(sts_ok(&format!("STS.hop{n}"), &format!("HopSecret{n}"), &format!("HopToken{n}"), 3600))
    })
    .await;
    let md = ecs_server().await;
    let token = env.write("oidc/token", "cli-oidc-token");
    let profiles = [
        CLI_AK.to_owned(),
        r#"{"name": "sts", "mode": "StsToken", "access_key_id": "STS.static", "access_key_secret": "StaticSecret", "sts_token": "StaticToken"}"#.to_owned(),
        format!(
            r#"{{"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "RoleSecret",
                "ram_role_arn": "{ROLE}", "ram_session_name": "cli-session", "expired_seconds": 900}}"#
        ),
        r#"{"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "role", "ram_role_arn": "acs:ram::1:role/second"}"#.to_owned(),
        r#"{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EcsRole"}"#.to_owned(),
        format!(
            r#"{{"name": "oidc", "mode": "OIDC", "ram_role_arn": "{ROLE}", "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
                "oidc_token_file": "{}", "ram_session_name": "oidc-session"}}"#,
            token.display()
        ),
    ];
    env.write(".aliyun/config.json", &cli_config("sts", &profiles.join(",\n")));

    // The file's `current` profile.
    let chain = chain_with(Some(&sts), Some(&md));
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((c.access_key_id(), c.security_token()), ("STS.static", Some("StaticToken")));

    // ALIBABA_CLOUD_PROFILE picks another.
    env.set("ALIBABA_CLOUD_PROFILE", "default");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "LTAIcli");

    // RamRoleArn: the profile's own AccessKey signs AssumeRole.
    env.set("ALIBABA_CLOUD_PROFILE", "role");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "STS.hop1");
    let params = assert_signed_assume_role(&sts.requests()[0], "LTAIrole", "RoleSecret");
    assert_eq!(param(&params, "RoleArn"), Some(ROLE));
    assert_eq!(param(&params, "RoleSessionName"), Some("cli-session"));
    assert_eq!(param(&params, "DurationSeconds"), Some("900"));

    // ChainableRamRoleArn: the source profile's temporary credentials sign the second AssumeRole.
    env.set("ALIBABA_CLOUD_PROFILE", "chain");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "STS.hop3");
    let reqs = sts.requests();
    assert_signed_assume_role(&reqs[1], "LTAIrole", "RoleSecret");
    let params = assert_signed_assume_role(&reqs[2], "STS.hop2", "HopSecret2");
    assert_eq!(param(&params, "SecurityToken"), Some("HopToken2"));
    assert_eq!(param(&params, "RoleArn"), Some("acs:ram::1:role/second"));

    // EcsRamRole with a role name: no role listing.
    env.set("ALIBABA_CLOUD_PROFILE", "ecs");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "STS.ecs");
    let paths: Vec<String> = md.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/latest/api/token", "/latest/meta-data/ram/security-credentials/EcsRole"]);

    // OIDC.
    env.set("ALIBABA_CLOUD_PROFILE", "oidc");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "STS.hop4");
    let req = &sts.requests()[3];
    assert_eq!(req.query_param("Action").as_deref(), Some("AssumeRoleWithOIDC"));
    assert_eq!(req.form_param("OIDCToken").as_deref(), Some("cli-oidc-token"));
    assert_eq!(req.form_param("RoleSessionName").as_deref(), Some("oidc-session"));
    assert_eq!(sts.count(), 4);
}

// ---- credentials file modes ----

#[tokio::test]
async fn credentials_file_modes() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let sts = FakeServer::start(|n, _| Reply::ok(sts_ok(&format!("STS.ini{n}"), "s", "t", 3600))).await;
    let md = ecs_server().await;
    let token = env.write("oidc/token", "ini-oidc-token");
    env.write(
        ".alibabacloud/credentials.ini",
        &format!(
            "{INI_AK}\n[role]\ntype = ram_role_arn\naccess_key_id = LTAIinirole\naccess_key_secret = IniRoleSecret\n\
             role_arn = {ROLE}\nrole_session_name = ini-session\npolicy = {{\"Version\":\"1\"}}\n\n\
             [ecs]\ntype = ecs_ram_role\nrole_name = EcsRole\n\n\
             [oidc]\ntype = oidc_role_arn\nrole_arn = {ROLE}\noidc_provider_arn = acs:ram::1:oidc-provider/p\n\
             oidc_token_file_path = {}\nrole_session_name = ini-oidc\n",
            token.display()
        ),
    );
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "LTAIini");

    env.set("ALIBABA_CLOUD_PROFILE", "role");
    let chain = chain_with(Some(&sts), Some(&md));
    assert_eq!(key_id(&chain).await, "STS.ini1");
    assert_eq!(chain.source(), Some("profile"));
    let params = assert_signed_assume_role(&sts.requests()[0], "LTAIinirole", "IniRoleSecret");
    assert_eq!(param(&params, "RoleSessionName"), Some("ini-session"));
    assert_eq!(param(&params, "Policy"), Some("{\"Version\":\"1\"}"));
    assert_eq!(param(&params, "DurationSeconds"), Some("3600"));

    env.set("ALIBABA_CLOUD_PROFILE", "ecs");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "STS.ecs");

    env.set("ALIBABA_CLOUD_PROFILE", "oidc");
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "STS.ini2");
    let req = &sts.requests()[1];
    assert_eq!(req.form_param("OIDCToken").as_deref(), Some("ini-oidc-token"));
    assert_eq!(req.form_param("RoleSessionName").as_deref(), Some("ini-oidc"));

    // ALIBABA_CLOUD_CREDENTIALS_FILE names another file.
    env.remove("ALIBABA_CLOUD_PROFILE");
    let other = env.write(
        "elsewhere/creds",
        "[default]\ntype = access_key\naccess_key_id = LTAIother\naccess_key_secret = x\n",
    );
    env.set("ALIBABA_CLOUD_CREDENTIALS_FILE", other.to_str().unwrap());
    assert_eq!(key_id(&chain_with(Some(&sts), Some(&md))).await, "LTAIother");
}

// ---- configured sources that fail are reported, and the chain goes on (as the official SDKs) ----

#[tokio::test]
async fn a_broken_cli_config_is_reported_and_the_chain_goes_on() {
    let env = TestEnv::new().await;
    env.write(".aliyun/config.json", "{\"current\": \"default\", \"profiles\": [ CliSecret");
    // Nothing after it: the error names the broken file.
    let err = chain_with(None, None).provide_credentials().await.unwrap_err();
    assert!(!err.is_not_found());
    let msg = err.message();
    assert!(
        msg.contains(&format!(
            "CLI profile: failed: {}/.aliyun/config.json is not valid JSON",
            env.home().display()
        )),
        "{msg}"
    );
    assert!(
        msg.contains(
            "environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set; OIDC: "
        ),
        "{msg}"
    );
    assert!(!msg.contains("CliSecret"), "{msg}");
    // With the ini file configured, the chain takes it, as the official chain would.
    env.write(".alibabacloud/credentials.ini", INI_AK);
    let chain = chain_with(None, None);
    assert_eq!(key_id(&chain).await, "LTAIini");
    assert_eq!(chain.source(), Some("profile"));
}

#[tokio::test]
async fn a_profile_with_a_missing_key_or_an_unknown_mode_is_reported() {
    let env = TestEnv::new().await;
    env.write(
        ".aliyun/config.json",
        &cli_config(
            "default",
            r#"{"name": "default", "mode": "AK", "access_key_id": "LTAIcli", "access_key_secret": ""}"#,
        ),
    );
    let err = chain_with(None, None).provide_credentials().await.unwrap_err();
    assert!(
        err.message().contains("profile \"default\" of ")
            && err.message().contains("access_key_secret is missing or empty"),
        "{err}"
    );
    env.write(
        ".aliyun/config.json",
        &cli_config("default", r#"{"name": "default", "mode": "RsaKeyPair", "private_key": "x"}"#),
    );
    let err = chain_with(None, None).provide_credentials().await.unwrap_err();
    assert!(
        err.message().contains("mode \"RsaKeyPair\" is not supported (supported: AK, StsToken, "),
        "{err}"
    );
    // A later source that works is taken.
    env.write(".alibabacloud/credentials.ini", INI_AK);
    assert_eq!(key_id(&chain_with(None, None)).await, "LTAIini");
    // A profile name that the file does not have is "not here": the chain goes on to the ini file.
    env.set("ALIBABA_CLOUD_PROFILE", "default");
    env.write(
        ".aliyun/config.json",
        &cli_config(
            "x",
            r#"{"name": "other", "mode": "AK", "access_key_id": "a", "access_key_secret": "b"}"#,
        ),
    );
    assert_eq!(key_id(&chain_with(None, None)).await, "LTAIini");
}

#[tokio::test]
async fn an_sts_error_is_reported_without_secrets_and_the_chain_goes_on() {
    let env = TestEnv::new().await;
    env.write(
        ".aliyun/config.json",
        &cli_config(
            "role",
            &format!(r#"{{"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "RoleSecret", "ram_role_arn": "{ROLE}"}}"#),
        ),
    );
    let sts = FakeServer::always(Reply::new(
        404,
        r#"{"Code":"EntityNotExist.Role","Message":"The role not exists: RoleSecret","RequestId":"R-404"}"#,
    ))
    .await;
    // No source after it: the STS failure is in the error, masked.
    let chain = chain_with(Some(&sts), None);
    let err = chain.provide_credentials().await.unwrap_err();
    let msg = format!("{err} / {err:?}");
    assert!(msg.contains("EntityNotExist.Role: The role not exists: *** (request id R-404)"), "{msg}");
    assert!(!msg.contains("RoleSecret"), "{msg}");
    assert_eq!(chain.source(), None);
    // On ECS, the chain goes on to the instance's RAM role, as the official chain does.
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let md = ecs_server().await;
    let chain = chain_with(Some(&sts), Some(&md));
    assert_eq!(key_id(&chain).await, "STS.ecs");
    assert_eq!(chain.source(), Some("ecs_ram_role"));
    assert!(md.count() > 0);
}

// ---- concurrency and caching through the chain ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_first_calls_walk_once_and_call_sts_once() {
    let env = TestEnv::new().await;
    env.write(
        ".aliyun/config.json",
        &cli_config(
            "role",
            &format!(r#"{{"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "RoleSecret", "ram_role_arn": "{ROLE}"}}"#),
        ),
    );
    let sts =
        FakeServer::always(Reply::ok(sts_ok("STS.once", "s", "t", 3600)).delayed(Duration::from_millis(300)))
            .await;
    let chain = Arc::new(chain_with(Some(&sts), None));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let chain = chain.clone();
            tokio::spawn(
                async move { chain.provide_credentials().await.map(|c| c.access_key_id().to_owned()) },
            )
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "STS.once");
    }
    assert_eq!(sts.count(), 1);
    assert_eq!(chain.source(), Some("cli_profile"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_calls_are_signed_with_the_chain_credentials_and_refresh_once() {
    let env = TestEnv::new().await;
    env.write(
        ".aliyun/config.json",
        &cli_config(
            "role",
            &format!(r#"{{"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "RoleSecret", "ram_role_arn": "{ROLE}"}}"#),
        ),
    );
    // The first credentials are inside the refresh window: the 50 calls after it refresh once.
    let sts = FakeServer::start(|n, _| match n {
        1 => Reply::ok(sts_ok("STS.first", "FirstSecret", "FirstToken", REFRESH_SOON)),
        _ => Reply::ok(sts_ok("STS.second", "SecondSecret", "SecondToken", 3600))
            .delayed(Duration::from_millis(200)),
    })
    .await;
    let service = FakeServer::always(Reply::ok(r#"{"OnlineStatus":true,"RequestId":"R-OK"}"#)).await;
    let client = Client::new(
        Config::builder()
            .endpoint(&service.url)
            .credentials_provider(chain_with(Some(&sts), None))
            .retry(RetryConfig::disabled())
            .build()
            .unwrap(),
    );
    let out = client.query_session_by_client_id().instance_id("i").client_id("c").send().await.unwrap();
    assert!(out.online_status);
    let first = &service.requests()[0];
    assert_eq!(first.header("x-acs-accesskey-id"), Some("STS.first"));
    assert_eq!(first.header("x-acs-security-token"), Some("FirstToken"));
    assert!(first.header("authorization").unwrap().contains("Credential=STS.first,"));
    until_refresh_due().await;

    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client.query_session_by_client_id().instance_id("i").client_id("c").send().await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(sts.count(), 2);
    assert_eq!(service.count(), 51);
    let tokens: std::collections::HashSet<String> =
        service.requests().iter().map(|r| r.header("x-acs-security-token").unwrap().to_owned()).collect();
    assert!(tokens.iter().all(|t| t == "FirstToken" || t == "SecondToken"), "{tokens:?}");
    client.query_session_by_client_id().instance_id("i").client_id("c").send().await.unwrap();
    assert_eq!(service.requests().last().unwrap().header("x-acs-security-token"), Some("SecondToken"));
    assert_eq!(sts.count(), 2);
}

// ---- expired credentials: never used, the chain goes on ----

#[tokio::test]
async fn expired_credentials_are_never_used_and_the_chain_goes_on() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let md = FakeServer::start(|_, req| match req.path.as_str() {
        "/latest/api/token" => Reply::ok("tok"),
        "/latest/meta-data/ram/security-credentials/" => Reply::ok("EcsRole"),
        _ => Reply::ok(metadata_json("STS.expired", "ExpiredSecret", "ExpiredToken", &secs_ago(3600))),
    })
    .await;
    let uri = FakeServer::always(Reply::ok(metadata_ok("STS.uri", "UriSecret", "UriToken", 3600))).await;
    env.set("ALIBABA_CLOUD_CREDENTIALS_URI", &uri.url);
    // The ECS source answers expired credentials: skipped, as a failure; the URI serves.
    let chain = chain_with(None, Some(&md));
    assert_eq!(key_id(&chain).await, "STS.uri");
    assert_eq!(chain.source(), Some("credential_uri"));

    // The URI, last in the chain, answers expired credentials too: the error says so.
    let expired_uri =
        FakeServer::always(Reply::ok(metadata_json("STS.old", "s", "t", &secs_ago(3600)))).await;
    env.set("ALIBABA_CLOUD_CREDENTIALS_URI", &format!("{}/c?k=QuerySecret", expired_uri.url));
    let chain = chain_with(None, Some(&md));
    let err = chain.provide_credentials().await.unwrap_err();
    let m = err.message();
    assert!(!err.is_not_found());
    assert!(
        m.contains(
            "ECS RAM role: failed: the ECS instance metadata service answered credentials that expired at "
        ),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "credentials URI: failed: the credentials URI {}/c answered credentials that expired at ",
            expired_uri.url
        )),
        "{m}"
    );
    assert!(!m.contains("QuerySecret") && !m.contains("ExpiredSecret"), "{m}");
    assert_eq!(chain.source(), None);
}

// ---- CLI profiles: session names, durations, External, CredentialsURI ----

#[tokio::test]
async fn cli_profile_session_names_durations_and_credentials_uri() {
    let env = TestEnv::new().await;
    let sts = FakeServer::start(|n, _| Reply::ok(sts_ok(&format!("STS.n{n}"), "s", "t", 3600))).await;
    let uri = FakeServer::always(Reply::ok(metadata_ok("STS.uri", "UriSecret", "UriToken", 3600))).await;
    let token = env.write("oidc/token", "cli-oidc-token\n");
    let profiles = [
        // The official Python library's key.
        format!(
            r#"{{"name": "py", "mode": "OIDC", "ram_role_arn": "{ROLE}", "oidc_provider_arn": "acs:ram::1:oidc-provider/p",
                "oidc_token_file": "{}", "role_session_name": "python-style"}}"#,
            token.display()
        ),
        // Both keys: the CLI's own `ram_session_name` wins.
        format!(
            r#"{{"name": "both", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "RoleSecret",
                "ram_role_arn": "{ROLE}", "ram_session_name": "cli-style", "role_session_name": "python-style"}}"#
        ),
        format!(
            r#"{{"name": "zero", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "RoleSecret",
                "ram_role_arn": "{ROLE}", "expired_seconds": 0}}"#
        ),
        format!(r#"{{"name": "uri", "mode": "CredentialsURI", "credentials_uri": "{}/c"}}"#, uri.url),
    ];
    env.write(".aliyun/config.json", &cli_config("py", &profiles.join(",\n")));

    assert_eq!(key_id(&chain_with(Some(&sts), None)).await, "STS.n1");
    let req = &sts.requests()[0];
    assert_eq!(req.form_param("RoleSessionName").as_deref(), Some("python-style"));
    // The token file's trailing newline is not part of the token.
    assert_eq!(req.form_param("OIDCToken").as_deref(), Some("cli-oidc-token"));

    env.set("ALIBABA_CLOUD_PROFILE", "both");
    assert_eq!(key_id(&chain_with(Some(&sts), None)).await, "STS.n2");
    let params = assert_signed_assume_role(&sts.requests()[1], "LTAIrole", "RoleSecret");
    assert_eq!(param(&params, "RoleSessionName"), Some("cli-style"));

    // expired_seconds 0 is refused, naming the profile and the range; STS is not called.
    env.set("ALIBABA_CLOUD_PROFILE", "zero");
    let err = chain_with(Some(&sts), None).provide_credentials().await.unwrap_err();
    let m = err.message();
    assert!(
        m.contains(&format!(
            "CLI profile: failed: profile \"zero\" of {}/.aliyun/config.json: expired_seconds 0 is outside the \
             allowed range, 900 to 43200 seconds (remove it for the default of 3600)",
            env.home().display()
        )),
        "{m}"
    );
    assert_eq!(sts.count(), 2);

    // CredentialsURI, a mode the aliyun CLI writes (`aliyun configure --mode CredentialsURI`).
    env.set("ALIBABA_CLOUD_PROFILE", "uri");
    assert_eq!(key_id(&chain_with(Some(&sts), None)).await, "STS.uri");
    assert_eq!(uri.requests()[0].path, "/c");
}

#[cfg(unix)]
#[tokio::test]
async fn cli_profile_external_mode_runs_the_command_without_a_shell() {
    let env = TestEnv::new().await;
    let runs = env.home().join("runs.log");
    let cmd = env.script(
        "creds",
        &format!(
            "echo run >> '{}'\nprintf '{{\"mode\": \"StsToken\", \"access_key_id\": \"STS.%s.%s\", \
             \"access_key_secret\": \"ExtSecret\", \"sts_token\": \"ExtToken\", \"expiration\": \"%s\"}}' \
             \"$1\" \"$2\" \"$3\"",
            runs.display()
        ),
    );
    let line = format!(r#"{} 'two words' $HOME {}"#, cmd.display(), in_secs(3600));
    env.write(
        ".aliyun/config.json",
        &cli_config(
            "ext",
            &serde_json::json!({"name": "ext", "mode": "External", "process_command": line}).to_string(),
        ),
    );
    let chain = chain_with(None, None);
    let c = chain.provide_credentials().await.unwrap();
    // No shell: the quoted words stay one argument, `$HOME` is not expanded.
    assert_eq!(c.access_key_id(), "STS.two words.$HOME");
    assert_eq!((c.access_key_secret(), c.security_token()), ("ExtSecret", Some("ExtToken")));
    assert!(c.expiration().is_some());
    assert_eq!(chain.source(), Some("cli_profile"));
    // Cached until they near their expiration: the command ran once.
    chain.provide_credentials().await.unwrap();
    assert_eq!(std::fs::read_to_string(&runs).unwrap().lines().count(), 1);
    let dbg = format!("{chain:?}");
    assert!(!dbg.contains("ExtSecret") && !dbg.contains("ExtToken"), "{dbg}");
}

// ---- the credentials file: where ours is more lenient than the official library ----

#[tokio::test]
async fn credentials_file_without_ini_quotes_hashes_and_role_extras() {
    let env = TestEnv::new().await;
    let sts = FakeServer::start(|n, _| Reply::ok(sts_ok(&format!("STS.f{n}"), "s", "t", 3600))).await;
    // Only `~/.alibabacloud/credentials` exists (no `.ini`): it is read.
    env.write(
        ".alibabacloud/credentials",
        &format!(
            "[default]\ntype = access_key\naccess_key_id = LTAIplain\n\
             access_key_secret = \"Se#cret;1 # x\" # the quotes keep the hash\n\n\
             [role]\ntype = ram_role_arn\naccess_key_id = LTAIinirole\naccess_key_secret = Ini#RoleSecret\n\
             role_arn = '{ROLE}'\nexternal_id = ext-42 ; a comment\nsts_region = cn-shanghai\n"
        ),
    );
    let chain = chain_with(Some(&sts), None);
    let c = chain.provide_credentials().await.unwrap();
    assert_eq!((c.access_key_id(), c.access_key_secret()), ("LTAIplain", "Se#cret;1 # x"));
    assert_eq!(chain.source(), Some("profile"));

    // RamRoleArn with ExternalId (and sts_region, overridden here by the local STS endpoint).
    env.set("ALIBABA_CLOUD_PROFILE", "role");
    assert_eq!(key_id(&chain_with(Some(&sts), None)).await, "STS.f1");
    let params = assert_signed_assume_role(&sts.requests()[0], "LTAIinirole", "Ini#RoleSecret");
    assert_eq!(param(&params, "RoleArn"), Some(ROLE));
    assert_eq!(param(&params, "ExternalId"), Some("ext-42"));
}
