//! Compile cost: the runtime crate, the generated crate per operation, a clean build of a small
//! application, and the same figures for `ali-acs` 0.8 with its `sms` feature.
//!
//! For synthetic specs of 10, 100 and 500 operations and for the real spec, this writes a copy of
//! the client crate (the real `generated/Cargo.toml`, its hand-written `src/lib.rs` and, for the
//! real spec, `src/mqtt.rs`, plus the files the
//! generator makes from that spec; the runtime crate is the real one, a dependency) into `target/bench-compile/ws/`, in a scratch
//! workspace that inherits the real one's dependency versions and `Cargo.lock`. Dependencies are
//! built once in a shared target directory; then, for each copy, its `lib.rs` is touched and
//! `cargo build -p <copy>` (debug, `CARGO_INCREMENTAL=0`, as a dependency is built) is timed, so
//! only that crate compiles. The best of `--reps` runs counts.
//!
//! The builders' `send()` is a generic shim (typestate) over non-generic code, so a little code
//! is instantiated in the user's crate: a small crate calling 10 operations is timed the same way.
//!
//! The runtime crate alone is timed the same way (`cargo clean -p alibabacloud-runtime`, then
//! `cargo build -p alibabacloud-runtime`). A clean build of the application (everything from
//! scratch, in a target directory of its own, wall clock) shows what a user waits for the first
//! time.
//!
//! For comparison, `ali-acs` 0.8 with its `sms` feature (56 operations; from crates.io, into a
//! scratch workspace under `target/bench-compile/ali-acs/`, never committed): the crate alone
//! (`cargo clean -p ali-acs`, then `cargo build -p ali-acs`, its dependencies built) and a clean
//! build of an application making ten SMS calls through it. `--no-ali-acs` skips it.
//!
//! Results go to `target/bench-results/compile.json`.
//!
//! `cargo run --release -p onsmqtt-benches --bin compile_cost -- [--sizes 10,50,100,250,500,1000]
//! [--reps 2] [--no-ali-acs]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use onsmqtt_benches::{SpecFiles, real_spec, synthetic_spec, target_dir, workspace_root, write_result};

/// The user crate: ten calls, as an application would write them.
const USER_LIB: &str = r#"//! An application calling ten operations.
use alibabacloud_onsmqtt::{Client, Config, Credentials};

/// Makes ten calls.
pub async fn ten_calls(client: &Client) -> Result<usize, Box<dyn std::error::Error>> {
    let mut n = 0;
    let i = "post-cn-0pp12gl****";
    let s = client.query_session_by_client_id().client_id("GID_a@@@1").instance_id(i).send().await?;
    n += usize::from(s.online_status);
    client.close_connection().instance_id(i).client_id("GID_a@@@1").send().await?;
    client.add_custom_auth_connect_black().instance_id(i).client_id("GID_a@@@1").send().await?;
    client.delete_custom_auth_connect_black().instance_id(i).client_id("GID_a@@@1").send().await?;
    client.get_device_credential().client_id("GID_a@@@1").instance_id(i).send().await?;
    client.refresh_device_credential().client_id("GID_a@@@1").instance_id(i).send().await?;
    client.register_device_credential().client_id("GID_a@@@1").instance_id(i).send().await?;
    client.un_register_device_credential().client_id("GID_a@@@1").instance_id(i).send().await?;
    client.query_token().token("t").instance_id(i).send().await?;
    client.revoke_token().token("t").instance_id(i).send().await?;
    n += 9;
    Ok(n)
}

/// A client for the calls.
pub fn client() -> Client {
    Client::new(
        Config::builder()
            .region("cn-hangzhou")
            .credentials(Credentials::new("id", "secret"))
            .build()
            .expect("valid configuration"),
    )
}
"#;

/// The same kind of application on `ali-acs`: ten SMS calls.
const ACS_LIB: &str = r#"//! An application calling ten SMS operations through ali-acs.
use ali_acs::sms::*;
use ali_acs::AccessKeySecret;

