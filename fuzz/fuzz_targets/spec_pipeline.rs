//! Arbitrary bytes through the whole generator: load -> validate -> lower -> emit, and the
//! rendering of any diagnostics. Nothing may panic, hang or run out of memory.
//!
//! Input layout:
//! - starting with byte 0x01: `0x01 <service file> 0x00 <operation file>`;
//! - anything else: the operation file, loaded with the real `spec/onsmqtt/service.yaml`.
//!
//! The operation file is named after its `name:` line when it has one, so inputs that are
//! valid specs get past the file-name check into lowering and emission.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onsmqtt_codegen::{Error, LoadError, load};

const SERVICE: &[u8] = include_bytes!("../../spec/onsmqtt/service.yaml");

fuzz_target!(|data: &[u8]| {
    let (service, op) = match data.split_first() {
        Some((1, rest)) => match rest.iter().position(|b| *b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        },
        _ => (SERVICE, data),
    };
    let op_name = format!("spec/onsmqtt/operations/{}.yaml", declared_name(op).unwrap_or("Fuzz"));
    let result = load::load_files(
        ("spec/onsmqtt/service.yaml".to_owned(), service.to_vec()),
        vec![(op_name, op.to_vec())],
    )
    .map_err(Error::from)
    .and_then(|loaded| onsmqtt_codegen::generate_loaded(&loaded));
    match result {
        Ok(files) => assert!(!files.is_empty()),
        Err(Error::Load(LoadError::Spec(errors))) => {
            assert!(!errors.is_empty());
            let rendered = errors.render_plain();
            assert!(!rendered.is_empty());
        }
        Err(other) => {
            // Only spec problems are expected: an emit error means validation let through a
            // spec the emitters cannot handle.
            panic!("not a spec error: {other}");
        }
    }
});

/// The value of a top-level `name: X` line, if it is a plain identifier.
fn declared_name(op: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(op).ok()?;
    let name = text.lines().find_map(|l| l.strip_prefix("name: "))?.trim();
    (!name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric())).then_some(name)
}
