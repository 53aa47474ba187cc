//! Reading spec files: size and encoding checks, then serde into the spec model.

use crate::diag::{FolderError, FolderErrors, LoadError, SpecError, SpecErrors};
use crate::source::{PositionIndex, SourceFile, Span};
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
///
/// The folder is read predictably: `operations/` must exist and hold at least one
/// `<Action>.yaml`; any other entry (a `.yml` file, another extension, a subfolder, a name that
/// is not UTF-8 or holds control characters) is an error, except hidden entries (`.name`, such
/// as editor swap files), which are skipped. Only regular files are read: a symlink is followed
/// when it leads to a regular file inside `spec_dir`, and refused otherwise; FIFOs, sockets and
/// devices are refused without being opened for a blocking read. A file's size is checked from
/// its metadata before it is read, and the read itself stops past [`MAX_FILE_BYTES`].
pub fn load_dir(root: &Path, spec_dir: &str) -> Result<Loaded, LoadError> {
    let mut folder = FolderErrors::default();
    let mut errors = SpecErrors::default();
    let boundary = std::fs::canonicalize(root.join(spec_dir))
        .map_err(|source| LoadError::Io { path: spec_dir.to_owned(), source })?;
    let service_rel = format!("{spec_dir}/service.yaml");
    let service = read_spec_file(root, &service_rel, &boundary, spec_dir, &mut folder, &mut errors)?;

    let ops_rel = format!("{spec_dir}/operations");
    let mut names = Vec::new();
    match std::fs::symlink_metadata(root.join(&ops_rel)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => folder.errors.push(FolderError {
            path: ops_rel.clone(),
            message: "the operations folder is missing".to_owned(),
            help: Some("create it, with one `<Action>.yaml` file per operation of the API".to_owned()),
        }),
        Err(source) => return Err(LoadError::Io { path: ops_rel, source }),
        Ok(m) if !m.is_dir() => folder.errors.push(FolderError {
            path: ops_rel.clone(),
            message: format!("`operations` is {}, not a folder", kind_of(&m)),
            help: Some("make it a folder holding one `<Action>.yaml` file per operation".to_owned()),
        }),
        Ok(_) => {
            let entries = std::fs::read_dir(root.join(&ops_rel))
                .map_err(|source| LoadError::Io { path: ops_rel.clone(), source })?;
            let mut listed = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| LoadError::Io { path: ops_rel.clone(), source })?;
                listed.push(entry.file_name());
            }
            listed.sort();
            for name in listed {
                let shown = format!("{ops_rel}/{}", shown_name(&name));
                let Some(utf8) = name.to_str().filter(|n| !n.chars().any(char::is_control)) else {
                    folder.errors.push(FolderError {
                        path: shown,
                        message: "the file name is not UTF-8 text, or holds control characters".to_owned(),
                        help: Some(
                            "name each operation file `<Action>.yaml`, after the API action".to_owned(),
                        ),
                    });
                    continue;
                };
                if utf8.starts_with('.') {
                    continue;
                }
                let lower = utf8.to_ascii_lowercase();
                if utf8.ends_with(".yaml") {
                    names.push(utf8.to_owned());
                } else if lower.ends_with(".yml") || lower.ends_with(".yaml") {
                    let stem = &utf8[..utf8.rfind('.').unwrap_or(utf8.len())];
                    folder.errors.push(FolderError {
                        path: shown,
                        message: "spec files end in `.yaml`; this one is not read".to_owned(),
                        help: Some(format!("rename it to `{stem}.yaml`")),
                    });
                } else {
                    folder.errors.push(FolderError {
                        path: shown,
                        message: "`operations/` holds only `<Action>.yaml` files".to_owned(),
                        help: Some(
                            "move this entry out of the spec folder (hidden entries, `.name`, are skipped)"
                                .to_owned(),
                        ),
                    });
                }
            }
            if names.is_empty() && folder.errors.is_empty() {
                folder.errors.push(FolderError {
                    path: ops_rel.clone(),
                    message: "the operations folder holds no operation".to_owned(),
                    help: Some("a spec has at least one `operations/<Action>.yaml`; generating from none would delete every operation".to_owned()),
                });
            }
        }
    }
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let rel = format!("{ops_rel}/{name}");
        if let Some(bytes) = read_spec_file(root, &rel, &boundary, spec_dir, &mut folder, &mut errors)? {
            files.push((rel, bytes));
        }
    }
    if !folder.errors.is_empty() {
        return Err(folder.into());
    }
    let Some(service) = service else { return Err(errors.into()) };
    match load_files((service_rel, service), files) {
        Err(LoadError::Spec(mut more)) => {
            errors.errors.append(&mut more.errors);
            Err(errors.into())
        }
        Ok(_) if !errors.is_empty() => Err(errors.into()),
        other => other,
    }
}

