//! Fixtures and helpers shared by the benchmarks of the onsmqtt client and its generator.
//!
//! - `benches/per_call.rs` (criterion): signing, request encoding, response decoding.
//! - `benches/generator.rs` (criterion): the generator on the real spec and on synthetic ones.
//! - `src/bin/throughput.rs`: our client against a bare reqwest client, same local server.
//! - `src/bin/compile_cost.rs`: build time of the generated crate per operation.
//! - `src/bin/bench_report.rs`: the one table `cargo xtask bench` prints.
//!
//! Nothing here asserts on time: CI builds the benchmarks (clippy `--all-targets`) but never runs
//! them.

use std::path::{Path, PathBuf};

pub mod charts;

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("benches/ lives in the workspace").to_owned()
}

/// The cargo target directory: `CARGO_TARGET_DIR`, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() { dir } else { workspace_root().join(dir) }
        }
        _ => workspace_root().join("target"),
    }
}

/// Where the benchmark binaries leave their results for `bench_report` (JSON, one file each).
pub fn results_dir() -> PathBuf {
    target_dir().join("bench-results")
}

/// Writes one result file into [`results_dir`].
pub fn write_result(name: &str, value: &serde_json::Value) -> std::io::Result<PathBuf> {
    let dir = results_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Specs

/// Spec files in memory, as `onsmqtt_codegen::load::load_files` takes them: `(name, bytes)`.
#[derive(Clone, Debug)]
pub struct SpecFiles {
    /// `service.yaml`.
    pub service: (String, Vec<u8>),
    /// `operations/<Action>.yaml`, sorted by name.
    pub operations: Vec<(String, Vec<u8>)>,
}

impl SpecFiles {
    /// Runs the whole generator: load (parse) + validate + lower + emit + format.
    pub fn generate(&self) -> Vec<onsmqtt_codegen::GeneratedFile> {
        let loaded = onsmqtt_codegen::load::load_files(self.service.clone(), self.operations.clone())
            .unwrap_or_else(|e| panic!("the spec does not load: {e}"));
        onsmqtt_codegen::generate_loaded(&loaded).unwrap_or_else(|e| panic!("generation failed: {e}"))
    }
}

/// The real spec, `spec/onsmqtt`, read from disk.
pub fn real_spec() -> SpecFiles {
    let root = workspace_root();
    let dir = "spec/onsmqtt";
    let read = |rel: &str| std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"));
    let service_rel = format!("{dir}/service.yaml");
    let service = (service_rel.clone(), read(&service_rel));
    let mut names: Vec<String> = std::fs::read_dir(root.join(dir).join("operations"))
        .expect("spec/onsmqtt/operations")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    let operations = names
        .into_iter()
        .map(|n| {
            let rel = format!("{dir}/operations/{n}");
            let bytes = read(&rel);
            (rel, bytes)
        })
        .collect();
    SpecFiles { service, operations }
}

/// A synthetic spec of `n` operations: the real operations in turn, each copy renamed
/// `<Action><NNNN>` (`QuerySessionByClientId0001`, ...), so every copy is a distinct operation
/// with its own builder, input, output and error types. Shared `type_name`s stay shared.
pub fn synthetic_spec(n: usize) -> SpecFiles {
    let real = real_spec();
    let mut operations = Vec::with_capacity(n);
    for i in 0..n {
        let (_, bytes) = &real.operations[i % real.operations.len()];
        let text = std::str::from_utf8(bytes).expect("spec files are UTF-8");
        let mut renamed = String::with_capacity(text.len() + 8);
        let mut action = None;
        for line in text.split_inclusive('\n') {
            if action.is_none()
                && let Some(name) = line.strip_prefix("name: ")
            {
                let new = format!("{}{:04}", name.trim(), i + 1);
                renamed.push_str(&format!("name: {new}\n"));
                action = Some(new);
                continue;
            }
            renamed.push_str(line);
        }
        let action = action.expect("every operation file has a top-level `name:`");
        operations.push((format!("spec/onsmqtt/operations/{action}.yaml"), renamed.into_bytes()));
    }
    operations.sort_by(|a, b| a.0.cmp(&b.0));
    SpecFiles { service: real.service, operations }
}

// ---------------------------------------------------------------------------------------------
// Response bodies

/// The `QuerySessionByClientId` answer the throughput server sends.
pub const QUERY_SESSION_BODY: &str = r#"{"OnlineStatus":true,"RequestId":"x"}"#;

/// A realistic `QuerySessionByClientId` answer.
pub const QUERY_SESSION_BODY_REAL: &str =
    r#"{"RequestId":"E4581CCF-62AF-44D9-B5B4-D1DBBC0E2E5F","OnlineStatus":true}"#;

/// A `ListCaCertificate` answer with `n` certificates.
pub fn list_ca_certificate_body(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"RegistrationCode":"13274673-8f90-4630-bea1-9cccb25756ad2089{i:06}","CaName":"mqtt_ca_{i}","Sn":"007269004887{i:06}","CaContent":"-----BEGIN CERTIFICATE-----\nMIIDuzCCAqdGVzdC5jbi1xaW5nMIIDuzCCAqdGVzdC5jbi1xaW5nMIIDuzCCAqdGVzdC5jbi1xaW5n{i:06}\n-----END CERTIFICATE-----","VerificationContent":"-----BEGIN CERTIFICATE-----\nMIID/DCCAu+Y5sRMpp9tnd+4sMIID/DCCAu+Y5sRMpp9tnd+4s{i:06}\n-----END CERTIFICATE-----","ValidBegin":"1654137303000","ValidEnd":"1969497303000","Status":"1"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"RequestId":"020F6A43-19E6-4B6E-B846-44EB31DF0000","Data":{{"Total":{n},"PageNo":1,"PageSize":{n},"CaCertificateVOS":[{}]}}}}"#,
        items.join(",")
    )
}

