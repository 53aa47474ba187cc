//! Each credentials provider against local stand-ins for STS, the ECS metadata service and a
//! credentials URI: the requests they send (the AssumeRole V1 signature recomputed here, the
//! OIDC parameters, the IMDSv2 token flow), caching, refresh ahead of expiry, single-flight
//! refresh under concurrency, and failed refreshes.

mod creds_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use alibabacloud_onsmqtt::{
    CliProfileProvider, Credentials, CredentialsUriProvider, EcsRamRoleProvider, OidcRoleArnProvider,
    ProfileProvider, ProvideCredentials, RamRoleArnProvider,
};
use creds_support::{
    FakeServer, REFRESH_SOON, Reply, TestEnv, UNUSABLE_SOON, assert_signed_assume_role, closed_port_url,
    metadata_json, metadata_ok, param, secs_ago, sts_json, sts_ok, until_refresh_due,
};

const ROLE: &str = "acs:ram::123456789012:role/onsmqtt-operator";

fn role_provider(sts: &FakeServer) -> RamRoleArnProvider {
    RamRoleArnProvider::builder()
        .source_credentials(Credentials::new("LTAIsource", "SourceSecret"))
        .role_arn(ROLE)
        .role_session_name("test-session")
        .sts_endpoint(&sts.url)
        .build()
        .unwrap()
}

// ---- RAM role (AssumeRole) ----

#[tokio::test]
async fn assume_role_is_signed_with_v1_and_cached() {
    let _env = TestEnv::new().await;
    let sts = FakeServer::always(Reply::ok(sts_ok("STS.first", "StsSecret1", "StsToken1", 3600))).await;
    let p = RamRoleArnProvider::builder()
        .source_credentials(Credentials::new("LTAIsource", "SourceSecret"))
        .role_arn(ROLE)
        .role_session_name("test-session")
        .duration_seconds(1800)
        .policy(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"*"}]}"#)
        .external_id("ext-42")
        .sts_endpoint(&sts.url)
        .build()
        .unwrap();
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "STS.first");
    assert_eq!(c.access_key_secret(), "StsSecret1");
    assert_eq!(c.security_token(), Some("StsToken1"));
    let left = c.expiration().unwrap().duration_since(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600), "{left:?}");

    let reqs = sts.requests();
    assert_eq!(reqs.len(), 1);
    let params = assert_signed_assume_role(&reqs[0], "LTAIsource", "SourceSecret");
    assert_eq!(param(&params, "RoleArn"), Some(ROLE));
    assert_eq!(param(&params, "RoleSessionName"), Some("test-session"));
    assert_eq!(param(&params, "DurationSeconds"), Some("1800"));
    assert_eq!(param(&params, "ExternalId"), Some("ext-42"));
    assert!(param(&params, "Policy").unwrap().contains("mq:*"));
    assert_eq!(param(&params, "SecurityToken"), None);
    assert_eq!(reqs[0].header("x-acs-action"), Some("AssumeRole"));

    // Cached: no second request while the credentials are fresh.
    for _ in 0..5 {
        assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.first");
    }
    assert_eq!(sts.count(), 1);
    let dbg = format!("{p:?}");
    assert!(
        !dbg.contains("SourceSecret") && !dbg.contains("StsSecret1") && !dbg.contains("StsToken1"),
        "{dbg}"
    );
}

