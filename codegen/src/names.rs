//! Rust names, resolved once for the IR: case conversion, keywords, reserved names.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Keywords that `r#` can escape.
const RAW_OK: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro",
    "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait",
    "true", "try", "type", "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while",
    "yield",
];

/// Keywords that cannot be raw identifiers: they get a trailing underscore.
const RAW_FORBIDDEN: &[&str] = &["self", "Self", "super", "crate", "_"];

/// A snake_case identifier for a wire name, e.g. `ClientIdList` -> `client_id_list`,
/// `Type` -> `r#type`, `Self` -> `self_`.
pub fn snake(wire: &str) -> String {
    escape(wire.to_snake_case())
}

/// An UpperCamelCase type or variant name, e.g. `Customauth.over.capacity` ->
/// `CustomauthOverCapacity`; `Self` -> `Self_`.
pub fn camel(wire: &str) -> String {
    escape(camel_bare(wire))
}

/// [`camel`] without escaping, for names that are built on (`<Action><Field>Item`).
pub fn camel_bare(wire: &str) -> String {
    wire.replace(['.', '-'], "_").to_upper_camel_case()
}

/// The bare name behind an identifier, without `r#`.
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

fn escape(s: String) -> String {
    if RAW_FORBIDDEN.contains(&s.as_str()) {
        format!("{s}_")
    } else if RAW_OK.contains(&s.as_str()) {
        format!("r#{s}")
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{s}")
    } else {
        s
    }
}

/// Whether `s` is a wire name the generator can map: ASCII letters and digits, starting with a
/// letter.
pub fn is_wire_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `s` is an UpperCamelCase Rust type name.
pub fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric())
        && !RAW_FORBIDDEN.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_escapes() {
        assert_eq!(snake("ClientIdList"), "client_id_list");
        assert_eq!(snake("MqttInstanceId"), "mqtt_instance_id");
        assert_eq!(snake("Type"), "r#type");
        assert_eq!(snake("match"), "r#match");
        assert_eq!(snake("Self"), "self_");
        assert_eq!(snake("crate"), "crate_");
        assert_eq!(snake("CaCertificateVOS"), "ca_certificate_vos");
        assert_eq!(camel("InvalidParameter"), "InvalidParameter");
        assert_eq!(camel("Customauth.over.capacity"), "CustomauthOverCapacity");
        assert_eq!(camel("Throttling.User"), "ThrottlingUser");
        assert_eq!(camel("PUB_SUB"), "PubSub");
        assert_eq!(camel("Self"), "Self_");
        assert_eq!(unraw("r#type"), "type");
    }

    #[test]
    fn recognises_names() {
        assert!(is_wire_name("ClientId"));
        assert!(!is_wire_name("Client-Id"));
        assert!(!is_wire_name("1Client"));
        assert!(!is_wire_name(""));
        assert!(is_type_name("DeviceCredential"));
        assert!(!is_type_name("deviceCredential"));
        assert!(!is_type_name("Self"));
    }
}