/// A file name as it is, with bytes that are not UTF-8 as `\xNN` and control characters escaped.
fn shown_name(name: &std::ffi::OsStr) -> String {
    let mut out = String::new();
    for chunk in name.as_encoded_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

fn kind_of(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if m.is_dir() {
        "a folder"
    } else if m.file_type().is_symlink() {
        "a symlink"
    } else if m.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Reads one spec file: regular files only, size from the metadata first, a bounded read. A
/// problem with the entry goes to `folder`, an oversized file to `errors`; both give `Ok(None)`.
fn read_spec_file(
    root: &Path,
    rel: &str,
    boundary: &Path,
    spec_dir: &str,
    folder: &mut FolderErrors,
    errors: &mut SpecErrors,
) -> Result<Option<Vec<u8>>, LoadError> {
    let io = |source| LoadError::Io { path: rel.to_owned(), source };
    let mut refuse = |message: String, help: &str| {
        folder.errors.push(FolderError { path: rel.to_owned(), message, help: Some(help.to_owned()) });
        Ok(None)
    };
    let path = root.join(rel);
    let meta = match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return refuse("the file is missing".to_owned(), "every spec folder has a `service.yaml`");
        }
        Err(e) => return Err(io(e)),
        Ok(m) => m,
    };
    let meta = if meta.file_type().is_symlink() {
        let Ok(real) = std::fs::canonicalize(&path) else {
            return refuse(
                "a symlink that leads nowhere".to_owned(),
                "point it at a file, or replace it by the file",
            );
        };
        if !real.starts_with(boundary) {
            return refuse(
                format!("a symlink leading out of `{spec_dir}`"),
                "spec files live inside the spec folder; copy the file in instead of linking to it",
            );
        }
        std::fs::metadata(&real).map_err(io)?
    } else {
        meta
    };
    if !meta.is_file() {
        return refuse(
            format!("{}, not a regular file; it is not read", kind_of(&meta)),
            "spec files are plain files",
        );
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        errors.push(oversized(rel, meta.len(), operation_hint(rel)));
        return Ok(None);
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Should the file be swapped for a FIFO after the check, opening it must not block.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(&path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return refuse(
            format!("{}, not a regular file; it is not read", kind_of(&meta)),
            "spec files are plain files",
        );
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(MAX_FILE_BYTES) + 1);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_FILE_BYTES as u64 + 1), &mut bytes)
        .map_err(io)?;
    if bytes.len() > MAX_FILE_BYTES {
        errors.push(oversized(rel, bytes.len() as u64, operation_hint(rel)));
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// A file over [`MAX_FILE_BYTES`], reported at its start.
fn oversized(name: &str, len: u64, op: Option<&str>) -> SpecError {
    let file = SourceFile { name: name.to_owned(), text: "".into() };
    SpecError::new(
        &file,
        file.span_at(0, 0),
        op,
        None,
        format!("the file is {len} bytes, more than the {MAX_FILE_BYTES} a spec file may have"),
    )
    .help("a spec file describes one operation; split or shorten it")
}

/// Parses a service file and operation files given as (name, bytes), collecting every file's
/// problems before failing.
pub fn load_files(
    service: (String, Vec<u8>),
    operations: Vec<(String, Vec<u8>)>,
) -> Result<Loaded, LoadError> {
    let mut errors = SpecErrors::default();
    let service = parse_file_of::<spec::Service>(&service.0, &service.1, None, &mut errors);
    let mut ops = Vec::with_capacity(operations.len());
    for (name, bytes) in &operations {
        if let Some(op) = parse_file_of::<spec::Operation>(name, bytes, operation_hint(name), &mut errors) {
            ops.push(op);
        }
    }
    match service {
        Some(service) if errors.is_empty() => Ok(Loaded { service, operations: ops }),
        _ => Err(errors.into()),
    }
}

/// Parses one file into `T`, pushing its problems onto `errors`. Diagnostics name the operation
/// after the file (`operations/<Action>.yaml`).
pub fn parse_file<T: DeserializeOwned>(
    name: &str,
    bytes: &[u8],
    errors: &mut SpecErrors,
) -> Option<(SourceFile, T)> {
    parse_file_of(name, bytes, operation_hint(name), errors)
}

/// Parses one file into `T`; `op` is the operation its diagnostics name, if any.
fn parse_file_of<T: DeserializeOwned>(
    name: &str,
    bytes: &[u8],
    op: Option<&str>,
    errors: &mut SpecErrors,
) -> Option<(SourceFile, T)> {
    if bytes.len() > MAX_FILE_BYTES {
        errors.push(oversized(name, bytes.len() as u64, op));
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
    let blank = |l: &str| l.trim().is_empty() || l.trim() == "\u{feff}";
    if file.text.lines().all(|l| blank(l) || l.trim_start().starts_with('#')) {
        let message = if file.text.lines().all(blank) {
            "the file is empty"
        } else {
            "the file holds nothing but comments"
        };
        errors.push(
            SpecError::new(&file, file.span_at(0, 1), op, None, message)
                .help("expected a YAML mapping; see spec/README.md for the keys a spec file has"),
        );
        return None;
    }
    if let Some(e) = hidden_or_control_character(&file, op) {
        errors.push(e);
        return None;
    }
    // Limits before the YAML parser that serde uses runs: its time grows with the square of the
    // nesting depth, and it expands aliases without a size limit.
    if let Err(e) = check_structure(&file, op) {
        errors.push(e);
        return None;
    }
    // Syntax first: the typed pass stops at the first value that does not fit, which may come
    // before a syntax error further down and make it look like a missing key.
    if let Err(e) = serde_yaml::from_str::<serde::de::IgnoredAny>(&file.text) {
        // A tab in the indentation is the usual cause, and libyaml's words for it are obscure.
        // (Tabs inside a block scalar, such as an XML example, are content and parse fine.)
        let error_line = e.location().map_or(usize::MAX, |l| l.line());
        let tab = tab_indentation(&file, op).filter(|t| t.span_line <= error_line);
        errors.push(tab.map_or_else(|| serde_error(&file, op, &e), |t| t.error));
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

/// Deepest nesting of collections a spec file may have; real ones nest about a dozen levels.
pub const MAX_DEPTH: usize = 64;

/// Most YAML nodes a file may have, aliases counted as the nodes they repeat.
pub const MAX_NODES: usize = 100_000;

/// Most text that aliases may repeat in one file, in bytes.
pub const MAX_ALIAS_BYTES: usize = 1024 * 1024;

/// Characters that hide or reorder text, or that rustc and rustdoc refuse, with their names.
fn forbidden_character(c: char, offset: usize) -> Option<&'static str> {
    Some(match c {
        '\t' | '\n' | '\r' => return None,
        '\0' => "NUL",
        '\u{feff}' if offset == 0 => return None,
        '\u{feff}' => "a ZERO WIDTH NO-BREAK SPACE (byte order mark) inside the text",
        '\u{85}' => "NEXT LINE (NEL), a line break YAML parsers disagree on",
        '\u{2028}' | '\u{2029}' => "a LINE or PARAGRAPH SEPARATOR, a line break YAML parsers disagree on",
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            "a bidirectional control character, which reorders how text is shown"
        }
        '\u{200b}'..='\u{200d}'
        | '\u{2060}'..='\u{2064}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{e0000}'..='\u{e007f}' => "an invisible character, which hides text",
        c if c.is_control() => "a control character",
        _ => return None,
    })
}

/// The first character that hides or reorders text or that rustc refuses (NUL, other control
/// characters but tab and line breaks, bidi controls, invisible characters), located.
fn hidden_or_control_character(file: &SourceFile, op: Option<&str>) -> Option<SpecError> {
    let (offset, c, what) =
        file.text.char_indices().find_map(|(i, c)| forbidden_character(c, i).map(|what| (i, c, what)))?;
    let span = file.span_at(offset, c.len_utf8());
    Some(
        SpecError::new(file, span, op, None, format!("the file holds U+{:04X}, {what}", u32::from(c)))
            .label("this character")
            .help("spec text becomes Rust source and docs; remove the character, or write what it means in words"),
    )
}

/// Nesting depth, node count, alias expansion and tags, checked with a YAML parser that stops as
/// soon as a limit is passed. Syntax errors are left to the parser serde uses, whose messages
/// the diagnostics know, unless what follows could make that parser slow.
#[allow(clippy::result_large_err)] // called once per file; the error is pushed as it is
fn check_structure(file: &SourceFile, op: Option<&str>) -> Result<(), SpecError> {
    use yaml_rust2::Event;
    let to_byte = crate::source::CharToByte::new(&file.text);
    let at = |index: usize, what: &str, help: &str| {
        let offset = to_byte.byte(index);
        SpecError::new(file, file.span_at(offset, 1), op, None, what.to_owned()).help(help.to_owned())
    };
    let mut parser = yaml_rust2::parser::Parser::new_from_str(&file.text);
    let mut depth = 0usize;
    let mut nodes = 0usize;
    let mut alias_bytes = 0usize;
    let mut scalar_bytes = 0usize;
    // Anchored collections still open: (anchor id, nodes before, scalar bytes before).
    let mut open: Vec<(usize, usize, usize)> = Vec::new();
    // Per anchor id: (nodes, scalar bytes) it stands for.
    let mut anchors: std::collections::HashMap<usize, (usize, usize)> = std::collections::HashMap::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(e) => e,
            Err(e) => {
                let offset = to_byte.byte(e.marker().index());
                if e.info().contains("recursion limit") {
                    return Err(at(
                        e.marker().index(),
                        "values are nested too deeply",
                        "a spec nests a few levels at most; write the structure out flat",
                    ));
                }
                // The other parser reports the syntax error, unless the rest of the file holds
                // enough brackets to nest deeply: then this parser's word is final.
                let brackets = file.text[offset.min(file.text.len())..].matches(['[', '{']).count();
                if brackets > MAX_DEPTH {
                    return Err(at(
                        e.marker().index(),
                        &format!("YAML syntax error: {}", e.info()),
                        "check the indentation, quotes and brackets around here",
                    ));
                }
                return Ok(());
            }
        };
        let tagged = match &event {
            Event::Scalar(_, _, _, tag) => tag.is_some(),
            Event::SequenceStart(_, tag) | Event::MappingStart(_, tag) => tag.is_some(),
            _ => false,
        };
        if tagged {
            let start = to_byte.byte(mark.index()).min(file.text.len());
            // The event is marked at its node's content; the tag is the last `!` word before it
            // (after the tag come only blanks, line breaks and perhaps an anchor).
            let before = &file.text[..start];
            let tag_at = before
                .rfind('!')
                .map(|i| {
                    before[..i].rfind(|c: char| c.is_whitespace() || "[{,".contains(c)).map_or(0, |j| j + 1)
                })
                .unwrap_or(start);
            let len = file.text[tag_at..].find(char::is_whitespace).unwrap_or(file.text.len() - tag_at);
            return Err(SpecError::new(file, file.span_at(tag_at, len), op, None, "spec files use no YAML tags")
                .label("tag")
                .help("write the plain value: a tag (`!name`, `!!str`) changes how a value is read, and no key of a spec needs one"));
        }
        match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                nodes += 1;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(at(
                        mark.index(),
                        "values are nested too deeply",
                        "a spec nests a few levels at most; write the structure out flat",
                    ));
                }
                open.push((anchor, nodes, scalar_bytes));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                if let Some((anchor, nodes_before, bytes_before)) = open.pop()
                    && anchor > 0
                {
                    anchors.insert(anchor, (nodes - nodes_before + 1, scalar_bytes - bytes_before));
                }
            }
            Event::Scalar(value, _, anchor, _) => {
                nodes += 1;
                scalar_bytes += value.len();
                if anchor > 0 {
                    anchors.insert(anchor, (1, value.len()));
                }
            }
            Event::Alias(id) => {
                let (n, b) = anchors.get(&id).copied().unwrap_or((1, 0));
                nodes = nodes.saturating_add(n);
                scalar_bytes = scalar_bytes.saturating_add(b);
                alias_bytes = alias_bytes.saturating_add(b);
                if alias_bytes > MAX_ALIAS_BYTES || nodes > MAX_NODES {
                    return Err(at(
                        mark.index(),
                        "the aliases (`*name`) in this file expand to too many values",
                        "spec files need no aliases that repeat other aliases; write the values out",
                    )
                    .label("this alias passes the limit"));
                }
            }
            _ => {}
        }
        if nodes > MAX_NODES {
            return Err(at(
                mark.index(),
                &format!("the file has more than {MAX_NODES} values"),
                "a spec file describes one operation; real ones have a few hundred values",
            ));
        }
    }
}

