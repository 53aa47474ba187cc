//! Bad input never makes the generator panic, and every broken spec gets a clear diagnostic.
//!
//! `tests/bad-specs/` holds one broken spec per file, each loaded with the real
//! `spec/onsmqtt/service.yaml`:
//!
//! - `<Name>.yaml` is an operation file; apart from its one mistake it is named after the `name`
//!   it declares, so that the file-name check stays quiet.
//! - `service_*.yaml` is a service file, loaded with the reference operation
//!   `QuerySessionByClientId.yaml`.
//! - a folder is one case made of several operation files (every `*.yaml` below it), for
//!   mistakes that span files.
//!
//! Each case must fail without panicking; the plain rendering of its diagnostics is kept as a
//! snapshot (`snapshots/bad_specs__bad_spec@<case>.snap`) and must start with the
//! `file:line:column` of the case. `InvalidUtf8.yaml` holds Latin-1 bytes on purpose (marked
//! `binary` in .gitattributes; to recreate it:
//! `printf '# Bad spec case: Latin-1 bytes in a UTF-8 file.\nname: InvalidUtf8\nsummary: Looks up one client \xe9t\xe9.\n' > tests/bad-specs/InvalidUtf8.yaml`);
//! the oversized file and the worst inputs the limits allow (deep nesting, alias bombs, too many
//! values; `load::worst_inputs`) are generated here rather than committed. Cases holding control
//! characters or other line endings (`NulCharacter`, `LoneCarriageReturn`, `CrlfLineEndings`, ...)
//! are marked `binary` in .gitattributes so their bytes stay exact.
//!
//! `tests/good-specs/` holds specs that look risky but are valid (Rust keywords as names, tabs
//! inside a block scalar): they must generate code that parses, and the lines with escaped names
//! are kept as snapshots.
//!
//! Finally, property tests feed random bytes and random mutations of the real spec through the
//! whole pipeline and the diagnostic renderer; the `fuzz/` target `spec_pipeline` does the same
//! for longer (`cargo xtask fuzz`).

use onsmqtt_codegen::{Error, GeneratedFile, LoadError, SpecErrors, load};
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

const SERVICE: &str = "spec/onsmqtt/service.yaml";
const OPERATIONS: &str = "spec/onsmqtt/operations";
/// The reference operation, loaded with the service-file cases.
const REFERENCE: &str = "spec/onsmqtt/operations/QuerySessionByClientId.yaml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// `path` relative to the workspace root, with `/` separators, as diagnostics name it.
fn rel(path: &Path) -> String {
    let r = path.strip_prefix(root()).unwrap_or(path);
    r.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn read(rel: &str) -> (String, Vec<u8>) {
    let bytes = std::fs::read(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"));
    (rel.to_owned(), bytes)
}

fn real_operations() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(root().join(OPERATIONS))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    names.iter().map(|n| read(&format!("{OPERATIONS}/{n}"))).collect()
}

/// Every `*.yaml` below `dir`, sorted.
fn yaml_files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned())
}

/// The whole pipeline, load to emit; a panic is turned into `Err(message)`.
fn pipeline(
    service: (String, Vec<u8>),
    operations: Vec<(String, Vec<u8>)>,
) -> Result<Result<Vec<GeneratedFile>, Error>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let loaded = load::load_files(service, operations)?;
        onsmqtt_codegen::generate_loaded(&loaded)
    }))
    .map_err(|p| panic_message(&*p))
}

/// Runs `case` and returns its diagnostics, failing the test (naming the case) when the
/// generator panics, accepts the spec, or fails anywhere but in the spec checks.
fn expect_spec_errors(
    case: &str,
    service: (String, Vec<u8>),
    operations: Vec<(String, Vec<u8>)>,
) -> SpecErrors {
    let rendered = catch_unwind(AssertUnwindSafe(|| match pipeline(service, operations) {
        Err(panic) => Err(format!("the generator panicked: {panic}")),
        Ok(Ok(_)) => Err("the spec was accepted".to_owned()),
        Ok(Err(Error::Load(LoadError::Spec(errors)))) => {
            // Rendering must not panic either.
            let _ = errors.render_plain();
            Ok(errors)
        }
        Ok(Err(other)) => Err(format!(
            "failed outside the spec checks, so validation missed something:\n{:?}",
            miette::Report::new(other)
        )),
    }));
    match rendered {
        Ok(Ok(errors)) => errors,
        Ok(Err(why)) => panic!("case {case}: {why}"),
        Err(p) => panic!("case {case}: rendering the diagnostics panicked: {}", panic_message(&*p)),
    }
}

/// The `file:line:column` at the start of a rendered diagnostic's first line, if it names a
/// file below `prefix`.
fn leading_location<'a>(first_line: &'a str, prefix: &str) -> Option<&'a str> {
    let start = first_line.find(prefix)?;
    let rest = &first_line[start..];
    let yaml = rest.find(".yaml:")? + ".yaml:".len();
    let (line, after) = rest[yaml..].split_once(':')?;
    let column: String = after.chars().take_while(char::is_ascii_digit).collect();
    let ok = !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) && !column.is_empty();
    ok.then(|| &rest[..yaml + line.len() + 1 + column.len()])
}

