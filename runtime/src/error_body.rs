//! Reading error answers: JSON `{"Code", "Message", ...}`, XML `<Error><Code/>...</Error>`, a
//! `Success: false` body inside an HTTP 200, or anything else (an HTML page from a proxy).

use std::time::Duration;

use http::HeaderMap;
use quick_xml::events::Event;
use serde_json::{Map, Value};

use super::error::ServiceError;

/// Longest body excerpt quoted in a message, in characters.
const EXCERPT_CHARS: usize = 200;

/// The fields an error answer may carry.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorFields {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub host_id: Option<String>,
    pub recommend: Option<String>,
    pub access_denied_detail: Option<Value>,
}

/// Looks a key up exactly, then ignoring ASCII case.
fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// A scalar as text: strings as they are, numbers and booleans printed; empty strings count as
/// absent.
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn fields_from_object(obj: &Map<String, Value>) -> ErrorFields {
    ErrorFields {
        code: scalar(get(obj, "Code")),
        message: scalar(get(obj, "Message")),
        request_id: scalar(get(obj, "RequestId")),
        host_id: scalar(get(obj, "HostId")),
        recommend: scalar(get(obj, "Recommend")),
        access_denied_detail: get(obj, "AccessDeniedDetail").filter(|v| !v.is_null()).cloned(),
    }
}

/// The error fields of a JSON object body; `None` when the body is not a JSON object.
pub(crate) fn parse_json(body: &[u8]) -> Option<ErrorFields> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(obj) => Some(fields_from_object(&obj)),
        _ => None,
    }
}

/// The error fields of an XML body (the children of the root element, whatever its name); `None`
/// when the body is not XML carrying any of them.
pub(crate) fn parse_xml(body: &[u8]) -> Option<ErrorFields> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut fields = ErrorFields::default();
    let mut depth = 0usize;
    // The field being read (a direct child of the root) and its text so far.
    let mut current: Option<(String, String)> = None;
    let mut found = false;
    // A malformed document (for example HTML) ends the loop: keep what was read so far.
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(start) => {
                depth += 1;
                if depth == 2 {
                    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    current = Some((name, String::new()));
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((name, text)) = current.take()
                {
                    let text = text.trim().to_owned();
                    let value = (!text.is_empty()).then_some(text);
                    let slot = match name.as_str() {
                        "Code" => Some(&mut fields.code),
                        "Message" => Some(&mut fields.message),
                        "RequestId" => Some(&mut fields.request_id),
                        "HostId" => Some(&mut fields.host_id),
                        "Recommend" => Some(&mut fields.recommend),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        found = true;
                        *slot = value;
                    }
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = current.as_mut()
                    && let Ok(s) = t.xml_content()
                {
                    text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some((_, text)) = current.as_mut()
                    && let Ok(s) = t.xml_content()
                {
                    text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, text)) = current.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else if let Ok(name) = r.decode()
                        && let Some(s) = quick_xml::escape::resolve_predefined_entity(&name)
                    {
                        text.push_str(s);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    found.then_some(fields)
}

/// `x-acs-retry-after` (milliseconds), else the standard `Retry-After` in whole seconds.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let parse = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    parse("x-acs-retry-after")
        .map(Duration::from_millis)
        .or_else(|| parse("retry-after").map(Duration::from_secs))
}

fn header_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-acs-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A short, printable excerpt of a body: tags of markup removed, control characters and runs of
/// whitespace collapsed to one space, cut to [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    let stripped: String = if trimmed.starts_with('<') {
        let mut out = String::with_capacity(trimmed.len());
        let mut in_tag = false;
        for c in trimmed.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    out.push(' ');
                }
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        if out.trim().is_empty() { trimmed.to_owned() } else { out }
    } else {
        trimmed.to_owned()
    };
    let mut out = String::new();
    let mut count = 0;
    let mut pending_space = false;
    for c in stripped.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        pending_space = false;
        if count >= EXCERPT_CHARS {
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

fn status_text(status: u16) -> String {
    match http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("HTTP status {status} ({reason})"),
        None => format!("HTTP status {status}"),
    }
}

