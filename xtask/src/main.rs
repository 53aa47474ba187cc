//! Maintainer tasks: `cargo xtask codegen [--check]`, `cargo xtask ci`.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    match cli.task {
        Task::Codegen { check } => codegen(&root, check),
        Task::Ci => ci(&root),
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
    let files = match onsmqtt_codegen::generate(root) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::FAILURE;
        }
    };
    let states = match onsmqtt_codegen::sync(root, &files, check) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::FAILURE;
        }
    };
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

fn ci(root: &Path) -> ExitCode {
    if let Err(e) = oracle(root) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("==> cargo xtask codegen --check");
    if codegen(root, true) != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    let steps: &[(&str, &[&str], &[(&str, &str)])] = &[
        ("cargo fmt --check", &["fmt", "--all", "--check"], &[]),
        ("cargo clippy", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[]),
        ("cargo doc", &["doc", "--workspace", "--no-deps"], &[("RUSTDOCFLAGS", "-D warnings")]),
        ("cargo test", &["test", "--workspace", "--all-targets"], &[]),
        ("doc tests", &["test", "--workspace", "--doc"], &[]),
    ];
    for (name, args, env) in steps {
        println!("==> {name}");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo).args(*args).envs(env.iter().copied()).current_dir(root).status();
        match status {
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
    println!("all checks passed");
    ExitCode::SUCCESS
}

/// The official Python SDK, pinned, in `target/oracle-venv`; tests find it there.
const ORACLE_PACKAGES: &[&str] =
    &["alibabacloud-tea-openapi==0.4.6", "alibabacloud-openapi-util==0.2.4", "alibabacloud-tea-util==0.3.15"];

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