/// The worst operation files the size limit allows, each after `head` (the first lines of an
/// operation), with a phrase its one diagnostic contains. For the tests and the benchmark.
pub fn worst_inputs(head: &str) -> Vec<(&'static str, String, &'static str)> {
    let room = MAX_FILE_BYTES - head.len() - 64;
    let flow = |open: &str, close: &str| {
        let n = room / (open.len() + close.len());
        format!("{head}examples:\n  json: {}{}\n", open.repeat(n), close.repeat(n))
    };
    let mut block = String::from(head);
    block.push_str("x:\n");
    let mut level = 1;
    while block.len() + 2 * level + 8 < MAX_FILE_BYTES {
        block.push_str(&" ".repeat(level));
        block.push_str("- \n");
        level += 1;
    }
    let aliases = {
        let mut t = format!(
            "{head}parameters:\n  - name: A\n    in: query\n    type: string\n    description: &d \"{}\"\n    example: [",
            "x".repeat(64)
        );
        while t.len() + 8 < MAX_FILE_BYTES {
            t.push_str("*d,");
        }
        t.push_str("*d]\n");
        t
    };
    let nodes = {
        let mut t = format!(
            "{head}parameters:\n  - name: A\n    in: query\n    type: string\n    description: A.\n    example: ["
        );
        while t.len() + 8 < MAX_FILE_BYTES {
            t.push_str("1,");
        }
        t.push_str("1]\n");
        t
    };
    let quadratic_keys = {
        // Many one-line flow mappings with long implicit keys: work for the simple-key scanner.
        let mut t = format!("{head}x: [");
        let key = "k".repeat(1000);
        while t.len() + key.len() + 16 < MAX_FILE_BYTES {
            t.push_str(&format!("{{{key}: 1}},"));
        }
        t.push_str("0]\n");
        t
    };
    let early_error = {
        let n = (room - 16) / 2;
        format!("{head}x: `bad\ny: {}{}\n", "[".repeat(n), "]".repeat(n))
    };
    vec![
        ("SyntaxErrorBeforeDeepFlow", early_error, "YAML syntax error"),
        ("DeepFlowSequences", flow("[", "]"), "nested too deeply"),
        ("DeepFlowMappings", flow("{a: ", "}"), "nested too deeply"),
        ("DeepBlockSequences", block, "nested too deeply"),
        ("AliasedString", aliases, "aliases"),
        ("ManyNodes", nodes, "values"),
        ("LongFlowKeys", quadratic_keys, "unknown key"),
    ]
}

