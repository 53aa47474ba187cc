//! The local service's request parser: any query and body, as form or not, decoded and parsed for
//! any operation. It must answer (a request or an error), never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onsmqtt_local::generated::{ACTIONS, parse_debug};
use onsmqtt_local::http::RawRequest;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let cut = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let (query, body) = rest.split_at(cut);
    let mut headers = http::HeaderMap::new();
    if selector & 0x80 != 0 {
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-www-form-urlencoded"));
    }
    let req = RawRequest {
        method: http::Method::POST,
        path: "/".to_owned(),
        query: String::from_utf8_lossy(query).into_owned(),
        headers,
        body: bytes::Bytes::copy_from_slice(body),
    };
    if let Ok(params) = req.params() {
        let action = ACTIONS[usize::from(selector & 0x7f) % ACTIONS.len()];
        let _ = parse_debug(action, &params);
    }
});