/// Makes ten calls.
pub async fn ten_calls(conn: &Connection) -> Result<usize, Box<dyn std::error::Error>> {
    let r = conn.send_sms(SendSms::new("13800138000", "sign", "SMS_123456789")).await?;
    let _ = r.biz_id;
    conn.get_sms_sign(GetSmsSign::new("sign")).await?;
    conn.delete_sms_sign(DeleteSmsSign::new("sign")).await?;
    conn.query_sms_sign(QuerySmsSign::new("sign")).await?;
    conn.get_sms_template(GetSmsTemplate::new("SMS_1")).await?;
    conn.delete_sms_template(DeleteSmsTemplate::new("SMS_1")).await?;
    #[allow(deprecated)]
    conn.query_sms_template(QuerySmsTemplate::new("SMS_1")).await?;
    conn.query_card_sms_template(QueryCardSmsTemplate::new("SMS_1")).await?;
    conn.required_phone_code(RequiredPhoneCode::new("13800138000")).await?;
    conn.send_sms(SendSms::new("13800138001", "sign", "SMS_123456789")).await?;
    Ok(10)
}

/// A connection for the calls.
pub fn connection() -> Connection {
    Connection::new(Endpoint::CnHangzhou, AccessKeySecret::new("id", "secret"))
}
"#;

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    }
    // Unchanged files keep their time stamps, so the dependencies stay fresh across runs.
    if std::fs::read(path).ok().as_deref() == Some(contents.as_ref()) {
        return;
    }
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The scratch workspace's manifest: the real one's `[workspace.package]`, dependencies and
/// profiles, with these members.
fn workspace_manifest(root: &Path, members: &[String]) -> String {
    let real = std::fs::read_to_string(root.join("Cargo.toml")).expect("the workspace Cargo.toml");
    let rest = &real[real.find("[workspace.package]").expect("a [workspace.package] table")..];
    // The runtime crate stays where it is: the copies depend on the real one.
    let rest = rest.replace("path = \"runtime\"", &format!("path = {:?}", root.join("runtime")));
    let members: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
    format!(
        "# Written by benches/src/bin/compile_cost.rs; scratch space.\n[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n{rest}",
        members.join(", ")
    )
}

/// Writes one copy of the client crate generated from `spec`.
fn write_copy(root: &Path, dir: &Path, package: &str, spec: &SpecFiles, real: bool) -> usize {
    let manifest = std::fs::read_to_string(root.join("generated/Cargo.toml")).expect("generated/Cargo.toml");
    let manifest = manifest.replacen("name = \"alibabacloud-onsmqtt\"", &format!("name = \"{package}\""), 1);
    write(&dir.join("Cargo.toml"), manifest);
    // The hand-written files of the crate: every top-level source file without the generator's
    // header. Besides `lib.rs`, they (`mqtt.rs`) name real operations, so a synthetic copy leaves
    // them out, with their `mod` lines.
    let src = root.join("generated/src");
    let mut lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    for entry in std::fs::read_dir(&src).expect("generated/src") {
        let path = entry.expect("a directory entry").path();
        let (Some(stem), Some(name)) = (path.file_stem().and_then(|s| s.to_str()), path.file_name()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") || stem == "lib" {
            continue;
        }
        let text = std::fs::read(&path).expect("a source file");
        if text.starts_with(b"// @generated") {
            continue;
        }
        if real {
            write(&dir.join("src").join(name), text);
        } else {
            lib = lib.replace(&format!("pub mod {stem};\n"), "");
        }
    }
    write(&dir.join("src/lib.rs"), lib);
    // Operations of an earlier, larger run would otherwise linger (they are not compiled, as
    // `operations/mod.rs` names the modules, but keep the copy exact).
    let _ = std::fs::remove_dir_all(dir.join("src/operations"));
    let files = spec.generate();
    for f in &files {
        write(&dir.join("src").join(&f.path), &f.contents);
    }
    spec.operations.len()
}