#[test]
fn bad_spec() {
    // `?*`: every file and folder directly inside, but not the folder itself.
    insta::glob!("../bad-specs", "?*", |path| {
        let case = rel(path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (service, operations, files) = if path.is_dir() {
            let files: Vec<String> = yaml_files_below(path).iter().map(|p| rel(p)).collect();
            assert!(files.len() >= 2, "case {case}: a folder case needs several files");
            (read(SERVICE), files.iter().map(|f| read(f)).collect(), files)
        } else if name.starts_with("service_") {
            (read(&case), vec![read(REFERENCE)], vec![case.clone()])
        } else {
            (read(SERVICE), vec![read(&case)], vec![case.clone()])
        };
        let errors = expect_spec_errors(&case, service, operations);
        for e in &errors.errors {
            assert!(
                files.iter().any(|f| e.location.starts_with(&format!("{f}:"))),
                "case {case}: a diagnostic names {} instead of the case",
                e.location
            );
        }
        let rendered = errors.render_plain();
        let first = rendered.lines().next().unwrap_or_default();
        assert!(
            leading_location(first, &case).is_some(),
            "case {case}: the first line does not give the case's file:line:column:\n{rendered}"
        );
        insta::assert_snapshot!(rendered);
    });
}

/// A file over the size limit is refused before it is parsed; generated here, not committed.
#[test]
fn oversized_file() {
    let case = "tests/bad-specs/generated/Oversized.yaml";
    let mut text = String::from("name: Oversized\nsummary: Looks up one client.\n");
    while text.len() <= load::MAX_FILE_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding padding\n");
    }
    let errors = expect_spec_errors(case, read(SERVICE), vec![(case.to_owned(), text.into_bytes())]);
    let rendered = errors.render_plain();
    assert_eq!(errors.errors.len(), 1, "{rendered}");
    let first = rendered.lines().next().unwrap();
    assert_eq!(leading_location(first, case), Some(&*format!("{case}:1:1")), "{rendered}");
    assert!(rendered.contains("more than the 1048576 a spec file may have"), "{rendered}");
}

/// Validation reports every independent problem of a file in one run.
#[test]
fn all_semantic_problems_of_a_file_are_reported_at_once() {
    let case = "tests/bad-specs/ThreeSemanticErrors.yaml";
    let errors = expect_spec_errors(case, read(SERVICE), vec![read(case)]);
    let rendered = errors.render_plain();
    for expected in [
        "minimum 100 is above maximum 1",
        "there is no enumeration `NoSuchEnum`",
        "the response has no `RequestId` field",
        "found `600`",
        "`Bad.%s.Code` is not an error code",
    ] {
        assert!(rendered.contains(expected), "missing {expected:?} in:\n{rendered}");
    }
    assert_eq!(errors.errors.len(), 5, "{rendered}");
    // in file order
    let lines: Vec<usize> =
        errors.errors.iter().map(|e| e.location.rsplit(':').nth(1).unwrap().parse().unwrap()).collect();
    assert!(lines.is_sorted(), "{lines:?}");
}

/// Names that are Rust keywords are escaped, so these specs generate code that parses.
#[test]
fn good_spec() {
    insta::glob!("../good-specs", "*.yaml", |path| {
        let case = rel(path);
        let files = match pipeline(read(SERVICE), vec![read(&case)]) {
            Err(panic) => panic!("case {case}: the generator panicked: {panic}"),
            Ok(Err(e)) => panic!("case {case}: rejected:\n{:?}", miette::Report::new(e)),
            Ok(Ok(files)) => files,
        };
        for f in &files {
            if let Err(e) = syn::parse_file(&f.contents) {
                panic!("case {case}: generated {} does not parse: {e}", f.path);
            }
        }
        let action = path.file_stem().unwrap().to_str().unwrap();
        let module = onsmqtt_codegen::names::snake(action);
        let op = files
            .iter()
            .find(|f| f.path == format!("operations/{module}.rs"))
            .unwrap_or_else(|| panic!("case {case}: no operations/{module}.rs"));
        let escaped: Vec<&str> = op
            .contents
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| ["r#", "self_", "Self_", "crate_", "super_", "_("].iter().any(|k| l.contains(k)))
            .map(str::trim)
            .collect();
        let escaped = if escaped.is_empty() { "(none)".to_owned() } else { escaped.join("\n") };
        insta::assert_snapshot!(format!("{} parses.\nLines with escaped names:\n{escaped}", op.path));
    });
}

/// Line-level and character-level damage to a spec file.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceChar(usize, char),
    Insert(usize, &'static str),
}

