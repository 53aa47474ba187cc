//! How the generator reads a spec folder and writes a generated one, against real file systems
//! in temporary folders: odd entries are refused by name, only regular files inside the spec
//! folder are read, sizes are checked before reading, and writing is all or nothing.

use onsmqtt_codegen::{Error, FileState, GeneratedFile, LoadError, load};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// A copy of the feature fixture's spec under `<tmp>/spec/x`, returned with the temp root.
fn spec_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("spec/x");
    std::fs::create_dir_all(spec.join("operations")).unwrap();
    let from = repo().join("tests/fixtures/features");
    std::fs::copy(from.join("service.yaml"), spec.join("service.yaml")).unwrap();
    for e in std::fs::read_dir(from.join("operations")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), spec.join("operations").join(e.file_name())).unwrap();
    }
    (tmp, spec)
}

/// Every message of a failed load, one per line (`path: message` or the spec diagnostics).
fn failure(root: &Path) -> String {
    match load::load_dir(root, "spec/x") {
        Ok(_) => panic!("the spec folder was accepted"),
        Err(LoadError::Folder(f)) => f.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
        Err(LoadError::Spec(s)) => s.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
        Err(e) => format!("io: {e}"),
    }
}

#[test]
fn the_feature_fixture_copy_loads() {
    let (tmp, _) = spec_copy();
    load::load_dir(tmp.path(), "spec/x").unwrap();
}

#[test]
fn a_missing_or_empty_operations_folder_is_an_error() {
    let (tmp, spec) = spec_copy();
    std::fs::remove_dir_all(spec.join("operations")).unwrap();
    assert_eq!(failure(tmp.path()), "spec/x/operations: the operations folder is missing");
    std::fs::create_dir(spec.join("operations")).unwrap();
    assert_eq!(failure(tmp.path()), "spec/x/operations: the operations folder holds no operation");
    // Hidden entries (editor swap files) are skipped, so they do not count as operations.
    std::fs::write(spec.join("operations/.Ping.yaml.swp"), "x").unwrap();
    assert_eq!(failure(tmp.path()), "spec/x/operations: the operations folder holds no operation");
}

#[test]
fn odd_entries_are_refused_by_their_name() {
    let (tmp, spec) = spec_copy();
    let ops = spec.join("operations");
    std::fs::rename(ops.join("Ping.yaml"), ops.join("Ping.yml")).unwrap();
    std::fs::write(ops.join("README.md"), "notes").unwrap();
    std::fs::write(ops.join("Upper.YAML"), "name: Upper").unwrap();
    std::fs::create_dir(ops.join("nested")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"Caf\xe9.yaml");
        std::fs::write(ops.join(name), "name: Cafe").unwrap();
        std::fs::write(ops.join("Line\nBreak.yaml"), "name: LineBreak").unwrap();
    }
    let got = failure(tmp.path());
    let mut expected = vec![
        "spec/x/operations/Ping.yml: spec files end in `.yaml`; this one is not read",
        "spec/x/operations/README.md: `operations/` holds only `<Action>.yaml` files",
        "spec/x/operations/Upper.YAML: spec files end in `.yaml`; this one is not read",
        "spec/x/operations/nested: `operations/` holds only `<Action>.yaml` files",
    ];
    if cfg!(unix) {
        expected.insert(
            0,
            "spec/x/operations/Caf\\xE9.yaml: the file name is not UTF-8 text, or holds control characters",
        );
        expected.insert(1, "spec/x/operations/Line\\nBreak.yaml: the file name is not UTF-8 text, or holds control characters");
    }
    assert_eq!(got, expected.join("\n"));
}

#[cfg(unix)]
#[test]
fn only_regular_files_inside_the_spec_folder_are_read() {
    let (tmp, spec) = spec_copy();
    let ops = spec.join("operations");
    // A symlink inside the spec folder is followed.
    std::fs::rename(ops.join("Ping.yaml"), spec.join("Ping.yaml.real")).unwrap();
    std::os::unix::fs::symlink("../Ping.yaml.real", ops.join("Ping.yaml")).unwrap();
    load::load_dir(tmp.path(), "spec/x").unwrap();
    // One leaving it is not, nor is a named pipe (which would block a plain read forever).
    std::os::unix::fs::symlink("/dev/zero", ops.join("Zero.yaml")).unwrap();
    std::os::unix::fs::symlink("missing.yaml", ops.join("Dangling.yaml")).unwrap();
    let status = std::process::Command::new("mkfifo").arg(ops.join("Pipe.yaml")).status().unwrap();
    assert!(status.success());
    assert_eq!(
        failure(tmp.path()),
        [
            "spec/x/operations/Dangling.yaml: a symlink that leads nowhere",
            "spec/x/operations/Pipe.yaml: a named pipe (FIFO), not a regular file; it is not read",
            "spec/x/operations/Zero.yaml: a symlink leading out of `spec/x`",
        ]
        .join("\n")
    );
}

#[test]
fn a_huge_sparse_file_is_refused_from_its_metadata() {
    let (tmp, spec) = spec_copy();
    let f = std::fs::File::create(spec.join("operations/Huge.yaml")).unwrap();
    f.set_len(2 << 30).unwrap();
    let got = failure(tmp.path());
    assert_eq!(
        got,
        "spec/x/operations/Huge.yaml:1:1: operation `Huge`: the file is 2147483648 bytes, more than the 1048576 a spec file may have"
    );
}

fn file(path: &str, contents: &str) -> GeneratedFile {
    GeneratedFile { path: path.to_owned(), contents: contents.to_owned() }
}

/// A failure while writing (here a file name too long for the file system) leaves the output
/// exactly as it was; a success swaps everything in and keeps hand-written files.
#[test]
fn writing_is_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gen/src");
    std::fs::create_dir_all(out.join("operations")).unwrap();
    std::fs::write(out.join("lib.rs"), "// hand-written\n").unwrap();
    std::fs::write(out.join("types.rs"), "// @generated old\n").unwrap();
    std::fs::write(out.join("operations/mod.rs"), "// @generated old\n").unwrap();
    std::fs::write(out.join("operations/gone.rs"), "// @generated old\n").unwrap();
    std::fs::write(out.join("operations/notes.rs"), "// hand-written\n").unwrap();
    let snapshot = |dir: &Path| {
        let mut all = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    all.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
        all.sort();
        all
    };
    let before = snapshot(&out);
    let too_long = format!("operations/{}.rs", "a".repeat(300));
    let bad = [file("types.rs", "// @generated new\n"), file(&too_long, "// @generated new\n")];
    let err = onsmqtt_codegen::sync(tmp.path(), "gen/src", &bad, false).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(snapshot(&out), before, "a failed write changed the output");

    let good = [file("types.rs", "// @generated new\n"), file("operations/mod.rs", "// @generated new\n")];
    let states = onsmqtt_codegen::sync(tmp.path(), "gen/src", &good, false).unwrap();
    assert!(states.contains(&FileState::Stale(PathBuf::from("gen/src/operations/gone.rs"))));
    let after: Vec<(String, String)> = snapshot(&out)
        .into_iter()
        .map(|(p, c)| (p.strip_prefix(&out).unwrap().display().to_string(), c))
        .collect();
    let expect = |p: &str, c: &str| (p.to_owned(), c.to_owned());
    assert_eq!(
        after,
        [
            expect("lib.rs", "// hand-written\n"),
            expect("operations/mod.rs", "// @generated new\n"),
            expect("operations/notes.rs", "// hand-written\n"),
            expect("types.rs", "// @generated new\n"),
        ]
    );
}
