//! Percent-encoding as the signatures need it (RFC 3986), and the canonical, sorted query string.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything except the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes `s` as UTF-8: unreserved characters stay, every other byte becomes `%XX` with
/// uppercase hex (space is `%20`, `*` is `%2A`).
pub(crate) fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    pct_into(&mut out, s);
    out
}

/// Appends `s`, percent-encoded as by [`pct`], to `out` (no allocation beyond growing `out`).
pub(crate) fn pct_into(out: &mut String, s: &str) {
    for chunk in utf8_percent_encode(s, RFC3986) {
        out.push_str(chunk);
    }
}

/// `key=value` pairs, keys sorted by byte order (stable for equal keys), both sides percent-encoded
/// and joined with `&`. This one string is the canonical query of the signatures, the URL query we
/// send and the form body.
pub(crate) fn canonical_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    if !pairs.is_sorted_by(|a, b| a.0.as_bytes() <= b.0.as_bytes()) {
        pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    // Room for every byte, the separators and a few escapes; grows if more are needed.
    let raw: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(raw + raw / 4);
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        pct_into(&mut out, key);
        out.push('=');
        pct_into(&mut out, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_stay() {
        let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
        assert_eq!(pct(unreserved), unreserved);
    }

    #[test]
    fn reserved_and_special_characters_are_encoded_uppercase() {
        assert_eq!(pct(" "), "%20");
        assert_eq!(pct("*"), "%2A");
        assert_eq!(pct("+"), "%2B");
        assert_eq!(pct("/"), "%2F");
        assert_eq!(pct("@"), "%40");
        assert_eq!(pct(":"), "%3A");
        assert_eq!(pct("="), "%3D");
        assert_eq!(pct("&"), "%26");
        assert_eq!(pct("%"), "%25");
        assert_eq!(pct("é"), "%C3%A9");
        assert_eq!(pct("阿"), "%E9%98%BF");
        assert_eq!(pct("{\"a\":1}"), "%7B%22a%22%3A1%7D");
        assert_eq!(pct("GID a*b~c/d+é"), "GID%20a%2Ab~c%2Fd%2B%C3%A9");
    }

    #[test]
    fn every_ascii_byte() {
        for b in 0u8..128 {
            let s = (b as char).to_string();
            let unreserved = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
            let expected = if unreserved { s.clone() } else { format!("%{b:02X}") };
            assert_eq!(pct(&s), expected, "byte {b}");
        }
    }

    #[test]
    fn query_is_sorted_by_key_bytes() {
        let q = canonical_query([("InstanceId", "post-cn-0pp12gl****"), ("ClientId", "GID_test@@@test")]);
        assert_eq!(q, "ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A");
        // Uppercase sorts before lowercase; `.` (0x2E) before digits.
        let q = canonical_query([("b", "1"), ("B", "2"), ("Tag.1.Value", "v 1"), ("Tag.1.Key", "k")]);
        assert_eq!(q, "B=2&Tag.1.Key=k&Tag.1.Value=v%201&b=1");
        assert_eq!(canonical_query([]), "");
        // Equal keys keep their order.
        assert_eq!(canonical_query([("a", "2"), ("a", "1")]), "a=2&a=1");
    }
}
