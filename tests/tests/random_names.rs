//! Random valid names, generated and compiled: operations, parameters, fields, enumeration
//! values and error codes drawn from Rust's keywords, the prelude and std names, the runtime's
//! names, the generator's own families (`New`, `Send`, `IntoPages`, `MaybeX`, `...Output`, ...)
//! and random words with those affixes. Every spec the generator accepts must compile without
//! warnings against the real runtime crate; one it refuses must be refused with located
//! diagnostics only for a documented reason (two names equal after case conversion).
//!
//! All accepted cases are compiled in one `cargo check` of a temporary workspace (its build
//! directory is kept in `target/random-names`, so the runtime is checked once). CI runs
//! `RANDOM_NAMES_CASES` cases (default 12) from a fixed seed; run more by hand, e.g.
//! `RANDOM_NAMES_CASES=300 RANDOM_NAMES_SEED=7 cargo test -p onsmqtt-tests --test random_names`.

use onsmqtt_codegen::{Error, LoadError, load};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Names the generated code or Rust itself already uses, in the spelling a wire name has.
#[rustfmt::skip]
const NASTY: &[&str] = &[
    // keywords, strict, reserved and weak (2024 edition)
    "Type", "Self", "Gen", "Async", "Await", "Dyn", "Try", "Match", "Fn", "Crate", "Super", "Mod", "Yield",
    "Box", "Union", "MacroRules", "Raw", "Safe", "Static", "Where", "Impl", "Loop", "Move", "Ref", "Use",
    "Abstract", "Become", "Final", "Macro", "Override", "Priv", "Typeof", "Unsized", "Virtual", "Do",
    // prelude and std
    "Option", "Some", "None", "Result", "Ok", "Err", "String", "Vec", "Into", "From", "Clone", "Default",
    "Send", "Sync", "Iterator", "IntoIterator", "Future", "PhantomData", "Fmt", "Display", "Debug", "Eq",
    "Drop", "Sized", "Copy", "ToString", "AsRef", "Hash", "Std", "Core", "Alloc", "Serde", "Http",
    // the runtime and the generated client
    "Client", "Config", "Error", "ServiceError", "Pages", "Items", "Set", "Unset", "IsSet", "Params",
    "Operation", "Location", "Cursor", "PageSpec", "ServiceInfo", "ClientCore", "Credentials", "Endpoint",
    "SignatureVersion", "FromEnv", "Runtime", "Service", "Types", "Operations", "Unknown", "Unhandled",
    "Redacted", "InvalidInput", "Input", "Output", "Builder", "State", "Value", "Values", "Item",
    // the generator's families
    "New", "IntoPages", "IntoItems", "Maybe", "MaybeLabel", "Label", "Param", "ResultParam", "MaybeSend",
    "SendParam", "ClientParam", "ErrorParam", "AsStr", "ServiceErrorParam", "Encode", "Page",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(NASTY).prop_map(str::to_owned),
        1 => "[A-Z][a-z]{1,6}".prop_map(|s| s),
        1 => (proptest::sample::select(NASTY), proptest::sample::select(&["Output", "Error", "Builder", "Input", "Param", "Item", "Maybe", "Into"][..]))
            .prop_map(|(a, b)| format!("{a}{b}")),
        1 => (proptest::sample::select(&["Maybe", "Into", "Is", "As", "To", "From"][..]), proptest::sample::select(NASTY))
            .prop_map(|(a, b)| format!("{a}{b}")),
    ]
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    ty: &'static str,
    required: bool,
}

