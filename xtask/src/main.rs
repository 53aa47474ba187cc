//! Maintainer tasks: `cargo xtask codegen [--check]`, `cargo xtask ci`, `cargo xtask fuzz`,
//! `cargo xtask bench`.

use clap::{Parser, Subcommand};
use onsmqtt_codegen::FileState;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Parser)]
#[command(about = "Maintainer tasks for the onsmqtt client")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Generate the client from spec/ into generated/src.
    Codegen {
        /// Change nothing; fail and name each file that is out of date.
        #[arg(long)]
        check: bool,
    },
    /// Run every check CI runs: oracle venv, codegen --check, fmt, clippy, docs, tests.
    Ci,
    /// Create the Python venv with the official SDK used as a signature oracle by the tests.
    Oracle,
    /// Fuzz the spec pipeline (load, validate, generate) with cargo-fuzz, installing it if missing.
    Fuzz {
        /// How long to run.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Time the generator on the worst spec files the size limit allows (release build): each
    /// must be decided in under 1 s and 200 MB.
    SpecLimits,
    /// Run the examples that need a service against a local one it starts (part of `ci`).
    Examples,
    /// Run the benchmarks (per call, throughput, generator, compile cost) and print one table.
    Bench {
        /// Run only these parts (comma-separated): per-call, generator, throughput, compile.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    match cli.task {
        Task::Codegen { check } => codegen(&root, check),
        Task::Ci => ci(&root),
        Task::Fuzz { seconds } => fuzz(&root, seconds),
        Task::SpecLimits => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let args = ["run", "--release", "--quiet", "-p", "onsmqtt-codegen", "--example", "spec_limits"];
            match Command::new(cargo).args(args).current_dir(&root).status() {
                Ok(s) if s.success() => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            }
        }
        Task::Bench { only } => bench(&root, &only),
        Task::Examples => match examples_against_local(&root) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Task::Oracle => match oracle(&root) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn codegen(root: &Path, check: bool) -> ExitCode {
    // Every target is generated (and so validated) before anything is written.
    let mut generated = Vec::new();
    let mut failed = false;
    for target in onsmqtt_codegen::TARGETS {
        match onsmqtt_codegen::generate_target(root, *target) {
            Ok(files) => generated.push((target, files)),
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                failed = true;
            }
        }
    }
    for target in onsmqtt_codegen::SERVER_TARGETS {
        match onsmqtt_codegen::generate_server(root, *target) {
            Ok(files) => generated.push((target, files)),
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                failed = true;
            }
        }
    }
    if failed {
        return ExitCode::FAILURE;
    }
    let mut states = Vec::new();
    for (target, files) in &generated {
        match onsmqtt_codegen::sync(root, target.output_dir, files, check) {
            Ok(s) => states.extend(s),
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                return ExitCode::FAILURE;
            }
        }
    }
    let mut changed = 0;
    for s in &states {
        match (s, check) {
            (FileState::Changed(p), false) => println!("  wrote {}", p.display()),
            (FileState::Changed(p), true) => eprintln!("  stale: {}", p.display()),
            (FileState::Stale(p), false) => println!("removed {} (its spec is gone)", p.display()),
            (FileState::Stale(p), true) => eprintln!("  orphan: {} (its spec is gone)", p.display()),
            (FileState::Unchanged(_), _) => continue,
        }
        changed += 1;
    }
    if check && changed > 0 {
        eprintln!("error: {changed} generated file(s) are out of date with spec/; run `cargo xtask codegen`");
        return ExitCode::FAILURE;
    }
    if check {
        println!("generated code is up to date ({} files)", states.len());
    } else {
        println!("{} of {} generated files changed", changed, states.len());
    }
    ExitCode::SUCCESS
}

/// One cargo invocation of `cargo xtask ci`.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

/// How long `cargo xtask ci` fuzzes the spec pipeline.
const CI_FUZZ_SECONDS: u64 = 30;

