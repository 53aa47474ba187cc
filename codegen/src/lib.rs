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
pub mod source;
pub mod spec;
pub mod validate;

pub use diag::{LoadError, SpecError, SpecErrors};
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

/// Everything `cargo xtask codegen` writes.
pub const TARGETS: &[Target] = &[CLIENT, FEATURES_FIXTURE];

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
pub fn sync(
    root: &Path,
    output_dir: &str,
    files: &[GeneratedFile],
    check: bool,
) -> Result<Vec<FileState>, Error> {
    let mut states = Vec::with_capacity(files.len());
    for f in files {
        let rel = PathBuf::from(output_dir).join(&f.path);
        let abs = root.join(&rel);
        let current = std::fs::read_to_string(&abs).ok().map(|s| s.replace("\r\n", "\n"));
        if current.as_deref() == Some(f.contents.as_str()) {
            states.push(FileState::Unchanged(rel));
            continue;
        }
        if !check {
            let io = |source| Error::Io { path: rel.display().to_string(), source };
            if let Some(dir) = abs.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            std::fs::write(&abs, &f.contents).map_err(io)?;
        }
        states.push(FileState::Changed(rel));
    }
    // Generated operation files whose spec is gone.
    let ops_dir = root.join(output_dir).join("operations");
    if let Ok(entries) = std::fs::read_dir(&ops_dir) {
        let mut extra: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| PathBuf::from(output_dir).join("operations").join(e.file_name()))
            .filter(|rel| {
                let known = files.iter().any(|f| PathBuf::from(output_dir).join(&f.path) == *rel);
                !known && is_generated(&root.join(rel))
            })
            .collect();
        extra.sort();
        for rel in extra {
            if !check {
                std::fs::remove_file(root.join(&rel))
                    .map_err(|source| Error::Io { path: rel.display().to_string(), source })?;
            }
            states.push(FileState::Stale(rel));
        }
    }
    Ok(states)
}

fn is_generated(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.starts_with("// @generated"))
}