#[derive(Debug, Clone)]
struct Op {
    name: String,
    params: Vec<Param>,
    fields: Vec<(String, &'static str)>,
    object: Option<(String, Vec<String>)>,
    codes: Vec<String>,
    paged: bool,
}

#[derive(Debug, Clone)]
struct Case {
    ops: Vec<Op>,
    enum_values: Vec<String>,
}

fn param() -> impl Strategy<Value = Param> {
    (
        word(),
        proptest::sample::select(&["string", "int32", "int64", "boolean", "enum", "list"][..]),
        any::<bool>(),
    )
        .prop_map(|(name, ty, required)| Param { name, ty, required })
}

fn op() -> impl Strategy<Value = Op> {
    (
        word(),
        proptest::collection::vec(param(), 0..6),
        proptest::collection::vec(
            (word(), proptest::sample::select(&["string", "int32", "boolean", "list"][..])),
            0..4,
        ),
        proptest::option::of((word(), proptest::collection::vec(word(), 1..3))),
        proptest::collection::vec(word(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(name, params, fields, object, codes, paged)| Op {
            name,
            params,
            fields,
            object,
            codes,
            paged,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (proptest::collection::vec(op(), 1..4), proptest::collection::vec(word(), 1..4))
        .prop_map(|(ops, enum_values)| Case { ops, enum_values })
}

/// Keeps the first of names equal after `key` (the spec may not list a name twice).
fn dedup<T>(items: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(key(i)));
}

fn snake(s: &str) -> String {
    onsmqtt_codegen::names::snake(s)
}

/// The spec files of a case, as YAML.
/// A spec file: its name and bytes.
type SpecFile = (String, Vec<u8>);

fn spec_files(case: &Case) -> (SpecFile, Vec<SpecFile>) {
    let mut values = case.enum_values.clone();
    dedup(&mut values, |v| onsmqtt_codegen::naming::enum_variant(v));
    let mut service = String::from(
        "name: Random\ncode: random\napi_version: \"2000-01-03\"\ncrate_name: random-case\ntitle: Random\n\
         description: Random names.\nsignature: v3\nendpoints:\n  public: \"r.{region}.example.com\"\n  \
         vpc: \"r-vpc.{region}.example.com\"\nregions: [xx-test-1]\nenums:\n  - name: Shade\n    \
         description: An enumeration.\n    values:\n",
    );
    for v in &values {
        let _ = writeln!(service, "      - value: {v}\n        description: A value.");
    }
    let mut ops = case.ops.clone();
    dedup(&mut ops, |o| snake(&o.name).to_lowercase());
    let files = ops
        .iter()
        .map(|op| {
            let mut params = op.params.clone();
            if op.paged {
                params.retain(|p| p.name != "NextToken");
                params.push(Param { name: "NextToken".into(), ty: "string", required: false });
            }
            dedup(&mut params, |p| snake(&p.name));
            let mut y = format!(
                "name: {}\nsummary: A random operation.\nmethod: POST\nmutating: false\nparameters:\n",
                op.name
            );
            for p in &params {
                let ty = match p.ty {
                    "enum" => "string\n    enum: Shade",
                    "list" => "array\n    items:\n      type: string",
                    t => t,
                };
                let _ = writeln!(
                    y,
                    "  - name: {}\n    in: query\n    type: {ty}\n    required: {}\n    description: A parameter.",
                    p.name,
                    p.required && !(op.paged && p.name == "NextToken")
                );
            }
            let mut fields: Vec<(String, &str)> = vec![("RequestId".into(), "string")];
            fields.extend(op.fields.iter().cloned());
            if op.paged {
                fields.push(("NextToken".into(), "string"));
                fields.push(("PageItems".into(), "list"));
            }
            let mut object = op.object.clone();
            if let Some((name, _)) = &object {
                fields.push((name.clone(), "object"));
            }
            dedup(&mut fields, |(n, _)| snake(n));
            y.push_str("response:\n");
            for (name, ty) in &fields {
                let required = name == "RequestId";
                let _ = write!(y, "  - name: {name}\n    required: {required}\n    description: A field.\n");
                match *ty {
                    "list" => y.push_str("    type: array\n    items:\n      type: string\n"),
                    "object" => {
                        y.push_str("    type: object\n    fields:\n");
                        let members = &mut object.as_mut().expect("an object field has members").1;
                        dedup(members, |m| snake(m));
                        for m in members.iter() {
                            let _ = write!(y, "      - name: {m}\n        type: string\n        description: A member.\n");
                        }
                    }
                    t => {
                        let _ = writeln!(y, "    type: {t}");
                    }
                }
            }
            let mut codes = op.codes.clone();
            dedup(&mut codes, |c| onsmqtt_codegen::naming::error_variant(c));
            if !codes.is_empty() {
                y.push_str("errors:\n");
                for c in &codes {
                    let _ = write!(y, "  - status: 400\n    code: {c}\n    description: An error.\n");
                }
            }
            if op.paged {
                y.push_str("paging:\n  style: next_token\n  input: NextToken\n  output: NextToken\n  items: PageItems\n");
            }
            (format!("spec/random/operations/{}.yaml", op.name), y.into_bytes())
        })
        .collect();
    (("spec/random/service.yaml".to_owned(), service.into_bytes()), files)
}

#[test]
fn random_valid_names_generate_code_that_compiles() {
    let cases: usize = std::env::var("RANDOM_NAMES_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    let seed: u8 = std::env::var("RANDOM_NAMES_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut runner =
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]));
    let tmp = tempfile::tempdir().unwrap();
    let mut members = Vec::new();
    let mut refused = 0;
    for i in 0..cases {
        let case = case().new_tree(&mut runner).unwrap().current();
        let (service, ops) = spec_files(&case);
        let outcome = load::load_files(service, ops.clone())
            .map_err(Error::from)
            .and_then(|l| onsmqtt_codegen::generate_loaded(&l));
        let files = match outcome {
            Ok(files) => files,
            Err(Error::Load(LoadError::Spec(errors))) => {
                // The only refusal a case may meet: two names equal after case conversion, which
                // `dedup` cannot always foresee (an operation and a shared name, ...).
                for e in &errors.errors {
                    assert!(
                        e.message.contains("both become") || e.message.contains("module name"),
                        "case {i} refused for another reason: {}\n{case:#?}\n{}",
                        e,
                        ops.iter().map(|(_, b)| String::from_utf8_lossy(b).into_owned()).collect::<String>()
                    );
                }
                refused += 1;
                continue;
            }
            Err(other) => panic!("case {i}: {other}\n{case:#?}"),
        };
        let dir = tmp.path().join(format!("case{i}"));
        for f in &files {
            let path = dir.join("src").join(&f.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &f.contents).unwrap();
        }
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"random-case-{i}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [features]\ntest-util = [\"alibabacloud-runtime/test-util\"]\n\n\
                 [dependencies]\nalibabacloud-runtime = {{ path = {:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\nhttp = \"1\"\n",
                repo().join("runtime").display().to_string()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            "//! A random case.\n#![deny(warnings, missing_docs)]\n#![allow(unreachable_pub, clippy::all)]\n\n\
             /// The runtime items generated code uses (not API).\nuse alibabacloud_runtime::__private as runtime;\n\n\
             mod client;\npub mod operations;\npub mod service;\npub mod types;\n\n\
             pub use alibabacloud_runtime::*;\npub use client::Client;\n",
        )
        .unwrap();
        members.push(format!("\"case{i}\""));
    }
    eprintln!("{} of {cases} cases accepted, {refused} refused for colliding names", members.len());
    assert!(members.len() * 2 >= cases, "too few cases accepted to prove anything");
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        format!("[workspace]\nresolver = \"3\"\nmembers = [{}]\n", members.join(", ")),
    )
    .unwrap();
    std::fs::copy(repo().join("Cargo.lock"), tmp.path().join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["check", "--workspace", "--all-features", "--offline", "--quiet", "--message-format=short"])
        .env("CARGO_TARGET_DIR", repo().join("target/random-names"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    if !out.status.success() {
        // Keep the failing workspace for inspection.
        let kept = tmp.keep();
        panic!(
            "generated code does not compile (workspace kept in {}):\n{}",
            kept.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