fn ci(root: &Path) -> ExitCode {
    if let Err(e) = oracle(root) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("==> cargo xtask codegen --check");
    if codegen(root, true) != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    // Benchmarks are type-checked by clippy (--all-targets) but not run: too noisy for pass/fail.
    let steps = [
        Step { name: "cargo fmt --check", args: &["fmt", "--all", "--check"], env: &[] },
        Step {
            name: "cargo clippy",
            args: &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
            env: &[],
        },
        Step {
            name: "cargo doc",
            args: &["doc", "--workspace", "--no-deps"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        },
        // The fixture crate is compiled by clippy; its lib target holds the runtime's unit tests,
        // which belong to (and run in) the client crate.
        Step {
            name: "cargo test",
            args: &["test", "--workspace", "--lib", "--bins", "--tests", "--exclude", "widgets-fixture"],
            env: &[],
        },
        // The mocks are behind a feature; test them on their own too, so a build that does not
        // unify the feature in (as `cargo test -p alibabacloud-onsmqtt` does not) is covered.
        Step {
            name: "mocks (feature test-util)",
            args: &["test", "-p", "alibabacloud-onsmqtt", "--features", "test-util", "--test", "mocks"],
            env: &[],
        },
        Step {
            name: "runtime with test-util",
            args: &["test", "-p", "alibabacloud-runtime", "--features", "test-util", "--lib"],
            env: &[],
        },
        Step {
            name: "clippy with test-util",
            args: &[
                "clippy",
                "-p",
                "alibabacloud-onsmqtt",
                "-p",
                "widgets-fixture",
                "--features",
                "alibabacloud-onsmqtt/test-util,widgets-fixture/test-util",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            env: &[],
        },
        // The examples compile; the quickstart runs here, the others after these steps, against
        // a local service (`examples_against_local`).
        Step { name: "examples", args: &["build", "-p", "onsmqtt-examples", "--examples"], env: &[] },
        // The quickstart runs for real: the local service and its MQTT broker in process, a real
        // MQTT client; it exits by itself (bounded to 60 s).
        Step {
            name: "quickstart",
            args: &["run", "-p", "onsmqtt-examples", "--example", "quickstart"],
            env: &[],
        },
        // The fixture crate includes the runtime by path; its doc examples name the real crate.
        Step {
            name: "doc tests",
            args: &["test", "--workspace", "--doc", "--exclude", "widgets-fixture"],
            env: &[],
        },
    ];
    for step in &steps {
        println!("==> {}", step.name);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status =
            Command::new(cargo).args(step.args).envs(step.env.iter().copied()).current_dir(root).status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("error: `{}` failed ({s})", step.name);
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot run `{}`: {e}", step.name);
                return ExitCode::FAILURE;
            }
        }
    }
    println!("==> the other examples, against a local service");
    if let Err(e) = examples_against_local(root) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("==> fuzzing the spec pipeline briefly (longer by hand: cargo xtask fuzz --seconds 600)");
    if fuzz(root, CI_FUZZ_SECONDS) != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    println!("all checks passed");
    ExitCode::SUCCESS
}

/// The examples that need a service, with their arguments: run against the local service.
const LOCAL_EXAMPLES: &[(&str, &[&str])] = &[
    ("device_credential", &["GID_examples@@@device-1"]),
    ("errors", &[]),
    ("list_certificates", &[]),
    ("token_lifecycle", &[]),
    ("bulk_sessions", &["GID_examples@@@device-1", "GID_examples@@@device-2"]),
];

/// How long one example may run before it counts as hung.
const EXAMPLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts `onsmqtt-local` on a free port (an instance and an AccessKey of its own, no broker) and
/// runs every example of [`LOCAL_EXAMPLES`] against it, configured only through the environment
/// variables the examples document; each must exit successfully. The service is stopped however
/// it ends.
fn examples_against_local(root: &Path) -> Result<(), String> {
    use std::io::BufRead;

    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let (instance, key_id, secret) = ("post-cn-examples", "examples-key-id", "examples-key-secret");
    let mut server = KillOnDrop(
        Command::new(&cargo)
            .args(["run", "--quiet", "-p", "onsmqtt-local", "--", "--bind", "127.0.0.1:0", "--no-mqtt"])
            .args(["--instances", instance, "--access-key-id", key_id, "--access-key-secret", secret])
            .current_dir(root)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start onsmqtt-local: {e}"))?,
    );
    let stdout = server.0.stdout.take().ok_or("onsmqtt-local has no stdout")?;
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .map_err(|e| format!("cannot read onsmqtt-local's output: {e}"))?;
    let endpoint = first
        .trim()
        .strip_prefix("onsmqtt-local listening on ")
        .ok_or_else(|| format!("onsmqtt-local did not start: {first:?}"))?
        .to_owned();
    println!("    local service at {endpoint}");
    for (example, args) in LOCAL_EXAMPLES {
        println!("==> example {example} {}", args.join(" "));
        let mut child = KillOnDrop(
            Command::new(&cargo)
                .args(["run", "--quiet", "-p", "onsmqtt-examples", "--example", example, "--"])
                .args(*args)
                .env("ONSMQTT_ENDPOINT", &endpoint)
                .env("ONSMQTT_INSTANCE_ID", instance)
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", key_id)
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
                .stdin(std::process::Stdio::null())
                .current_dir(root)
                .spawn()
                .map_err(|e| format!("cannot run example {example}: {e}"))?,
        );
        let started = std::time::Instant::now();
        let status = loop {
            match child.0.try_wait().map_err(|e| format!("example {example}: {e}"))? {
                Some(status) => break status,
                None if started.elapsed() > EXAMPLE_TIMEOUT => {
                    return Err(format!("example {example} did not finish within {EXAMPLE_TIMEOUT:?}"));
                }
                None => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        };
        if !status.success() {
            return Err(format!("example {example} failed against the local service ({status})"));
        }
    }
    Ok(())
}

/// The official Python SDK, pinned, in `target/oracle-venv`; tests find it there.
/// `alibabacloud-onsmqtt20200420` gives typed calls for driving the local service
/// (local/tests/official_sdk.rs).
const ORACLE_PACKAGES: &[&str] = &[
    "alibabacloud-tea-openapi==0.4.6",
    "alibabacloud-openapi-util==0.2.4",
    "alibabacloud-tea-util==0.3.15",
    "alibabacloud-onsmqtt20200420==1.7.1",
];

fn oracle(root: &Path) -> Result<(), String> {
    let venv = root.join("target/oracle-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed.txt");
    let wanted = ORACLE_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        println!("==> oracle venv ready ({})", venv.display());
        return Ok(());
    }
    println!("==> creating the oracle venv in {}", venv.display());
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let s = cmd.status().map_err(|e| format!("cannot run {what}: {e}"))?;
        if s.success() { Ok(()) } else { Err(format!("{what} failed ({s})")) }
    };
    let py = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&py).args(["-m", "venv"]).arg(&venv), "python3 -m venv")?;
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(ORACLE_PACKAGES),
        "pip install (official SDK)",
    )?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(())
}

