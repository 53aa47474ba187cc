//! Round trip through the generated server side and the typed client, for every operation: a
//! random request sent by the client is parsed by the server into exactly the values sent, and a
//! random output or error encoded by the server is decoded by the client into exactly the values
//! encoded. V3 and V1 signing alternate. The cases are seeded, so a failure repeats.

use alibabacloud_onsmqtt::{Client, Config, Credentials, RetryConfig, SignatureVersion};
use onsmqtt_local::generated::{ACTIONS, round_trip};
use onsmqtt_local::server::roundtrip::Canned;
use std::sync::Arc;

const CASES_PER_OPERATION: u64 = 48;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_round_trips_both_ways() {
    let canned = Arc::new(Canned::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(onsmqtt_local::http::serve(listener, canned.clone(), rx));
    let client = |v| {
        Client::new(
            Config::builder()
                .endpoint(format!("http://{addr}"))
                .credentials(Credentials::new("id", "secret"))
                .signature_version(v)
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        )
    };
    let (v3, v1) = (client(SignatureVersion::V3), client(SignatureVersion::V1));
    let mut failures = Vec::new();
    let mut trips = 0;
    for (i, action) in ACTIONS.iter().enumerate() {
        for case in 0..CASES_PER_OPERATION {
            let mut rng = fastrand::Rng::with_seed(i as u64 * 1000 + case);
            let data: Vec<u8> = (0..rng.usize(64..4096)).map(|_| rng.u8(..)).collect();
            let mut u = arbitrary::Unstructured::new(&data);
            let client = if case % 2 == 0 { &v3 } else { &v1 };
            let trip = match round_trip(action, client, &canned, &mut u).await {
                Some(Ok(trip)) => trip,
                // Too few random bytes for this case: nothing was sent.
                Some(Err(_)) => continue,
                None => panic!("{action} has no round trip"),
            };
            trips += 1;
            if let Some(m) = trip.mismatch() {
                failures.push(format!("{action} case {case}: {m}"));
            }
        }
    }
    let _ = stop.send(true);
    let _ = server.await;
    assert!(
        failures.is_empty(),
        "{} of {trips} round trips changed something:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        trips as u64 >= ACTIONS.len() as u64 * CASES_PER_OPERATION * 9 / 10,
        "only {trips} round trips ran"
    );
}

/// What the fuzz target `request_parser` does, briefly and on stable: random queries and bodies,
/// decoded and parsed for every operation, are answered without a panic.
#[test]
fn random_input_never_panics_the_parser() {
    use onsmqtt_local::http::RawRequest;
    let mut rng = fastrand::Rng::with_seed(7);
    let alphabet = b"=&.%+0123456789ABCDEFabcdef\xff\xfeInstanceIdTagClientIdList.Key.Value.Size";
    for case in 0..3000 {
        let len = rng.usize(0..256);
        let bytes: Vec<u8> = (0..len)
            .map(|_| if rng.bool() { alphabet[rng.usize(..alphabet.len())] } else { rng.u8(..) })
            .collect();
        let cut = rng.usize(0..=bytes.len());
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let req = RawRequest {
            method: http::Method::POST,
            path: "/".into(),
            query: String::from_utf8_lossy(&bytes[..cut]).into_owned(),
            headers,
            body: bytes::Bytes::copy_from_slice(&bytes[cut..]),
        };
        if let Ok(params) = req.params() {
            let action = ACTIONS[case % ACTIONS.len()];
            let _ = onsmqtt_local::generated::parse_debug(action, &params);
        }
    }
}