fn cargo(ws: &Path, target: &Path, args: &[&str]) -> Duration {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let started = Instant::now();
    // Output is kept for a failure: a small synthetic spec leaves some runtime helpers unused,
    // and the dead-code warnings would bury the table.
    let output = Command::new(cargo)
        .args(args)
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let elapsed = started.elapsed();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("cargo {} failed in {}", args.join(" "), ws.display());
    }
    elapsed
}

/// Touches `lib.rs` and times building `package` alone, best of `reps`.
fn time_crate(ws: &Path, target: &Path, lib: &Path, package: &str, reps: usize) -> f64 {
    // Once untimed: builds whatever else the package needs.
    cargo(ws, target, &["build", "--quiet", "-p", package]);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let text = std::fs::read(lib).expect("lib.rs");
        std::fs::write(lib, text).expect("touch lib.rs");
        best = best.min(cargo(ws, target, &["build", "--quiet", "-p", package]).as_secs_f64());
    }
    best
}

/// Times building a crate whose sources are not ours to touch (the runtime through a path, a
/// registry crate): `cargo clean -p`, then `cargo build -p`, best of `reps`. Its dependencies are
/// built first, untimed.
fn time_cleaned(ws: &Path, target: &Path, package: &str, reps: usize) -> f64 {
    cargo(ws, target, &["build", "--quiet", "-p", package]);
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        cargo(ws, target, &["clean", "--quiet", "-p", package]);
        best = best.min(cargo(ws, target, &["build", "--quiet", "-p", package]).as_secs_f64());
    }
    best
}

/// A clean build of `package` and everything under it, in a target directory of its own.
fn clean_build(ws: &Path, target: &Path, package: &str) -> f64 {
    let _ = std::fs::remove_dir_all(target);
    cargo(ws, target, &["build", "--quiet", "-p", package]).as_secs_f64()
}