#[tokio::test]
async fn role_chaining_signs_with_the_temporary_source_and_its_token() {
    let _env = TestEnv::new().await;
    let sts = FakeServer::start(|n, _| match n {
        1 => Reply::ok(sts_ok("STS.hop1", "Hop1Secret", "Hop1Token", 3600)),
        _ => Reply::ok(sts_ok("STS.hop2", "Hop2Secret", "Hop2Token", 3600)),
    })
    .await;
    let first = role_provider(&sts);
    let second = RamRoleArnProvider::builder()
        .source_provider(first)
        .role_arn("acs:ram::123456789012:role/second")
        .sts_endpoint(&sts.url)
        .build()
        .unwrap();
    let c = second.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "STS.hop2");
    let reqs = sts.requests();
    assert_eq!(reqs.len(), 2);
    assert_signed_assume_role(&reqs[0], "LTAIsource", "SourceSecret");
    let params = assert_signed_assume_role(&reqs[1], "STS.hop1", "Hop1Secret");
    assert_eq!(param(&params, "SecurityToken"), Some("Hop1Token"));
    assert_eq!(param(&params, "RoleArn"), Some("acs:ram::123456789012:role/second"));
    assert!(param(&params, "RoleSessionName").unwrap().starts_with("credentials-rust-"));
    assert_eq!(param(&params, "DurationSeconds"), Some("3600"));
}

#[tokio::test]
async fn role_session_name_and_sts_region_from_the_environment() {
    let env = TestEnv::new().await;
    env.set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "env-session");
    env.set("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    let sts = FakeServer::always(Reply::ok(sts_ok("STS.a", "s", "t", 3600))).await;
    let p = RamRoleArnProvider::builder()
        .source_credentials(Credentials::new("LTAIsource", "SourceSecret"))
        .sts_endpoint(&sts.url)
        .build()
        .unwrap();
    assert_eq!(p.role_arn(), ROLE);
    p.provide_credentials().await.unwrap();
    let params = assert_signed_assume_role(&sts.requests()[0], "LTAIsource", "SourceSecret");
    assert_eq!(param(&params, "RoleSessionName"), Some("env-session"));

    env.set("ALIBABA_CLOUD_STS_REGION", "cn-shanghai");
    env.set("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true");
    let p = RamRoleArnProvider::builder()
        .source_credentials(Credentials::new("LTAIsource", "SourceSecret"))
        .build()
        .unwrap();
    assert!(format!("{p:?}").contains("https://sts-vpc.cn-shanghai.aliyuncs.com/"), "{p:?}");
}

#[tokio::test]
async fn sts_errors_are_reported_without_secrets() {
    let _env = TestEnv::new().await;
    let sts = FakeServer::always(Reply::new(
        403,
        r#"{"RequestId":"R-403","HostId":"sts.aliyuncs.com","Code":"NoPermission","Message":"You are not authorized; key SourceSecret","Recommend":"https://x"}"#,
    ))
    .await;
    let err = role_provider(&sts).provide_credentials().await.unwrap_err();
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!(
            "could not obtain credentials: assuming role {ROLE}: STS AssumeRole failed with HTTP 403: NoPermission: \
             You are not authorized; key *** (request id R-403)"
        )
    );
    assert!(!format!("{err:?}").contains("SourceSecret"));

    // An unreachable STS: the error names the endpoint, not the signed query.
    let p = RamRoleArnProvider::builder()
        .source_credentials(Credentials::new("LTAIsource", "SourceSecret").with_security_token("SourceToken"))
        .role_arn(ROLE)
        .sts_endpoint(closed_port_url())
        .build()
        .unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    let mut chain = String::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cur {
        chain.push_str(&format!("{e} | {e:?} | "));
        cur = e.source();
    }
    assert!(chain.contains("STS AssumeRole: request to http://127.0.0.1:"), "{chain}");
    for secret in ["SourceSecret", "SourceToken", "Signature"] {
        assert!(!chain.contains(secret), "{secret} in {chain}");
    }
}

