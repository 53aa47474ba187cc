//! The repository is self-contained: no source, test, build script or CI script names a path
//! outside the workspace (a clone with nothing beside it must build and pass), and the runtime
//! crate names no product.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_owned()
}

/// Folders that hold no source of ours: build output, fuzz state, VCS data.
const SKIP: &[&str] = &["target", ".git", "fuzz/target", "fuzz/corpus", "fuzz/artifacts", "fuzz/coverage"];

/// Files whose text can name a path the build or tests follow.
fn is_code(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(path.extension().and_then(|e| e.to_str()), Some("rs" | "toml" | "sh" | "py"))
        || path.parent().and_then(Path::file_name).is_some_and(|d| d == ".ci")
        || name == "config.toml"
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if SKIP.iter().any(|s| rel == Path::new(s)) {
            continue;
        }
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            walk(root, &path, out);
        } else if kind.is_file() && is_code(&path) {
            out.push(path);
        }
    }
}

/// Names of places outside the repository: the reference folder beside it and the machine's
/// work folders. Spelt in pieces so that this file does not name them itself.
const OUTSIDE: [&str; 4] = [
    concat!("sha", "red/reference"),
    concat!("sha", "red/seed"),
    concat!("/wo", "rk/"),
    concat!("\"/ro", "ot/"),
];

/// The places in `text` (a file `depth` folders below the workspace root) that name a path
/// outside the workspace: a run of `../` climbing above the root, the reference folder beside
/// the repository, or an absolute path into the machine's work folders.
fn escapes(text: &str, depth: usize) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let mut ups = 0;
            let mut j = i;
            while bytes[j..].starts_with(b"../") {
                ups += 1;
                j += 3;
            }
            if ups > depth {
                found.push((n + 1, line.trim().to_owned()));
                break;
            }
            i = if ups > 0 { j } else { i + 1 };
        }
        for needle in OUTSIDE {
            if line.contains(needle) && !found.iter().any(|(l, _)| *l == n + 1) {
                found.push((n + 1, line.trim().to_owned()));
            }
        }
    }
    found
}

#[test]
fn the_checker_finds_escapes() {
    let up = |n: usize| "../".repeat(n);
    let reference = OUTSIDE[0];
    assert_eq!(escapes(&format!("include_str!(\"{}{reference}/x.json\")", up(1)), 3).len(), 1);
    assert_eq!(escapes(&format!("#[path = \"{}x.rs\"]", up(2)), 2).len(), 0);
    assert_eq!(escapes(&format!("#[path = \"{}x.rs\"]", up(3)), 2).len(), 1);
    assert_eq!(escapes(&format!("let p = \"{}{reference}/facts.json\";", OUTSIDE[2]), 5).len(), 1);
    assert_eq!(escapes(&format!("let p = root.join(\"{reference}\");"), 5).len(), 1);
    assert_eq!(escapes("a .. b; x../y", 0).len(), 1);
    assert!(escapes("nothing here", 0).is_empty());
}

#[test]
fn nothing_names_a_path_outside_the_workspace() {
    let root = workspace_root();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    assert!(files.len() > 50, "found only {} files under {}", files.len(), root.display());
    let mut bad = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let rel = path.strip_prefix(&root).unwrap_or(path);
        let depth = rel.components().count().saturating_sub(1);
        for (line, what) in escapes(&text, depth) {
            bad.push(format!("{}:{line}: {what}", rel.display()));
        }
    }
    assert!(bad.is_empty(), "paths outside the workspace:\n{}", bad.join("\n"));
}

#[test]
fn the_runtime_names_no_product() {
    let root = workspace_root();
    let mut files = Vec::new();
    walk(&root, &root.join("runtime"), &mut files);
    assert!(files.iter().any(|f| f.ends_with("client.rs")));
    let mut bad = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.to_ascii_lowercase().contains("onsmqtt") {
                bad.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(bad.is_empty(), "the runtime names the product:\n{}", bad.join("\n"));
}