/// The operation a file describes, judged by its name, for messages about files that did not
/// parse.
fn operation_hint(name: &str) -> Option<&str> {
    let stem = name.rsplit('/').next()?.strip_suffix(".yaml")?;
    (stem != "service").then_some(stem)
}

/// A tab in a line's indentation, and its line.
struct TabIndent {
    error: SpecError,
    span_line: usize,
}

fn tab_indentation(file: &SourceFile, op: Option<&str>) -> Option<TabIndent> {
    let mut offset = 0;
    for line in crate::source::lines(&file.text) {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(tab) = line[..indent].find('\t') {
            let span = file.span_at(offset + tab, 1);
            let error = SpecError::new(file, span, op, None, "a tab is used for indentation")
                .label("tab")
                .help("YAML indents with spaces only; replace the tab with spaces");
            return Some(TabIndent { error, span_line: span.line });
        }
        offset += line.len();
    }
    None
}

/// A libyaml message split up: `<problem> at line L column C, while <context> at line L2
/// column C2`.
struct SyntaxMessage<'a> {
    problem: &'a str,
    context: Option<&'a str>,
    /// 1-based line and column where the context (the construct being read) started.
    context_mark: Option<(usize, usize)>,
}

fn parse_syntax_message(message: &str) -> SyntaxMessage<'_> {
    fn strip_mark(s: &str) -> (&str, Option<(usize, usize)>) {
        if let Some(i) = s.rfind(" at line ") {
            let rest = &s[i + " at line ".len()..];
            if let Some((line, col)) = rest.split_once(" column ")
                && let (Ok(l), Ok(c)) = (line.parse(), col.parse())
            {
                return (&s[..i], Some((l, c)));
            }
        }
        (s, None)
    }
    match message.split_once(", while ") {
        Some((problem, context)) => {
            let (problem, _) = strip_mark(problem);
            let (context, context_mark) = strip_mark(context);
            SyntaxMessage { problem, context: Some(context), context_mark }
        }
        None => SyntaxMessage { problem: strip_mark(message).0, context: None, context_mark: None },
    }
}