#[rustfmt::skip]
const SNIPPETS: &[&str] = &[
    "\t", ":", ": ", "[", "]", "{", "}", "- ", "-", "&a ", "*a", "\n", "'", "\"", "#", "%s", "---\n",
    "  ", "~", "null", "-1", "0", "600", "99999999999999999999", "é", "\u{0}", "\r\n", "!!binary ",
    "? ", "|\n", ">-\n", "<<: *a\n", "type: object\n", "items: {type: array}", "name: Self\n",
    "\u{feff}", ",",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        (any::<usize>(), proptest::sample::select(SNIPPETS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut text = text.to_owned();
    for m in mutations {
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        let n = lines.len().max(1);
        let chars = text.chars().count().max(1);
        let at = |i: usize| text.char_indices().nth(i % chars).map_or(text.len(), |(b, _)| b);
        text = match *m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
                lines.concat()
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                lines.insert(i % n, lines[i % n]);
                lines.concat()
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => {
                lines.swap(a % n, b % n);
                lines.concat()
            }
            Mutation::ReplaceChar(i, c) => {
                let b = at(i);
                let old = text[b..].chars().next().map_or(0, char::len_utf8);
                let mut t = text.clone();
                t.replace_range(b..b + old, c.encode_utf8(&mut [0; 4]));
                t
            }
            Mutation::Insert(i, s) => {
                let mut t = text.clone();
                t.insert_str(at(i), s);
                t
            }
            _ => text.clone(),
        };
    }
    text.into_bytes()
}

/// No panic, and diagnostics name only the files given.
fn assert_no_panic(
    service: (String, Vec<u8>),
    operations: Vec<(String, Vec<u8>)>,
) -> Result<(), TestCaseError> {
    let names: Vec<String> = std::iter::once(&service).chain(&operations).map(|(n, _)| n.clone()).collect();
    let outcome = pipeline(service, operations).map_err(|p| TestCaseError::fail(format!("panicked: {p}")))?;
    let errors = match outcome {
        Ok(_) => return Ok(()),
        Err(Error::Load(LoadError::Spec(errors))) => errors,
        Err(other) => {
            return Err(TestCaseError::fail(format!(
                "failed outside the spec checks, so validation missed something: {other}"
            )));
        }
    };
    let rendered = catch_unwind(AssertUnwindSafe(|| errors.render_plain()))
        .map_err(|p| TestCaseError::fail(format!("rendering panicked: {}", panic_message(&*p))))?;
    prop_assert!(!errors.is_empty() && !rendered.is_empty());
    for e in &errors.errors {
        prop_assert!(
            names.iter().any(|n| e.location.starts_with(&format!("{n}:"))),
            "{} names no input file",
            e.location
        );
    }
    Ok(())
}

/// 256 cases per property (proptest's default; `PROPTEST_CASES=N` runs more), no regression
/// files: a failure prints the input, which belongs in `tests/bad-specs/`.
fn config() -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(
        op in proptest::collection::vec(any::<u8>(), 0..600),
        service in proptest::option::weighted(0.2, proptest::collection::vec(any::<u8>(), 0..300)),
    ) {
        let service = service.map_or_else(|| read(SERVICE), |b| ("spec/onsmqtt/service.yaml".to_owned(), b));
        assert_no_panic(service, vec![("spec/onsmqtt/operations/Random.yaml".to_owned(), op)])?;
    }

    #[test]
    fn mutated_real_spec_never_panics(
        op_mutations in proptest::collection::vec(mutation(), 0..6),
        service_mutations in proptest::collection::vec(mutation(), 0..3),
        pick in any::<proptest::sample::Index>(),
    ) {
        let ops = real_operations();
        let (op_name, op_bytes) = pick.get(&ops).clone();
        let op = mutate(std::str::from_utf8(&op_bytes).unwrap(), &op_mutations);
        let (service_name, service_bytes) = read(SERVICE);
        let service = mutate(std::str::from_utf8(&service_bytes).unwrap(), &service_mutations);
        assert_no_panic((service_name, service), vec![(op_name, op)])?;
    }
}

/// The worst inputs the size limit allows are refused, each at a located line: deep flow and
/// block nesting, an anchored string aliased hundreds of thousands of times, too many nodes.
/// Generated here rather than committed; `cargo xtask spec-limits` times them.
#[test]
fn worst_inputs_are_refused_with_a_location() {
    let head = "name: Worst\nsummary: Looks up one client.\nmethod: POST\nmutating: false\n";
    let cases = onsmqtt_codegen::load::worst_inputs(head);
    assert!(cases.len() >= 5);
    for (what, text, expected) in cases {
        assert!(text.len() <= load::MAX_FILE_BYTES, "{what} is over the size limit");
        let case = format!("tests/bad-specs/generated/{what}.yaml");
        let errors = expect_spec_errors(&case, read(SERVICE), vec![(case.clone(), text.into_bytes())]);
        let rendered = errors.render_plain();
        assert_eq!(errors.errors.len(), 1, "{what}: {rendered}");
        assert!(errors.errors[0].message.contains(expected), "{what}: {rendered}");
        let first = rendered.lines().next().unwrap();
        assert!(leading_location(first, &case).is_some(), "{what}: {rendered}");
    }
}
