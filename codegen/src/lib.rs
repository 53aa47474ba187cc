//! The generator behind the onsmqtt client: YAML spec -> spec model -> validation -> IR ->
//! emitters -> formatted Rust.
//!
//! ```text
//! load (serde_yaml, deny_unknown_fields) -> validate -> lower (IR) -> emit (quote) -> prettyplease
//! ```
//!
//! Every stage is a plain function so tests and benchmarks can run any prefix of the pipeline.
//! Same input, same bytes: nothing depends on hash order, time or the environment.

pub mod diag;
pub mod emit;
pub mod ir;
pub mod load;
pub mod lower;
pub mod names;
pub mod naming;
pub mod source;
pub mod spec;
pub mod validate;

pub use diag::{FolderError, FolderErrors, LoadError, SpecError, SpecErrors};
pub use emit::GeneratedFile;

use std::path::{Path, PathBuf};

/// A spec folder and the `src/` folder its code goes to, relative to the workspace root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Holds `service.yaml` and `operations/`.
    pub spec_dir: &'static str,
    /// The generated crate's `src/`.
    pub output_dir: &'static str,
}

/// The real API, generated into the client crate.
pub const CLIENT: Target = Target { spec_dir: "spec/onsmqtt", output_dir: "generated/src" };

/// A small made-up service that uses every spec feature, generated into a crate that the test
/// suite compiles: proof that each feature yields code that builds, apart from the real API.
pub const FEATURES_FIXTURE: Target =
    Target { spec_dir: "tests/fixtures/features", output_dir: "tests/fixture-crate/src" };

/// A made-up service of the nastiest names (keywords, prelude, std and runtime names, names that
/// collide with the generator's own once converted) and of text that tries to become code,
/// generated into a crate that the test suite compiles and documents.
pub const NASTY_FIXTURE: Target =
    Target { spec_dir: "tests/fixtures/nasty", output_dir: "tests/nasty-crate/src" };

/// Everything `cargo xtask codegen` writes.
pub const TARGETS: &[Target] = &[CLIENT, FEATURES_FIXTURE, NASTY_FIXTURE];

/// The server side of the real API, generated into the local service crate (`onsmqtt-local`).
pub const SERVER: Target = Target { spec_dir: "spec/onsmqtt", output_dir: "local/src/generated" };

/// Everything `cargo xtask codegen` writes with the server emitter.
pub const SERVER_TARGETS: &[Target] = &[SERVER];

/// Loads `target`'s spec under `root` and generates the server side of every operation.
pub fn generate_server(root: &Path, target: Target) -> Result<Vec<GeneratedFile>, Error> {
    let loaded = load::load_dir(root, target.spec_dir)?;
    validate::validate(&loaded).map_err(LoadError::from)?;
    let ir = lower::lower(&loaded);
    Ok(emit::emit_server(&ir)?)
}

/// Anything that stops generation.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// The spec could not be read or is invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    /// An emitter produced code that does not parse.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Emit(#[from] emit::EmitError),
    /// An output file could not be written or read.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs the whole pipeline over parsed spec files.
pub fn generate_loaded(loaded: &load::Loaded) -> Result<Vec<GeneratedFile>, Error> {
    validate::validate(loaded).map_err(LoadError::from)?;
    let ir = lower::lower(loaded);
    Ok(emit::emit(&ir)?)
}

/// Loads the real spec under `root` and generates every file of the client.
pub fn generate(root: &Path) -> Result<Vec<GeneratedFile>, Error> {
    generate_target(root, CLIENT)
}

/// Loads `target`'s spec under `root` and generates every file.
pub fn generate_target(root: &Path, target: Target) -> Result<Vec<GeneratedFile>, Error> {
    let loaded = load::load_dir(root, target.spec_dir)?;
    generate_loaded(&loaded)
}

/// What `write` or `check` found for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Already up to date.
    Unchanged(PathBuf),
    /// Written (write mode) or out of date (check mode).
    Changed(PathBuf),
    /// A generated file on disk that the spec no longer produces: removed (write mode) or
    /// reported (check mode).
    Stale(PathBuf),
}