/// A `QueryCustomAuthIdentity` answer with `n` identities.
pub fn query_custom_auth_identity_body(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            let kind = if i % 2 == 0 { "USER" } else { "CLIENT" };
            format!(
                r#"{{"Username":"user{i}","Secret":"62a5916d71767185b48907d85c2e{i:04}","IdentityType":"{kind}","ClientId":"GID_ICP@@@4d37{i:04}","SignMode":"SIGNED"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"RequestId":"11568B5B-13A8-4E72-9DBA-3A14F7D30000","Code":200,"Success":true,"Message":"operation success.","Data":{{"Results":[{}],"NextToken":"AAAAAXA+GzVqTutYpgkFjBrchKzuvSbpuTqtt6OF9tsC9QnJ"}}}}"#,
        items.join(",")
    )
}

// ---------------------------------------------------------------------------------------------
// Process measurements (Linux)

/// CPU time (user + system) of the whole process so far, in nanoseconds.
pub fn process_cpu_ns() -> u64 {
    // SAFETY: getrusage only writes the struct we pass; a zeroed rusage is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF and a valid pointer to a rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return 0;
    }
    let tv = |t: libc::timeval| {
        u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_usec).unwrap_or(0) * 1_000
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time (user + system) of this process's threads whose name starts with `prefix`, in
/// nanoseconds, from `/proc/self/task/*/stat` (clock-tick resolution, 10 ms at the usual 100 Hz).
pub fn threads_cpu_ns(prefix: &str) -> u64 {
    let ticks_per_s = {
        // SAFETY: sysconf has no preconditions.
        let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if t > 0 { u64::try_from(t).unwrap_or(100) } else { 100 }
    };
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    let mut ticks = 0u64;
    for task in tasks.filter_map(Result::ok) {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        // `pid (comm) state ppid ...`: comm may hold spaces, so split at the last `)`.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After `)`: state is field 3 of the man page, utime 14 and stime 15.
        let get = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        ticks += get(14) + get(15);
    }
    ticks * 1_000_000_000 / ticks_per_s
}

/// A `VmXXX:` value of `/proc/self/status`, in KiB.
pub fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Peak resident memory (VmHWM) in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM")
}

/// Resets the peak resident memory to the current one (`echo 5 > /proc/self/clear_refs`);
/// false where the kernel does not allow it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The machine, for the report: `nproc`, CPU model, rustc version.
pub fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    serde_json::json!({ "nproc": nproc, "cpu": cpu, "rustc": rustc })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_specs_generate() {
        let spec = synthetic_spec(3);
        assert_eq!(spec.operations.len(), 3);
        assert!(spec.operations[0].0.ends_with("0001.yaml"));
        // client.rs, service.rs, types.rs, operations/mod.rs and one file per operation.
        assert_eq!(spec.generate().len(), 4 + 3);
    }

    #[test]
    fn bodies_are_json() {
        for body in [list_ca_certificate_body(3), query_custom_auth_identity_body(3)] {
            serde_json::from_str::<serde_json::Value>(&body).unwrap();
        }
    }

    #[test]
    fn process_measurements() {
        assert!(process_cpu_ns() > 0 || cfg!(not(target_os = "linux")));
        let _ = threads_cpu_ns("none-such");
        let _ = peak_rss_kib();
    }
}