// ---- refresh and caching ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_make_one_sts_request() {
    let _env = TestEnv::new().await;
    let sts = FakeServer::always(
        Reply::ok(sts_ok("STS.shared", "s", "t", 3600)).delayed(Duration::from_millis(300)),
    )
    .await;
    let p = Arc::new(role_provider(&sts));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { p.provide_credentials().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().access_key_id(), "STS.shared");
    }
    assert_eq!(sts.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_ahead_of_expiry_is_single_flight_and_does_not_block() {
    let _env = TestEnv::new().await;
    // The first credentials are due for a refresh (10 minutes ahead) after a short wait.
    let sts = FakeServer::start(|n, _| match n {
        1 => Reply::ok(sts_ok("STS.old", "s1", "t1", REFRESH_SOON)),
        _ => Reply::ok(sts_ok("STS.new", "s2", "t2", 3600)).delayed(Duration::from_millis(300)),
    })
    .await;
    let p = Arc::new(role_provider(&sts));
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.old");
    until_refresh_due().await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { p.provide_credentials().await.map(|c| c.access_key_id().to_owned()) })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap());
    }
    // One refresh for all 50; the callers that did not refresh kept using the valid old ones.
    assert_eq!(sts.count(), 2);
    assert!(ids.iter().all(|id| id == "STS.old" || id == "STS.new"), "{ids:?}");
    assert!(ids.iter().any(|id| id == "STS.new"));
    assert!(ids.iter().filter(|id| *id == "STS.old").count() > 0, "the others did not wait: {ids:?}");
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.new");
    assert_eq!(sts.count(), 2);
}