fn serde_error(file: &SourceFile, op: Option<&str>, e: &serde_yaml::Error) -> SpecError {
    let full = e.to_string();
    // serde_yaml prefixes the path of the offending node: "parameters[0]: unknown field ..."
    let (field, rest) = match full.split_once(": ") {
        Some((path, rest))
            if !path.is_empty()
                && path.chars().all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c))
                && !rest.starts_with("line ") =>
        {
            (Some(path), rest)
        }
        _ => (None, full.as_str()),
    };
    let msg = parse_syntax_message(rest);
    let mut span = match e.location() {
        // Line and column rather than the index, which libyaml counts in characters.
        Some(loc) => {
            let offset = file.span_at_line_col(loc.line(), loc.column(), 1).offset;
            file.span_at(offset, token_len(&file.text, offset))
        }
        None => file.span_at(file.text.len(), 0),
    };
    let mut label = "here".to_owned();
    let at_context = |span: &mut Span| {
        if let Some((line, column)) = msg.context_mark {
            *span = file.span_at_line_col(line, column, 1);
        }
    };
    let (message, help): (String, Option<String>) = match (msg.problem, msg.context) {
        // ---- YAML syntax (libyaml's wording, rephrased) ----
        ("found unexpected end of stream", Some("scanning a quoted scalar")) => {
            at_context(&mut span);
            label = "opening quote".to_owned();
            (
                "this quoted string is never closed".to_owned(),
                Some("end the value with the same quote it starts with (`\"` or `'`)".to_owned()),
            )
        }
        (p, Some("parsing a flow sequence")) if p.starts_with("did not find expected ',' or ']'") => {
            at_context(&mut span);
            label = "opened here".to_owned();
            (
                "this `[` list is never closed".to_owned(),
                Some("close it with `]`, or write the list as `- item` lines".to_owned()),
            )
        }
        (p, Some("parsing a flow mapping")) if p.starts_with("did not find expected ',' or '}'") => {
            at_context(&mut span);
            label = "opened here".to_owned();
            (
                "this `{` mapping is never closed".to_owned(),
                Some("close it with `}`, or write the keys as indented `key: value` lines".to_owned()),
            )
        }
        ("could not find expected ':'", Some("scanning a simple key")) => {
            at_context(&mut span);
            span.len = token_len(&file.text, span.offset);
            (
                "this line has no `:` after its key".to_owned(),
                Some("write `key: value`, with a space after the colon".to_owned()),
            )
        }
        ("mapping values are not allowed in this context", _) => (
            "a `:` is not allowed here: the line is indented deeper than the key above it, or an \
             unquoted value holds a colon"
                .to_owned(),
            Some(
                "indent the keys of one mapping to the same column; quote a value that contains `: `"
                    .to_owned(),
            ),
        ),
        ("did not find expected key", Some("parsing a block mapping")) => (
            "this line does not fit the mapping it is in: its indentation is wrong, or it is not a \
             `key: value` line"
                .to_owned(),
            Some("the keys of one mapping start in the same column".to_owned()),
        ),
        ("did not find expected '-' indicator", _) => (
            "this line does not fit the list it is in: its indentation is wrong, or it is not a \
             `- item` line"
                .to_owned(),
            Some("the items of one list start with `-` in the same column".to_owned()),
        ),
        ("did not find expected node content", _) => {
            ("a value is missing here".to_owned(), Some("write the value, or remove the line".to_owned()))
        }
        ("found character that cannot start any token", _) => {
            let c = file.text[span.offset..].chars().next().unwrap_or(' ');
            span.len = c.len_utf8();
            (format!("`{c}` cannot start a value"), Some("quote the value: `key: \"...\"`".to_owned()))
        }
        ("unknown anchor", _) => {
            let alias = file.text.get(span.offset..span.offset + span.len).unwrap_or("*");
            let name = alias.trim_start_matches('*');
            (
                format!("the alias `{alias}` refers to no anchor: `&{name}` is not defined above it"),
                Some(format!("define the value first with `&{name}`, or write the value out")),
            )
        }
        (p, _) if p.contains("more than one document") => {
            if let Some(s) = second_document(file) {
                span = s;
            }
            (
                "the file holds more than one YAML document".to_owned(),
                Some("a spec file is a single document; remove the `---` line and what follows, or move it to a file of its own".to_owned()),
            )
        }
        ("recursion limit exceeded", _) => (
            "values are nested too deeply".to_owned(),
            Some("a spec nests a few levels at most; write the structure out flat".to_owned()),
        ),
        ("repetition limit exceeded", _) => {
            if let Some(s) = PositionIndex::build(file).first_alias() {
                span = s;
                label = "first alias".to_owned();
            }
            (
                "the aliases (`*name`) in this file expand to too many values".to_owned(),
                Some("spec files need no aliases that repeat other aliases; write the values out".to_owned()),
            )
        }
        // ---- the data does not match the spec model ----
        (p, None) if p.starts_with("unknown field `") => {
            let help = match did_you_mean(p) {
                Some(s) => {
                    format!("did you mean `{s}`? spec/README.md lists the keys each part of a spec may have")
                }
                None => "spec/README.md lists the keys each part of a spec may have".to_owned(),
            };
            (p.replacen("unknown field", "unknown key", 1), Some(help))
        }
        (p, None) if p.starts_with("unknown variant `") => {
            let value = backticked(p).unwrap_or_default();
            let help = if value.contains([' ', '\n']) {
                "the value runs on: is a `[`, `{` or quote before it left open?".to_owned()
            } else {
                match did_you_mean(p) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "use one of the values listed".to_owned(),
                }
            };
            (p.replacen("unknown variant", "unknown value", 1), Some(help))
        }
        (p, None) if p.starts_with("missing field `") => {
            let key = backticked(p).unwrap_or_default();
            label = format!("no `{key}` in this mapping");
            (
                format!("the required key `{key}` is missing"),
                Some(format!("add `{key}:`; spec/README.md says what it holds")),
            )
        }
        (p, None) if p.starts_with("duplicate field `") || p.starts_with("duplicate entry with key ") => {
            let key = backticked(p)
                .or_else(|| p.strip_prefix("duplicate entry with key ").map(|k| k.trim_matches('"')))
                .unwrap_or_default();
            let path = match field {
                Some(f) => format!("{f}.{key}"),
                None => key.to_owned(),
            };
            let index = PositionIndex::build(file);
            if let Some(s) = index.duplicate_key(&path) {
                span = s;
                label = "again here".to_owned();
            }
            let first = index.key(&path).map(|s| s.line);
            (
                format!("the key `{key}` appears twice in one mapping"),
                Some(match first {
                    Some(l) => format!("it is first given on line {l}; keep one of them"),
                    None => "keep one of them".to_owned(),
                }),
            )
        }
        (p, None) if p.starts_with("invalid type: ") || p.starts_with("invalid value: ") => {
            let (found, expected) = p.split_once(", expected ").unwrap_or((p, ""));
            let found = found.trim_start_matches("invalid type: ").trim_start_matches("invalid value: ");
            let found = match found {
                "unit value" => "nothing (null)".to_owned(),
                "sequence" => "a list".to_owned(),
                "map" => "a mapping".to_owned(),
                f => f.to_owned(),
            };
            let (expected, help) = expected_phrase(expected, &found, field);
            (format!("expected {expected}, found {found}"), help)
        }
        (p, Some(context)) => (
            format!("YAML syntax error: {p}, while {context}"),
            Some("check the indentation, quotes and brackets around here".to_owned()),
        ),
        (p, None) => (p.to_owned(), None),
    };
    let mut err = SpecError::new(file, span, op, field, message).label(label);
    err.help = help;
    err
}

