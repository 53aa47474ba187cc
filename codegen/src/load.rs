//! Reading spec files: size and encoding checks, then serde into the spec model.

use crate::diag::{LoadError, SpecError, SpecErrors};
use crate::source::SourceFile;
use crate::spec;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Largest spec file accepted; real ones are a few KiB.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// A parsed spec: the service file and the operation files, sorted by file name.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// `service.yaml`.
    pub service: (SourceFile, spec::Service),
    /// `operations/*.yaml`.
    pub operations: Vec<(SourceFile, spec::Operation)>,
}

/// Reads `<root>/<spec_dir>/service.yaml` and `<root>/<spec_dir>/operations/*.yaml`. File names
/// in diagnostics are relative to `root`.
pub fn load_dir(root: &Path, spec_dir: &str) -> Result<Loaded, LoadError> {
    let read = |rel: &str| -> Result<Vec<u8>, LoadError> {
        std::fs::read(root.join(rel)).map_err(|source| LoadError::Io { path: rel.to_owned(), source })
    };
    let service_rel = format!("{spec_dir}/service.yaml");
    let service_bytes = read(&service_rel)?;
    let ops_rel = format!("{spec_dir}/operations");
    let entries = std::fs::read_dir(root.join(&ops_rel))
        .map_err(|source| LoadError::Io { path: ops_rel.clone(), source })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io { path: ops_rel.clone(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") {
            names.push(name);
        }
    }
    names.sort();
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let rel = format!("{ops_rel}/{name}");
        let bytes = read(&rel)?;
        files.push((rel, bytes));
    }
    load_files((service_rel, service_bytes), files)
}

/// Parses a service file and operation files given as (name, bytes), collecting every file's
/// problems before failing.
pub fn load_files(
    service: (String, Vec<u8>),
    operations: Vec<(String, Vec<u8>)>,
) -> Result<Loaded, LoadError> {
    let mut errors = SpecErrors::default();
    let service = parse_file::<spec::Service>(&service.0, &service.1, &mut errors);
    let mut ops = Vec::with_capacity(operations.len());
    for (name, bytes) in &operations {
        if let Some(op) = parse_file::<spec::Operation>(name, bytes, &mut errors) {
            ops.push(op);
        }
    }
    match service {
        Some(service) if errors.is_empty() => Ok(Loaded { service, operations: ops }),
        _ => Err(errors.into()),
    }
}

/// Parses one file into `T`, pushing its problems onto `errors`.
pub fn parse_file<T: DeserializeOwned>(
    name: &str,
    bytes: &[u8],
    errors: &mut SpecErrors,
) -> Option<(SourceFile, T)> {
    let op = operation_hint(name);
    if bytes.len() > MAX_FILE_BYTES {
        let file = SourceFile { name: name.to_owned(), text: "".into() };
        errors.push(
            SpecError::new(
                &file,
                file.span_at(0, 0),
                op,
                None,
                format!(
                    "the file is {} bytes, more than the {MAX_FILE_BYTES} a spec file may have",
                    bytes.len()
                ),
            )
            .help("a spec file describes one operation; split or shorten it"),
        );
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(e) => {
            let file = SourceFile {
                name: name.to_owned(),
                text: String::from_utf8_lossy(bytes).into_owned().into(),
            };
            // The lossy text has the same bytes up to the bad sequence.
            let span = file.span_at(e.valid_up_to(), 1);
            errors.push(
                SpecError::new(&file, span, op, None, "the file is not valid UTF-8")
                    .label("invalid byte sequence")
                    .help("save the file as UTF-8"),
            );
            return None;
        }
    };
    let file = SourceFile { name: name.to_owned(), text: text.into() };
    if let Some(e) = tab_indentation(&file, op) {
        errors.push(e);
        return None;
    }
    if file.text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        errors.push(
            SpecError::new(&file, file.span_at(0, 1), op, None, "the file is empty")
                .help("expected a YAML mapping; see spec/README.md for the keys a spec file has"),
        );
        return None;
    }
    match serde_yaml::from_str::<T>(&file.text) {
        Ok(v) => Some((file, v)),
        Err(e) => {
            errors.push(serde_error(&file, op, &e));
            None
        }
    }
}

/// The operation a file describes, judged by its name, for messages about files that did not
/// parse.
fn operation_hint(name: &str) -> Option<&str> {
    let stem = name.rsplit('/').next()?.strip_suffix(".yaml")?;
    (stem != "service").then_some(stem)
}

fn tab_indentation(file: &SourceFile, op: Option<&str>) -> Option<SpecError> {
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(tab) = line[..indent].find('\t') {
            return Some(
                SpecError::new(
                    file,
                    file.span_at(offset + tab, 1),
                    op,
                    None,
                    "a tab is used for indentation",
                )
                .label("tab")
                .help("YAML indents with spaces only; replace the tab with spaces"),
            );
        }
        offset += line.len();
    }
    None
}

fn serde_error(file: &SourceFile, op: Option<&str>, e: &serde_yaml::Error) -> SpecError {
    let full = e.to_string();
    // serde_yaml appends " at line L column C"; the location is shown on its own.
    let message = match full.rfind(" at line ") {
        Some(i) if e.location().is_some() => &full[..i],
        _ => &full,
    };
    // and prefixes the path of the offending node: "parameters[0]: unknown field ..."
    let (field, message) = match message.split_once(": ") {
        Some((path, rest))
            if !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c)) =>
        {
            (Some(path), rest)
        }
        _ => (None, message),
    };
    let span = match e.location() {
        Some(loc) => file.span_at(loc.index(), token_len(&file.text, loc.index())),
        None => file.span_at(file.text.len(), 0),
    };
    let mut err = SpecError::new(file, span, op, field, message);
    if message.contains("unknown field") {
        err = err.help("spec/README.md lists the keys each part of a spec may have");
    } else if message.contains("missing field") {
        err = err.help("add the key; spec/README.md says what it holds");
    } else if message.contains("unknown variant") {
        err = err.help("use one of the values listed");
    } else if message.contains("recursion limit") || message.contains("repetition limit") {
        err = err.help("spec files need no deeply nested or repeated aliases; write the values out");
    }
    err
}

/// Length of the word at `offset`, for marking it.
fn token_len(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .map(|rest| rest.find(|c: char| c.is_whitespace() || c == ':' || c == ',').unwrap_or(rest.len()))
        .unwrap_or(0)
        .max(1)
}