#[tokio::test]
async fn failed_refresh_serves_the_still_valid_credentials() {
    let _env = TestEnv::new().await;
    let sts = FakeServer::start(|n, _| match n {
        1 => Reply::ok(sts_ok("STS.old", "s1", "t1", REFRESH_SOON)),
        _ => Reply::new(500, r#"{"Code":"InternalError","Message":"STS is down","RequestId":"R-500"}"#),
    })
    .await;
    let p = role_provider(&sts);
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.old");
    until_refresh_due().await;
    // The refresh fails, the call does not: the credentials have minutes left.
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.old");
    assert_eq!(sts.count(), 2);
    // The next attempt waits a little: no request storm while STS is down.
    for _ in 0..5 {
        assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.old");
    }
    assert_eq!(sts.count(), 2);
}

#[tokio::test]
async fn credentials_about_to_expire_are_not_used_when_their_refresh_fails() {
    let _env = TestEnv::new().await;
    let sts = FakeServer::start(|n, _| match n {
        1 => Reply::ok(sts_ok("STS.old", "s1", "t1", UNUSABLE_SOON)),
        _ => Reply::new(500, r#"{"Code":"InternalError","Message":"STS is down","RequestId":"R-500"}"#),
    })
    .await;
    let p = role_provider(&sts);
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.old");
    // Less than 3 minutes left: the failed refresh is an error, at every call (each one tries).
    until_refresh_due().await;
    for n in 2..4 {
        let err = p.provide_credentials().await.unwrap_err();
        assert!(err.message().contains("InternalError: STS is down (request id R-500)"), "{err}");
        assert_eq!(sts.count(), n);
    }
}

#[tokio::test]
async fn sts_credentials_that_arrive_expired_are_refused() {
    let _env = TestEnv::new().await;
    let expired = sts_json("STS.old", "s1", "t1", &secs_ago(3600));
    let sts = FakeServer::always(Reply::ok(expired)).await;
    let p = role_provider(&sts);
    for n in 1..3 {
        let err = p.provide_credentials().await.unwrap_err();
        let m = err.message();
        assert!(
            m.starts_with(&format!("STS AssumeRole (role {ROLE}) answered credentials that expired at ")),
            "{m}"
        );
        assert!(m.contains(" s ago (is the clock of this machine right?); they are not used"), "{m}");
        // Never cached: each call asks again.
        assert_eq!(sts.count(), n);
    }
    // Expiring within the 3-minute margin: refused too.
    let sts = FakeServer::always(Reply::ok(sts_ok("STS.short", "s1", "t1", 60))).await;
    let err = role_provider(&sts).provide_credentials().await.unwrap_err();
    assert!(err.message().contains("too soon to sign with (at least 180 s are needed)"), "{err}");
}

// ---- OIDC (AssumeRoleWithOIDC) ----

#[tokio::test]
async fn oidc_request_parameters_and_token_reread_on_refresh() {
    let env = TestEnv::new().await;
    let token_file = env.write("tokens/oidc-token", "eyJhbGciOiJSUzI1NiJ9.first-token.sig\n");
    let sts = FakeServer::start(|n, _| match n {
        1 => Reply::ok(sts_ok("STS.oidc1", "OidcSecret1", "OidcToken1", REFRESH_SOON)),
        _ => Reply::ok(sts_ok("STS.oidc2", "OidcSecret2", "OidcToken2", 3600)),
    })
    .await;
    let p = OidcRoleArnProvider::builder()
        .role_arn(ROLE)
        .oidc_provider_arn("acs:ram::123456789012:oidc-provider/ack-rrsa")
        .oidc_token_file(&token_file)
        .role_session_name("pod-session")
        .sts_endpoint(&sts.url)
        .build()
        .unwrap();
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.oidc1");
    let req = &sts.requests()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.query_param("Action").as_deref(), Some("AssumeRoleWithOIDC"));
    assert_eq!(req.query_param("Format").as_deref(), Some("JSON"));
    assert_eq!(req.query_param("Version").as_deref(), Some("2015-04-01"));
    let ts = req.query_param("Timestamp").unwrap();
    assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");
    assert_eq!(req.form_param("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(
        req.form_param("OIDCProviderArn").as_deref(),
        Some("acs:ram::123456789012:oidc-provider/ack-rrsa")
    );
    assert_eq!(req.form_param("OIDCToken").as_deref(), Some("eyJhbGciOiJSUzI1NiJ9.first-token.sig"));
    assert_eq!(req.form_param("RoleSessionName").as_deref(), Some("pod-session"));
    assert_eq!(req.form_param("DurationSeconds").as_deref(), Some("3600"));
    // Anonymous: no key, no signature; the token only in the body.
    for absent in ["AccessKeyId", "Signature", "SignatureMethod", "SecurityToken", "OIDCToken"] {
        assert_eq!(req.query_param(absent), None, "{absent}");
    }
    assert!(!req.raw_query.contains("first-token"));

    // The token rotates; the refresh (the first credentials are due for one) reads it again.
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.second-token.sig").unwrap();
    until_refresh_due().await;
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.oidc2");
    assert_eq!(
        sts.requests()[1].form_param("OIDCToken").as_deref(),
        Some("eyJhbGciOiJSUzI1NiJ9.second-token.sig")
    );
    assert_eq!(sts.count(), 2);
    assert!(!format!("{p:?}").contains("second-token"));
}

#[tokio::test]
async fn oidc_errors_never_show_the_token() {
    let env = TestEnv::new().await;
    let token_file = env.write("tokens/t", "SecretOidcTokenValue");
    let sts = FakeServer::always(Reply::new(
        400,
        r#"{"Code":"AuthenticationFail.OIDCToken.Invalid","Message":"bad token SecretOidcTokenValue","RequestId":"R-400"}"#,
    ))
    .await;
    env.set("ALIBABA_CLOUD_ROLE_ARN", ROLE);
    env.set("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/p");
    env.set("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token_file.to_str().unwrap());
    let p = OidcRoleArnProvider::builder().sts_endpoint(&sts.url).build().unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("AuthenticationFail.OIDCToken.Invalid: bad token ***"), "{shown}");
    assert!(!shown.contains("SecretOidcTokenValue"), "{shown}");
}

// ---- ECS instance metadata ----

/// A metadata service: `token` answers the IMDSv2 PUT (None: 403), `role` the role list.
async fn metadata_server(token: Option<&'static str>, role: Option<&'static str>) -> FakeServer {
    FakeServer::start(move |_, req| match (req.method.as_str(), req.path.as_str()) {
        ("PUT", "/latest/api/token") => match token {
            Some(t) => Reply::ok(t),
            None => Reply::new(403, "forbidden"),
        },
        ("GET", "/latest/meta-data/ram/security-credentials/") => match role {
            Some(r) => Reply::ok(r),
            None => Reply::new(404, "<html>404 Not Found</html>"),
        },
        ("GET", "/latest/meta-data/ram/security-credentials/EcsRole") => {
            if token.is_some() && req.header("x-aliyun-ecs-metadata-token") != token {
                Reply::new(401, "token required")
            } else {
                Reply::ok(metadata_ok("STS.ecs", "EcsSecret", "EcsToken", 3600))
            }
        }
        _ => Reply::new(404, "not found"),
    })
    .await
}

#[tokio::test]
async fn ecs_imdsv2_token_flow() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let md = metadata_server(Some("imds-token-abc"), Some("EcsRole\n")).await;
    let p = EcsRamRoleProvider::builder().metadata_endpoint(&md.url).build().unwrap();
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(
        (c.access_key_id(), c.access_key_secret(), c.security_token()),
        ("STS.ecs", "EcsSecret", Some("EcsToken"))
    );
    assert!(c.expiration().is_some());
    let reqs = md.requests();
    let lines: Vec<String> = reqs.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        lines,
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/ram/security-credentials/",
            "GET /latest/meta-data/ram/security-credentials/EcsRole"
        ]
    );
    assert_eq!(reqs[0].header("x-aliyun-ecs-metadata-token-ttl-seconds"), Some("21600"));
    assert_eq!(reqs[1].header("x-aliyun-ecs-metadata-token"), Some("imds-token-abc"));
    assert_eq!(reqs[2].header("x-aliyun-ecs-metadata-token"), Some("imds-token-abc"));
    // Cached.
    p.provide_credentials().await.unwrap();
    assert_eq!(md.count(), 3);
}