/// What serde's `expected ...` means in a spec, and a hint for the value at `field`, given
/// what was found instead.
fn expected_phrase(expected: &str, found: &str, field: Option<&str>) -> (String, Option<String>) {
    let last = field.map(|f| f.rsplit(['.', '[']).next().unwrap_or(f)).unwrap_or("");
    let keys = |what: &str, keys: &str| format!("a mapping of {what}'s keys ({keys})");
    let phrase = match (expected, last) {
        (_, "status") => "an HTTP status, a number from 100 to 599".to_owned(),
        ("a boolean", _) => "`true` or `false`".to_owned(),
        ("a string", _) => "text".to_owned(),
        ("a sequence", _) => "a list".to_owned(),
        ("u16", _) => "a whole number from 0 to 65535".to_owned(),
        ("u32", _) => "a whole number from 0 to 4294967295".to_owned(),
        ("u64", _) => "a whole number, 0 or more".to_owned(),
        ("i64", _) => "a whole number".to_owned(),
        ("struct Operation", _) => keys("an operation", "`name`, `summary`, `method`, ..."),
        ("struct Service", _) => keys("the service", "`name`, `code`, `api_version`, ..."),
        ("struct Parameter", _) => keys("a parameter", "`name`, `in`, `type`, `description`, ..."),
        ("struct Field", _) => keys("a field", "`name`, `type`, `description`, ..."),
        ("struct Schema", _) => keys("an element type", "`type`, ..."),
        ("struct ErrorDef", _) => keys("an error", "`status`, `code`, `description`, ..."),
        ("struct Paging", _) => keys("paging", "`style`, `input`, `output`, `items`, ..."),
        ("struct Endpoints", _) => keys("the endpoints", "`public`, `vpc`"),
        ("struct EnumDef", _) => keys("an enumeration", "`name`, `description`, `values`"),
        ("struct EnumValue", _) => keys("an enumeration value", "`value`, `description`"),
        ("struct Examples", _) => keys("the examples", "`json`, `xml`"),
        (other, _) => other.to_owned(),
    };
    let help = match (expected, last) {
        (_, "status") => "e.g. `status: 400`".to_owned(),
        (_, "qps_limit") => "calls per second, e.g. `qps_limit: 500`".to_owned(),
        (_, "minimum" | "maximum") => "an integer bound, e.g. `minimum: 1`".to_owned(),
        (_, "min_length" | "max_length" | "max_items") => "a count, e.g. `max_length: 64`".to_owned(),
        ("a boolean", _) => format!("`{last}: true` or `{last}: false`"),
        ("a string", _) if found == "a mapping" => {
            "text that contains `: ` must be quoted, e.g. `description: \"Note: ...\"`".to_owned()
        }
        ("a string", _) if found == "a list" => "write the text, not a list".to_owned(),
        ("a string", _) => "quote the value: `\"...\"`".to_owned(),
        ("a sequence", _) => "write each element on a line of its own, starting with `- `".to_owned(),
        (e, _) if e.starts_with("struct ") => {
            "write the keys as indented `key: value` lines; spec/README.md lists them".to_owned()
        }
        _ => "spec/README.md says what each key holds".to_owned(),
    };
    (phrase, Some(help))
}