/// Runs the `spec_pipeline` fuzz target for `seconds`, seeded with the real spec and the bad-spec
/// corpus, then the structure-aware `spec_names` and the local service's `request_parser` for half
/// as long each. cargo-fuzz needs nightly flags;
/// RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. Crashes are written to
/// `fuzz/artifacts/<target>/`.
fn fuzz(root: &Path, seconds: u64) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let installed =
        Command::new(&cargo).args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        println!("==> cargo install cargo-fuzz --locked");
        let ok = Command::new(&cargo)
            .args(["install", "cargo-fuzz", "--locked"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("error: cannot install cargo-fuzz");
            return ExitCode::FAILURE;
        }
    }
    // spec_pipeline: bytes, seeded with real and broken specs; spec_names: structure-aware
    // names and texts; request_parser: any query and body for any operation of the local service.
    let half = seconds.div_ceil(2);
    let targets =
        [("spec_pipeline", seconds, true), ("spec_names", half, false), ("request_parser", half, false)];
    for (target, secs, seeded) in targets {
        let corpus = root.join("fuzz/corpus").join(target);
        if let Err(e) = std::fs::create_dir_all(&corpus) {
            eprintln!("error: cannot create {}: {e}", corpus.display());
            return ExitCode::FAILURE;
        }
        // New inputs go to the first folder; the others only seed it.
        let seeds: Vec<PathBuf> = if seeded {
            ["spec/onsmqtt", "tests/bad-specs", "tests/good-specs"].iter().map(|d| root.join(d)).collect()
        } else {
            Vec::new()
        };
        println!("==> cargo fuzz run {target} ({secs} s)");
        let mut command = Command::new(&cargo);
        command.args(["fuzz", "run", target]).arg(&corpus).args(&seeds).arg("--");
        command.arg(format!("-max_total_time={secs}"));
        if seeded {
            command.arg(format!("-dict={}", root.join("fuzz/spec_pipeline.dict").display()));
        }
        match command.env("RUSTC_BOOTSTRAP", "1").current_dir(root).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("error: the fuzzer stopped ({s}); see fuzz/artifacts/{target}/");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot run cargo fuzz: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// `cargo xtask bench`: every benchmark of `benches/`, then the one table (`bench_report`), which
/// also reads the results of earlier runs of the parts not run now. Results in BENCHMARKS.md.
fn bench(root: &Path, only: &[String]) -> ExitCode {
    const PARTS: &[&str] = &["per-call", "generator", "throughput", "compile"];
    if let Some(bad) = only.iter().find(|p| !PARTS.contains(&p.as_str())) {
        eprintln!("error: unknown part `{bad}`; the parts are {}", PARTS.join(", "));
        return ExitCode::FAILURE;
    }
    let wanted = |part: &str| only.is_empty() || only.iter().any(|p| p == part);
    let pkg = ["-p", "onsmqtt-benches"];
    let mut steps: Vec<(&str, Vec<&str>)> = Vec::new();
    if wanted("per-call") {
        steps.push(("per-call benches", [&["bench"], &pkg[..], &["--bench", "per_call"]].concat()));
    }
    if wanted("generator") {
        steps.push(("generator benches", [&["bench"], &pkg[..], &["--bench", "generator"]].concat()));
    }
    if wanted("throughput") {
        steps.push((
            "throughput",
            [&["run", "--release", "--quiet"], &pkg[..], &["--bin", "throughput"]].concat(),
        ));
    }
    if wanted("compile") {
        steps.push((
            "compile cost",
            [&["run", "--release", "--quiet"], &pkg[..], &["--bin", "compile_cost"]].concat(),
        ));
    }
    steps.push(("report", [&["run", "--release", "--quiet"], &pkg[..], &["--bin", "bench_report"]].concat()));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for (name, args) in steps {
        println!("==> {name}: cargo {}", args.join(" "));
        match Command::new(&cargo).args(&args).current_dir(root).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("error: `{name}` failed ({s})");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot run `{name}`: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