#[tokio::test]
async fn ecs_falls_back_to_imdsv1() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    env.set("ALIBABA_CLOUD_ECS_METADATA", "EcsRole");
    let md = metadata_server(None, None).await;
    let p = EcsRamRoleProvider::builder().metadata_endpoint(&md.url).build().unwrap();
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.ecs");
    let reqs = md.requests();
    // The role is named: no listing. No token: plain GET.
    assert_eq!(reqs.len(), 2);
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("PUT", "/latest/api/token"));
    assert_eq!(reqs[1].path, "/latest/meta-data/ram/security-credentials/EcsRole");
    assert_eq!(reqs[1].header("x-aliyun-ecs-metadata-token"), None);
}

#[tokio::test]
async fn ecs_with_imdsv1_disabled_fails_without_a_token() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    env.set("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
    let md = metadata_server(None, Some("EcsRole")).await;
    let p = EcsRamRoleProvider::builder().metadata_endpoint(&md.url).build().unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    assert!(
        err.message()
            .contains("IMDSv2 token request (PUT /latest/api/token) got HTTP 403, and IMDSv1 is disabled"),
        "{err}"
    );
    assert_eq!(md.count(), 1);
    // The builder setting wins over the variable.
    let p = EcsRamRoleProvider::builder().metadata_endpoint(&md.url).disable_imdsv1(false).build().unwrap();
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.ecs");
}