/// The first `...` quoted in `message`.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// For `unknown field `x`, expected one of `a`, `b``: the listed name closest to `x`, if one is
/// close.
fn did_you_mean(message: &str) -> Option<&str> {
    let given = backticked(message)?;
    let (_, listed) = message.split_once("expected ")?;
    listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (edit_distance(&given.to_lowercase(), &cand.to_lowercase()), cand))
        .filter(|(d, cand)| *d <= (cand.chars().count() / 3).max(1))
        .fold((usize::MAX, None), |(best, found), (d, cand)| match d.cmp(&best) {
            std::cmp::Ordering::Less => (d, Some(cand)),
            // Two equally close names: no guess.
            std::cmp::Ordering::Equal => (d, None),
            std::cmp::Ordering::Greater => (best, found),
        })
        .1
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Where a second YAML document starts: a `---`, `...` or `%` directive line after content.
fn second_document(file: &SourceFile) -> Option<Span> {
    let mut offset = 0;
    let mut content = false;
    for line in crate::source::lines(&file.text) {
        let marker = line.starts_with("---") || line.starts_with("...") || line.starts_with('%');
        if marker && content {
            return Some(file.span_at(offset, line.trim_end().len()));
        }
        let t = line.trim();
        content |= !marker && !t.is_empty() && !t.starts_with('#');
        offset += line.len();
    }
    None
}