/// Builds the [`ServiceError`] for an answer with an error status. `truncated` says the body was
/// cut at the size limit.
pub(crate) fn service_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    truncated: bool,
    limit: usize,
) -> ServiceError {
    let fields = if truncated { None } else { parse_json(body).or_else(|| parse_xml(body)) };
    let fields = fields.unwrap_or_default();
    let code_in_body = fields.code.is_some();
    let code = fields.code.unwrap_or_else(|| format!("Http{status}"));
    let message = match fields.message {
        Some(m) => m,
        None if truncated => {
            format!("{}, body larger than {limit} bytes: \"{}\"", status_text(status), excerpt(body))
        }
        None if body.iter().all(u8::is_ascii_whitespace) => {
            format!("{} with an empty body", status_text(status))
        }
        None if code_in_body => status_text(status),
        None => format!("{}, body: \"{}\"", status_text(status), excerpt(body)),
    };
    ServiceError {
        status,
        code,
        code_in_body,
        message,
        request_id: fields.request_id.or_else(|| header_request_id(headers)),
        host_id: fields.host_id,
        recommend: fields.recommend,
        access_denied_detail: fields.access_denied_detail,
        retry_after: retry_after(headers),
        attempts: 0,
    }
}

/// For operations that report failures inside an HTTP 200: the [`ServiceError`] when the body is a
/// JSON object whose `Success` is `false` (a boolean, or a string in any case).
pub(crate) fn failure_in_body(status: u16, headers: &HeaderMap, body: &[u8]) -> Option<ServiceError> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let failed = match get(&obj, "Success")? {
        Value::Bool(b) => !b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("false"),
        _ => false,
    };
    if !failed {
        return None;
    }
    let fields = fields_from_object(&obj);
    let code_in_body = fields.code.is_some();
    Some(ServiceError {
        status,
        code: fields.code.unwrap_or_else(|| "Unknown".to_owned()),
        code_in_body,
        message: fields
            .message
            .unwrap_or_else(|| "the service reported Success=false without a message".to_owned()),
        request_id: fields.request_id.or_else(|| header_request_id(headers)),
        host_id: fields.host_id,
        recommend: fields.recommend,
        access_denied_detail: fields.access_denied_detail,
        retry_after: retry_after(headers),
        attempts: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn no_headers() -> HeaderMap {
        HeaderMap::new()
    }

    #[test]
    fn json_error_body() {
        let body = br#"{"Code": "InvalidParameter.ClientId", "Message": "The ClientId is invalid.", "RequestId": "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001", "HostId": "example.cn-hangzhou.aliyuncs.com", "Recommend": "https://api.aliyun.com/troubleshoot?q=InvalidParameter.ClientId"}"#;
        let e = service_error(400, &no_headers(), body, false, 1024);
        assert_eq!(e.status(), 400);
        assert_eq!(e.code(), "InvalidParameter.ClientId");
        assert!(e.has_service_code());
        assert_eq!(e.message(), "The ClientId is invalid.");
        assert_eq!(e.request_id(), Some("E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001"));
        assert_eq!(e.host_id(), Some("example.cn-hangzhou.aliyuncs.com"));
        assert_eq!(e.recommend(), Some("https://api.aliyun.com/troubleshoot?q=InvalidParameter.ClientId"));
        assert_eq!(e.access_denied_detail(), None);
        assert_eq!(e.retry_after(), None);
        assert_eq!(
            e.to_string(),
            "InvalidParameter.ClientId: The ClientId is invalid. (request id E4581CCF-62AF-44D9-B5B4-D1DBBC0E0001)"
        );
    }

    #[test]
    fn json_access_denied_detail_is_an_object() {
        let body = br#"{"Code": "Forbidden.RAM", "Message": "User not authorized", "RequestId": "R-403", "AccessDeniedDetail": {"PolicyType": "AccountLevelIdentityBasedPolicy", "AuthAction": "mq:QuerySessionByClientId", "NoPermissionType": "ImplicitDeny", "EncodedDiagnosticMessage": "AQEAAA=="}}"#;
        let e = service_error(403, &no_headers(), body, false, 1024);
        assert_eq!(e.code(), "Forbidden.RAM");
        let detail = e.access_denied_detail().unwrap();
        assert_eq!(detail["AuthAction"], "mq:QuerySessionByClientId");
        assert_eq!(detail["NoPermissionType"], "ImplicitDeny");
    }

    #[test]
    fn retry_after_header() {
        let mut h = HeaderMap::new();
        h.insert("x-acs-retry-after", HeaderValue::from_static("1500"));
        let body = br#"{"Code": "Throttling.User", "Message": "Request was denied due to user flow control.", "RequestId": "R-429"}"#;
        let e = service_error(429, &h, body, false, 1024);
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(e.code(), "Throttling.User");

        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let mut h = HeaderMap::new();
        h.insert("x-acs-retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn numeric_code_and_lowercase_keys() {
        let e = service_error(400, &no_headers(), br#"{"code": 400, "message": "bad"}"#, false, 1024);
        assert_eq!(e.code(), "400");
        assert_eq!(e.message(), "bad");
    }

    #[test]
    fn xml_error_body() {
        let body = b"<?xml version='1.0' encoding='UTF-8'?>\n<Error>\n  <RequestId>R-X</RequestId>\n  <HostId>example.cn-hangzhou.aliyuncs.com</HostId>\n  <Code>SignatureDoesNotMatch</Code>\n  <Message>Specified signature &amp; stuff &#x41;&lt;is&gt; not matched.</Message>\n  <Recommend><![CDATA[https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&x=1]]></Recommend>\n</Error>";
        let e = service_error(400, &no_headers(), body, false, 1024);
        assert_eq!(e.code(), "SignatureDoesNotMatch");
        assert_eq!(e.message(), "Specified signature & stuff A<is> not matched.");
        assert_eq!(e.request_id(), Some("R-X"));
        assert_eq!(e.host_id(), Some("example.cn-hangzhou.aliyuncs.com"));
        assert_eq!(e.recommend(), Some("https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&x=1"));
    }

    #[test]
    fn xml_with_another_root_name_and_nested_noise() {
        let body = b"<QuerySessionByClientIdResponse><Extra><Code>nested</Code></Extra><Code>InvalidAccessKeyId.NotFound</Code><Message>Specified access key is not found.</Message></QuerySessionByClientIdResponse>";
        let f = parse_xml(body).unwrap();
        assert_eq!(f.code.as_deref(), Some("InvalidAccessKeyId.NotFound"));
        assert_eq!(f.message.as_deref(), Some("Specified access key is not found."));
    }

    #[test]
    fn html_body_becomes_http_code() {
        let body = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        let mut h = HeaderMap::new();
        h.insert("x-acs-request-id", HeaderValue::from_static("HDR-ID"));
        let e = service_error(502, &h, body, false, 1024);
        assert_eq!(e.code(), "Http502");
        assert!(!e.has_service_code());
        assert_eq!(
            e.message(),
            "HTTP status 502 (Bad Gateway), body: \"502 Bad Gateway 502 Bad Gateway nginx\""
        );
        assert_eq!(e.request_id(), Some("HDR-ID"));
        assert_eq!(
            e.to_string(),
            "Http502: HTTP status 502 (Bad Gateway), body: \"502 Bad Gateway 502 Bad Gateway nginx\" (request id HDR-ID)"
        );
    }

    #[test]
    fn empty_and_plain_bodies() {
        let e = service_error(503, &no_headers(), b"", false, 1024);
        assert_eq!(e.code(), "Http503");
        assert_eq!(e.message(), "HTTP status 503 (Service Unavailable) with an empty body");
        assert_eq!(e.to_string(), "Http503: HTTP status 503 (Service Unavailable) with an empty body");

        let e = service_error(500, &no_headers(), b"upstream\x00 connect\n\n error\x1b[31m", false, 1024);
        assert_eq!(e.code(), "Http500");
        assert_eq!(
            e.message(),
            "HTTP status 500 (Internal Server Error), body: \"upstream connect error [31m\""
        );

        let e = service_error(599, &no_headers(), b"[1,2]", false, 1024);
        assert_eq!(e.message(), "HTTP status 599, body: \"[1,2]\"");

        // A JSON object without a code keeps its message and request id.
        let e = service_error(500, &no_headers(), br#"{"Message":"boom","RequestId":"R"}"#, false, 1024);
        assert_eq!((e.code(), e.message(), e.request_id()), ("Http500", "boom", Some("R")));
        assert!(!e.has_service_code());
    }

    #[test]
    fn long_and_invalid_utf8_bodies_are_cut_without_panicking() {
        let body = "é".repeat(1000);
        let x = excerpt(body.as_bytes());
        assert_eq!(x.chars().count(), EXCERPT_CHARS + 1);
        assert!(x.ends_with('…'));
        let x = excerpt(&[0xff, 0xfe, b'a', 0xc3]);
        assert_eq!(x, "\u{fffd}\u{fffd}a\u{fffd}");
        let e = service_error(500, &no_headers(), &[b'{'; 5000], false, 1024);
        assert_eq!(e.code(), "Http500");
        assert!(e.message().len() < 400);
    }

    #[test]
    fn truncated_body_is_not_parsed() {
        let e = service_error(500, &no_headers(), br#"{"Code":"X","Mess"#, true, 16);
        assert_eq!(e.code(), "Http500");
        assert!(
            e.message().starts_with("HTTP status 500 (Internal Server Error), body larger than 16 bytes: ")
        );
    }

    #[test]
    fn success_false_in_body() {
        let h = no_headers();
        let e = failure_in_body(
            200,
            &h,
            br#"{"Code": 500, "Success": false, "Message": "instance not found", "RequestId": "R1"}"#,
        )
        .unwrap();
        assert_eq!(
            (e.status(), e.code(), e.message(), e.request_id()),
            (200, "500", "instance not found", Some("R1"))
        );
        let e = failure_in_body(200, &h, br#"{"Code": "Bad", "Success": "False"}"#).unwrap();
        assert_eq!(e.code(), "Bad");
        assert_eq!(e.message(), "the service reported Success=false without a message");
        let e = failure_in_body(200, &h, br#"{"success": "false"}"#).unwrap();
        assert_eq!(e.code(), "Unknown");
        assert!(failure_in_body(200, &h, br#"{"Code": 200, "Success": true, "Message": "ok"}"#).is_none());
        assert!(failure_in_body(200, &h, br#"{"Success": "true"}"#).is_none());
        assert!(failure_in_body(200, &h, br#"{"Success": "True"}"#).is_none());
        assert!(failure_in_body(200, &h, br#"{"RequestId": "x"}"#).is_none());
        assert!(failure_in_body(200, &h, b"not json").is_none());
        assert!(failure_in_body(200, &h, b"[false]").is_none());
    }

    #[test]
    fn xml_parser_survives_garbage() {
        for body in [
            &b"<"[..],
            b"<a><b>",
            b"</x>",
            b"<Error><Code>X</Code>",
            b"<!DOCTYPE html><html><body><p>unclosed<br></body></html>",
            b"<Error><Code>&unknown;</Code></Error>",
        ] {
            let _ = parse_xml(body);
            let _ = service_error(500, &no_headers(), body, false, 1024);
        }
        let f = parse_xml(b"<Error><Code>X</Code>").unwrap();
        assert_eq!(f.code.as_deref(), Some("X"));
    }
}