#[tokio::test]
async fn ecs_errors() {
    let env = TestEnv::new().await;
    // Disabled: the provider cannot be built.
    let err = EcsRamRoleProvider::builder().build().unwrap_err();
    assert!(
        err.is_not_found() && err.message().contains("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"),
        "{err}"
    );
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    // No role attached.
    let md = metadata_server(Some("tok"), None).await;
    let err = EcsRamRoleProvider::builder()
        .metadata_endpoint(&md.url)
        .build()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(err.is_not_found() && err.message().contains("no RAM role is attached"), "{err}");
    // A failing credentials document.
    let md = FakeServer::start(|_, req| match req.path.as_str() {
        "/latest/api/token" => Reply::ok("tok"),
        _ => Reply::ok(r#"{"Code":"Failed","Message":"role credentials unavailable"}"#),
    })
    .await;
    let err = EcsRamRoleProvider::builder()
        .metadata_endpoint(&md.url)
        .role_name("EcsRole")
        .build()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(!err.is_not_found());
    assert!(
        err.message()
            .contains("answered Code \"Failed\" instead of \"Success\": role credentials unavailable"),
        "{err}"
    );
    // Not reachable: fast, and "not found".
    let started = std::time::Instant::now();
    let err = EcsRamRoleProvider::builder()
        .metadata_endpoint(closed_port_url())
        .build()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(err.is_not_found() && err.message().contains("is not reachable"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

// ---- credentials URI ----

#[tokio::test]
async fn credentials_uri() {
    let env = TestEnv::new().await;
    let server = FakeServer::always(Reply::ok(metadata_ok("STS.uri", "UriSecret", "UriToken", 3600))).await;
    env.set("ALIBABA_CLOUD_CREDENTIALS_URI", &format!("{}/credentials?auth=QuerySecret", server.url));
    let p = CredentialsUriProvider::builder().build().unwrap();
    let c = p.provide_credentials().await.unwrap();
    assert_eq!((c.access_key_id(), c.security_token()), ("STS.uri", Some("UriToken")));
    let req = &server.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str(), req.raw_query.as_str()),
        ("GET", "/credentials", "auth=QuerySecret")
    );
    p.provide_credentials().await.unwrap();
    assert_eq!(server.count(), 1);
    assert!(!format!("{p:?}").contains("QuerySecret"));

    let bad = FakeServer::always(Reply::new(500, "oops")).await;
    let p = CredentialsUriProvider::builder().uri(format!("{}/c?auth=QuerySecret", bad.url)).build().unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    assert_eq!(err.message(), format!("the credentials URI {}/c answered HTTP 500: oops", bad.url));
    let failed = FakeServer::always(Reply::ok(r#"{"Code":"Failed"}"#)).await;
    let p = CredentialsUriProvider::builder().uri(&failed.url).build().unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    assert!(err.message().contains("Code \"Failed\""), "{err}");
}

// ---- profile providers used directly ----

#[tokio::test]
async fn cli_profile_provider_with_explicit_path_and_profile() {
    let env = TestEnv::new().await;
    let sts = FakeServer::always(Reply::ok(sts_ok("STS.cli", "s", "t", 3600))).await;
    let path = env.write(
        "elsewhere/config.json",
        &format!(
            r#"{{"current":"a","profiles":[
                {{"name":"a","mode":"AK","access_key_id":"LTAIa","access_key_secret":"SecretA"}},
                {{"name":"r","mode":"RamRoleArn","access_key_id":"LTAIr","access_key_secret":"SecretR",
                  "ram_role_arn":"{ROLE}","ram_session_name":"cli-session","expired_seconds":900}}]}}"#
        ),
    );
    let p =
        CliProfileProvider::builder().path(&path).profile_name("r").sts_endpoint(&sts.url).build().unwrap();
    assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "STS.cli");
    let params = assert_signed_assume_role(&sts.requests()[0], "LTAIr", "SecretR");
    assert_eq!(param(&params, "RoleSessionName"), Some("cli-session"));
    assert_eq!(param(&params, "DurationSeconds"), Some("900"));
    assert_eq!(p.profile_name(), Some("r"));
}

#[tokio::test]
async fn ini_provider_with_explicit_path() {
    let env = TestEnv::new().await;
    let path = env.write(
        "x/creds.ini",
        "[other]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = IniSecret\n",
    );
    let p = ProfileProvider::builder().path(&path).profile_name("other").build().unwrap();
    let c = p.provide_credentials().await.unwrap();
    assert_eq!((c.access_key_id(), c.access_key_secret()), ("LTAIini", "IniSecret"));
    assert!(!format!("{p:?}").contains("IniSecret"));
}

// ---- expired and about-to-expire credentials (credentials URI, ECS metadata) ----

/// A metadata service whose role `EcsRole` gets the `n`-th credentials document from `doc`.
async fn metadata_with(doc: impl Fn(usize) -> Reply + Send + Sync + 'static) -> FakeServer {
    let served = std::sync::atomic::AtomicUsize::new(0);
    FakeServer::start(move |_, req| match req.path.as_str() {
        "/latest/api/token" => Reply::ok("tok"),
        "/latest/meta-data/ram/security-credentials/EcsRole" => {
            doc(served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1)
        }
        _ => Reply::new(404, "not found"),
    })
    .await
}