/// Length of the word at `offset`, for marking it.
fn token_len(text: &str, offset: usize) -> usize {
    let Some(rest) = text.get(offset..) else { return 1 };
    if rest.starts_with(['[', '{']) {
        return 1;
    }
    rest.find(|c: char| c.is_whitespace() || c == ':' || c == ',').unwrap_or(rest.len()).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_listed_name() {
        let m = "unknown field `requird`, expected one of `name`, `required`, `description`";
        assert_eq!(did_you_mean(m), Some("required"));
        assert_eq!(did_you_mean("unknown variant `post`, expected `POST` or `GET`"), Some("POST"));
        assert_eq!(did_you_mean("unknown field `colour`, expected `name` or `type`"), None);
        assert_eq!(did_you_mean("unknown variant `v2`, expected `v3` or `v1`"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn splits_libyaml_messages() {
        let m = parse_syntax_message(
            "found unexpected end of stream at line 17 column 1, while scanning a quoted scalar at line 3 column 10",
        );
        assert_eq!(m.problem, "found unexpected end of stream");
        assert_eq!(m.context, Some("scanning a quoted scalar"));
        assert_eq!(m.context_mark, Some((3, 10)));
        let m = parse_syntax_message("unknown anchor at line 2 column 4");
        assert_eq!((m.problem, m.context, m.context_mark), ("unknown anchor", None, None));
    }
}