/// Brings `<root>/<output_dir>` in line with `files`, or in check mode only compares. Paths in the
/// result are relative to `root`. Line endings are normalised before comparing.
///
/// Writing is all or nothing: the new files are written to a staging folder inside
/// `output_dir` first; only when all of them are written are the top-level entries they belong
/// to (`client.rs`, `service.rs`, `types.rs`, the whole `operations/`) swapped in by renames,
/// and a failed rename puts back what was already moved. Files in `operations/` that the
/// generator did not write (no `// @generated` header) are carried over.
pub fn sync(
    root: &Path,
    output_dir: &str,
    files: &[GeneratedFile],
    check: bool,
) -> Result<Vec<FileState>, Error> {
    let mut states = Vec::with_capacity(files.len());
    for f in files {
        let rel = PathBuf::from(output_dir).join(&f.path);
        let current = std::fs::read_to_string(root.join(&rel)).ok().map(|s| s.replace("\r\n", "\n"));
        if current.as_deref() == Some(f.contents.as_str()) {
            states.push(FileState::Unchanged(rel));
        } else {
            states.push(FileState::Changed(rel));
        }
    }
    // Generated operation files whose spec is gone.
    let ops_dir = root.join(output_dir).join("operations");
    let mut kept = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&ops_dir) {
        let mut extra = Vec::new();
        for e in entries.filter_map(Result::ok) {
            let rel = PathBuf::from(output_dir).join("operations").join(e.file_name());
            if files.iter().any(|f| PathBuf::from(output_dir).join(&f.path) == rel) {
                continue;
            }
            if is_generated(&root.join(&rel)) {
                extra.push(rel);
            } else {
                kept.push(e.file_name());
            }
        }
        extra.sort();
        states.extend(extra.into_iter().map(FileState::Stale));
    }
    let dirty = states.iter().any(|s| !matches!(s, FileState::Unchanged(_)));
    if check || !dirty {
        return Ok(states);
    }
    write_all_or_nothing(root, output_dir, files, &kept)?;
    Ok(states)
}

/// Stages `files` (and the hand-written entries `kept` of `operations/`), then swaps them in.
fn write_all_or_nothing(
    root: &Path,
    output_dir: &str,
    files: &[GeneratedFile],
    kept: &[std::ffi::OsString],
) -> Result<(), Error> {
    let out = root.join(output_dir);
    let io = |path: &Path, source| Error::Io { path: path.display().to_string(), source };
    let staging = out.join(".codegen-staging");
    let backup = out.join(".codegen-backup");
    for dir in [&staging, &backup] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
        }
    }
    let stage = || -> Result<(), Error> {
        std::fs::create_dir_all(staging.join("operations")).map_err(|e| io(&staging, e))?;
        for f in files {
            let path = staging.join(&f.path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            }
            std::fs::write(&path, &f.contents).map_err(|e| io(&out.join(&f.path), e))?;
        }
        for name in kept {
            let from = out.join("operations").join(name);
            std::fs::copy(&from, staging.join("operations").join(name)).map_err(|e| io(&from, e))?;
        }
        Ok(())
    };
    if let Err(e) = stage() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // The top-level entries the generator owns, each swapped as a whole.
    let mut tops: Vec<String> =
        files.iter().map(|f| f.path.split('/').next().unwrap_or(&f.path).to_owned()).collect();
    tops.sort();
    tops.dedup();
    std::fs::create_dir_all(&backup).map_err(|e| io(&backup, e))?;
    // (entry, whether an old one was moved to the backup)
    let mut swapped: Vec<(&str, bool)> = Vec::new();
    let mut failure = None;
    for top in &tops {
        let (old, new, aside) = (out.join(top), staging.join(top), backup.join(top));
        let had_old = old.exists();
        if had_old && let Err(e) = std::fs::rename(&old, &aside) {
            failure = Some(io(&old, e));
            break;
        }
        if let Err(e) = std::fs::rename(&new, &old) {
            if had_old {
                let _ = std::fs::rename(&aside, &old);
            }
            failure = Some(io(&old, e));
            break;
        }
        swapped.push((top, had_old));
    }
    if let Some(e) = failure {
        // Put back what was swapped already.
        for (top, had_old) in swapped.into_iter().rev() {
            let _ = std::fs::remove_dir_all(out.join(top)).or_else(|_| std::fs::remove_file(out.join(top)));
            if had_old {
                let _ = std::fs::rename(backup.join(top), out.join(top));
            }
        }
        let _ = std::fs::remove_dir_all(&staging);
        let _ = std::fs::remove_dir_all(&backup);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_dir_all(&backup);
    Ok(())
}

fn is_generated(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.starts_with("// @generated"))
}