#[tokio::test]
async fn uri_and_metadata_credentials_that_arrive_expired_are_refused() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    let expired = metadata_json("STS.old", "OldSecret", "OldToken", &secs_ago(3600));
    let uri = FakeServer::always(Reply::ok(expired.clone())).await;
    let p =
        CredentialsUriProvider::builder().uri(format!("{}/creds?auth=QuerySecret", uri.url)).build().unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    let m = err.to_string();
    assert!(
        m.starts_with(&format!(
            "could not obtain credentials: the credentials URI {}/creds answered credentials that expired at ",
            uri.url
        )),
        "{m}"
    );
    assert!(m.contains(" s ago (is the clock of this machine right?)"), "{m}");
    assert!(!m.contains("QuerySecret") && !m.contains("OldSecret") && !m.contains("OldToken"), "{m}");

    let md = metadata_with(move |_| Reply::ok(expired.clone())).await;
    let p = EcsRamRoleProvider::builder().metadata_endpoint(&md.url).role_name("EcsRole").build().unwrap();
    let err = p.provide_credentials().await.unwrap_err();
    assert!(!err.is_not_found());
    assert!(
        err.message().starts_with("the ECS instance metadata service answered credentials that expired at "),
        "{err}"
    );
}

#[tokio::test]
async fn uri_and_metadata_refreshes_that_fail_keep_usable_credentials_and_drop_expiring_ones() {
    let env = TestEnv::new().await;
    env.remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
    // First answers: one due for a refresh soon (still usable), one about to become unusable.
    // Then every refresh fails.
    let uri_usable = FakeServer::start(|n, _| match n {
        1 => Reply::ok(metadata_ok("STS.uri", "s", "t", REFRESH_SOON)),
        _ => Reply::new(503, "down"),
    })
    .await;
    let uri_expiring = FakeServer::start(|n, _| match n {
        1 => Reply::ok(metadata_ok("STS.uri2", "s", "t", UNUSABLE_SOON)),
        _ => Reply::new(503, "down"),
    })
    .await;
    let md_usable = metadata_with(|n| match n {
        1 => Reply::ok(metadata_ok("STS.ecs", "s", "t", REFRESH_SOON)),
        _ => Reply::new(500, "metadata down"),
    })
    .await;
    let md_expiring = metadata_with(|n| match n {
        1 => Reply::ok(metadata_ok("STS.ecs2", "s", "t", UNUSABLE_SOON)),
        // An answer that expired: refused like a failure.
        _ => Reply::ok(metadata_json("STS.stale", "s", "t", &secs_ago(5))),
    })
    .await;
    let uri = |s: &FakeServer| CredentialsUriProvider::builder().uri(&s.url).build().unwrap();
    let ecs = |s: &FakeServer| {
        EcsRamRoleProvider::builder().metadata_endpoint(&s.url).role_name("EcsRole").build().unwrap()
    };
    let providers: Vec<(Box<dyn ProvideCredentials>, &str)> = vec![
        (Box::new(uri(&uri_usable)), "STS.uri"),
        (Box::new(uri(&uri_expiring)), "STS.uri2"),
        (Box::new(ecs(&md_usable)), "STS.ecs"),
        (Box::new(ecs(&md_expiring)), "STS.ecs2"),
    ];
    for (p, id) in &providers {
        assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), *id);
    }
    until_refresh_due().await;
    // Minutes left: the failed refresh is logged and the current credentials serve.
    assert_eq!(providers[0].0.provide_credentials().await.unwrap().access_key_id(), "STS.uri");
    assert_eq!(providers[2].0.provide_credentials().await.unwrap().access_key_id(), "STS.ecs");
    assert_eq!(uri_usable.count(), 2);
    // Less than 3 minutes left: the failure is the caller's error.
    let err = providers[1].0.provide_credentials().await.unwrap_err();
    assert_eq!(err.message(), format!("the credentials URI {}/ answered HTTP 503: down", uri_expiring.url));
    let err = providers[3].0.provide_credentials().await.unwrap_err();
    assert!(err.message().contains("answered credentials that expired at "), "{err}");
}

