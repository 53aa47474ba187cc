//! Per-call work outside the network: signing (V3 and V1), request encoding (parameters and the
//! canonical query) and response decoding (serde of the output structs).
//!
//! `cargo bench -p onsmqtt-benches --bench per_call`; `cargo xtask bench` runs it with the rest.

use std::hint::black_box;

use alibabacloud_onsmqtt::__bench;
use alibabacloud_onsmqtt::__private::ClientCore;
use alibabacloud_onsmqtt::operations::{
    BatchQuerySessionByClientIdsOutput, ListCaCertificateOutput, QueryCustomAuthIdentityOutput,
    QuerySessionByClientIdOutput,
};
use alibabacloud_onsmqtt::{Config, Credentials, SignatureVersion};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use onsmqtt_benches::{QUERY_SESSION_BODY_REAL, list_ca_certificate_body, query_custom_auth_identity_body};

const HOST: &str = "onsmqtt.cn-hangzhou.aliyuncs.com";
const CLIENT_ID: &str = "GID_test@@@test";
const INSTANCE_ID: &str = "post-cn-0pp12gl****";

fn query_session_params() -> __bench::BenchParams {
    __bench::params([("ClientId", CLIENT_ID.to_owned()), ("InstanceId", INSTANCE_ID.to_owned())], false)
}

fn batch_params(n: usize) -> __bench::BenchParams {
    let mut pairs = vec![(String::from("InstanceId"), INSTANCE_ID.to_owned())];
    for i in 0..n {
        pairs.push((format!("ClientIdList.{}", i + 1), format!("GID_test@@@device-{i:04}")));
    }
    __bench::params(pairs, false)
}

fn signing(c: &mut Criterion) {
    let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleAccessKeySecret0123456789");
    let sts = Credentials::new("STS.ExampleAccessKeyId", "ExampleAccessKeySecret0123456789")
        .with_security_token("CAIS".repeat(100));
    let params = query_session_params();
    let date = __bench::date_now();
    let nonce = __bench::nonce();
    let mut g = c.benchmark_group("sign");
    for (name, v1, creds) in [("v3", false, &creds), ("v1", true, &creds), ("v3_sts", false, &sts)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                __bench::sign(
                    v1,
                    black_box("QuerySessionByClientId"),
                    HOST,
                    black_box(&params),
                    creds,
                    &date,
                    &nonce,
                )
            })
        });
    }
    g.bench_function("date_and_nonce", |b| b.iter(|| (__bench::date_now(), __bench::nonce())));
    g.finish();

    // Everything an attempt does before the transport: date, nonce, signature, URL and headers.
    let mut g = c.benchmark_group("request");
    for (name, version) in [("prepare_v3", SignatureVersion::V3), ("prepare_v1", SignatureVersion::V1)] {
        let config = Config::builder()
            .endpoint(format!("https://{HOST}"))
            .credentials(creds.clone())
            .signature_version(version)
            .build()
            .expect("config");
        let client = ClientCore::new(config, &alibabacloud_onsmqtt::service::SERVICE);
        g.bench_function(name, |b| b.iter(|| __bench::prepare(&client, black_box(&params), &creds)));
    }
    g.finish();
}

fn encoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    g.bench_function("query_session", |b| {
        b.iter(|| __bench::canonical_query(&black_box(query_session_params())))
    });
    g.bench_function("batch_query_10", |b| b.iter(|| __bench::canonical_query(&batch_params(black_box(10)))));
    g.finish();
}

fn decoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let small = QUERY_SESSION_BODY_REAL.as_bytes();
    g.throughput(Throughput::Bytes(small.len() as u64));
    g.bench_function("query_session", |b| {
        b.iter(|| serde_json::from_slice::<QuerySessionByClientIdOutput>(black_box(small)).unwrap())
    });

    let batch = {
        let items: Vec<String> = (0..10)
            .map(|i| format!(r#"{{"OnlineStatus":{},"ClientId":"GID_test@@@device-{i:04}"}}"#, i % 2 == 0))
            .collect();
        format!(
            r#"{{"RequestId":"63309FDB-ED6C-46AE-B31C-A172FBA00000","OnlineStatusList":[{}]}}"#,
            items.join(",")
        )
    };
    g.throughput(Throughput::Bytes(batch.len() as u64));
    g.bench_function("batch_query_10", |b| {
        b.iter(|| {
            serde_json::from_slice::<BatchQuerySessionByClientIdsOutput>(black_box(batch.as_bytes())).unwrap()
        })
    });

    let ca = list_ca_certificate_body(100);
    g.throughput(Throughput::Bytes(ca.len() as u64));
    g.bench_function("list_ca_certificate_100", |b| {
        b.iter(|| serde_json::from_slice::<ListCaCertificateOutput>(black_box(ca.as_bytes())).unwrap())
    });

    let ids = query_custom_auth_identity_body(100);
    g.throughput(Throughput::Bytes(ids.len() as u64));
    g.bench_function("query_custom_auth_identity_100", |b| {
        b.iter(|| serde_json::from_slice::<QueryCustomAuthIdentityOutput>(black_box(ids.as_bytes())).unwrap())
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = signing, encoding, decoding
}
criterion_main!(benches);