/// The ali-acs figures: that crate alone and a clean build of a ten-call application.
fn ali_acs(base: &Path, reps: usize) -> serde_json::Value {
    let ws = base.join("ali-acs");
    write(
        &ws.join("Cargo.toml"),
        "# Written by benches/src/bin/compile_cost.rs; scratch space, never committed.\n\
         [workspace]\nresolver = \"3\"\nmembers = [\"app\"]\n\n\
         [profile.dev.package.\"*\"]\ndebug = false\n\n[profile.dev]\ndebug = \"line-tables-only\"\n",
    );
    write(
        &ws.join("app/Cargo.toml"),
        "[package]\nname = \"acs-app\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nali-acs = { version = \"=0.8.0\", default-features = false, features = [\"sms\"] }\n",
    );
    write(&ws.join("app/src/lib.rs"), ACS_LIB);
    let target = ws.join("target");
    let alone = time_cleaned(&ws, &target, "ali-acs", reps);
    let app_alone = time_crate(&ws, &target, &ws.join("app/src/lib.rs"), "acs-app", reps);
    let clean = clean_build(&ws, &ws.join("target-clean"), "acs-app");
    serde_json::json!({
        "version": "0.8.0",
        "features": ["sms"],
        "operations": 56,
        "crate_seconds": alone,
        "app_alone_seconds": app_alone,
        "app_clean_seconds": clean,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or("10,50,100,250,500,1000")
        .split(',')
        .map(|s| s.trim().parse().expect("--sizes takes numbers"))
        .collect();
    let reps: usize = arg(&args, "--reps").map_or(2, |r| r.parse().expect("--reps takes a number")).max(1);

    let root = workspace_root();
    let base = target_dir().join("bench-compile");
    let ws = base.join("ws");
    let target = base.join("target");

    let mut variants: Vec<(String, String, SpecFiles)> = vec![("real".into(), "cc-real".into(), real_spec())];
    for n in &sizes {
        variants.push((format!("synthetic-{n}"), format!("cc-{n}"), synthetic_spec(*n)));
    }
    let mut members: Vec<String> = variants.iter().map(|(_, dir, _)| dir.clone()).collect();
    members.push("user".into());
    write(&ws.join("Cargo.toml"), workspace_manifest(&root, &members));
    write(&ws.join("Cargo.lock"), std::fs::read(root.join("Cargo.lock")).expect("Cargo.lock"));
    let mut ops = Vec::new();
    for (_, dir, spec) in &variants {
        ops.push(write_copy(&root, &ws.join(dir), &format!("onsmqtt-{dir}"), spec, dir == "cc-real"));
    }
    let user_manifest = "[package]\nname = \"onsmqtt-user\"\nversion = \"0.0.0\"\nedition.workspace = true\n\
                         publish = false\n\n[dependencies]\n\
                         alibabacloud-onsmqtt = { package = \"onsmqtt-cc-real\", path = \"../cc-real\" }\n";
    write(&ws.join("user/Cargo.toml"), user_manifest);
    write(&ws.join("user/src/lib.rs"), USER_LIB);

    println!("compile cost: debug, incremental off, dependencies prebuilt, best of {reps}");
    println!("building the dependencies once ({})...", target.display());
    let deps = cargo(&ws, &target, &["build", "--quiet", "-p", "onsmqtt-cc-real"]);
    println!("  dependencies and the real crate: {:.1} s", deps.as_secs_f64());

    let runtime = time_cleaned(&ws, &target, "alibabacloud-runtime", reps);
    println!("  runtime crate alone: {runtime:.2} s");
    println!("{:>16} {:>6} {:>9} {:>9}", "spec", "ops", "seconds", "s/op");
    let mut rows = Vec::new();
    for ((name, dir, _), n) in variants.iter().zip(&ops) {
        let secs =
            time_crate(&ws, &target, &ws.join(dir).join("src/lib.rs"), &format!("onsmqtt-{dir}"), reps);
        println!("{name:>16} {n:>6} {secs:>9.2} {:>9.4}", secs / *n as f64);
        rows.push(serde_json::json!({ "spec": name, "operations": n, "seconds": secs, "seconds_per_op": secs / *n as f64 }));
    }
    // The marginal cost of an operation: the slope between the smallest and largest synthetic spec.
    let synth: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r["spec"].as_str().is_some_and(|s| s.starts_with("synthetic")))
        .filter_map(|r| Some((r["operations"].as_f64()?, r["seconds"].as_f64()?)))
        .collect();
    let marginal = match (synth.first(), synth.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => Some((b.1 - a.1) / (b.0 - a.0)),
        _ => None,
    };
    if let Some(m) = marginal {
        println!("  marginal cost per operation (slope): {m:.4} s");
    }
    let user = time_crate(&ws, &target, &ws.join("user/src/lib.rs"), "onsmqtt-user", reps);
    println!("  application calling 10 operations, alone: {user:.2} s");
    let app_clean = clean_build(&ws, &base.join("target-clean"), "onsmqtt-user");
    println!("  application, clean build (everything): {app_clean:.1} s");
    let acs = if args.iter().any(|a| a == "--no-ali-acs") {
        serde_json::Value::Null
    } else {
        let acs = ali_acs(&base, reps);
        println!(
            "  ali-acs 0.8 (sms, 56 operations) alone: {:.2} s; application alone {:.2} s, clean build {:.1} s",
            acs["crate_seconds"].as_f64().unwrap_or(0.0),
            acs["app_alone_seconds"].as_f64().unwrap_or(0.0),
            acs["app_clean_seconds"].as_f64().unwrap_or(0.0)
        );
        acs
    };

    let out = serde_json::json!({
        "profile": "debug",
        "incremental": false,
        "reps": reps,
        "runtime_seconds": runtime,
        "rows": rows,
        "marginal_seconds_per_op": marginal,
        "user_crate_10_ops_seconds": user,
        "app_clean_seconds": app_clean,
        "ali_acs": acs,
        "workspace": PathBuf::from(&ws).display().to_string(),
    });
    match write_result("compile", &out) {
        Ok(p) => println!("results: {}", p.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}