// ---- CLI profile, External mode: failures ----

#[cfg(unix)]
#[tokio::test]
async fn external_commands_that_fail_never_show_their_output() {
    let env = TestEnv::new().await;
    let script = |name: &str, body: &str| env.script(name, body).display().to_string();
    let cases = [
        (
            script(
                "exit3",
                "echo '{\"access_key_secret\": \"LeakedSecret\"}'\necho LeakedStderr >&2\nexit 3",
            ),
            "failed with exit status 3 (what it printed is not shown: it may hold secrets; run the command yourself to see it)",
        ),
        (script("sleeper", "sleep 5"), "did not finish within 0.5 s and was stopped"),
        (
            script("chatty", "head -c 70000 /dev/zero | tr '\\000' 'a'"),
            "printed more than 65536 bytes and was stopped",
        ),
        (
            script("notjson", "echo 'access_key_secret=LeakedSecret'"),
            "it is not the expected JSON: expected value at line 1 column 1",
        ),
        (
            script("nosecret", "echo '{\"mode\": \"AK\", \"access_key_id\": \"LTAIext\"}'"),
            "access_key_secret is missing or empty",
        ),
        (
            script(
                "stale",
                &format!(
                    "echo '{{\"mode\": \"StsToken\", \"access_key_id\": \"STS.x\", \"access_key_secret\": \
                     \"LeakedSecret\", \"sts_token\": \"LeakedToken\", \"expiration\": \"{}\"}}'",
                    secs_ago(60)
                ),
            ),
            "answered credentials that expired at ",
        ),
        (env.home().join("bin/missing").display().to_string(), "could not run"),
    ];
    let profiles: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (cmd, _))| {
            serde_json::json!({"name": format!("p{i}"), "mode": "External", "process_command": cmd})
                .to_string()
        })
        .collect();
    let path = env
        .write("cli/config.json", &format!(r#"{{"current": "p0", "profiles": [{}]}}"#, profiles.join(",")));
    for (i, (cmd, expected)) in cases.iter().enumerate() {
        let p = CliProfileProvider::builder()
            .path(&path)
            .profile_name(format!("p{i}"))
            .process_timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        let err = p.provide_credentials().await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        let shown = format!("{err} {err:?}");
        assert!(!err.is_not_found());
        assert!(shown.contains(expected), "{expected:?} not in {shown}");
        assert!(shown.contains(&format!("profile \"p{i}\"")), "{shown}");
        let program = cmd.rsplit('/').next().unwrap();
        assert!(shown.contains(program), "{shown}");
        assert!(!shown.contains("Leaked"), "{shown}");
    }
}

// ---- the client refuses expired credentials from any provider ----

#[tokio::test]
async fn a_client_never_signs_with_expired_credentials_from_any_provider() {
    use alibabacloud_onsmqtt::{Client, Config, Error};
    let _env = TestEnv::new().await;
    let service = FakeServer::always(Reply::ok(r#"{"OnlineStatus":true,"RequestId":"R"}"#)).await;
    let expired = Credentials::new("STS.gone", "GoneSecret")
        .with_security_token("GoneToken")
        .with_expiration(SystemTime::now() - Duration::from_secs(1));
    let client = Client::new(Config::builder().endpoint(&service.url).credentials(expired).build().unwrap());
    let err = client.query_session_by_client_id().instance_id("i").client_id("c").send().await.unwrap_err();
    let Error::Credentials(e) = &err else { panic!("{err:?}") };
    assert!(e.message().starts_with("the credentials of access key id STS.gone expired at "), "{e}");
    assert!(!format!("{e} {e:?}").contains("GoneSecret"));
    assert_eq!(service.count(), 0);
}
