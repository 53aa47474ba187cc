//! The one table of `cargo xtask bench`: reads criterion's estimates (`target/criterion`) and the
//! results of `throughput` and `compile_cost` (`target/bench-results`), prints a Markdown table
//! with the machine it ran on, and writes it to `target/bench-results/report.md`.
//!
//! `cargo run --release -p onsmqtt-benches --bin bench_report`

use std::fmt::Write as _;
use std::path::Path;

use onsmqtt_benches::{machine, results_dir, target_dir};
use serde_json::Value;

/// Criterion's mean estimate for `id` (`group/function[/parameter]`), in nanoseconds.
fn criterion_ns(id: &str) -> Option<f64> {
    let path = target_dir().join("criterion").join(id).join("new/estimates.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn result(name: &str) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(results_dir().join(format!("{name}.json"))).ok()?).ok()
}

fn time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "",
    }
}

struct Table(String);

impl Table {
    fn row(&mut self, area: &str, what: &str, value: String, target: &str, ok: Option<bool>) {
        let _ = writeln!(self.0, "| {area} | {what} | {value} | {target} | {} |", verdict(ok));
    }
    fn missing(&mut self, area: &str, what: &str) {
        self.row(area, what, "not run".into(), "", None);
    }
}

fn main() {
    let mut t = Table(String::new());
    let _ = writeln!(t.0, "| area | measurement | result | target | |");
    let _ = writeln!(t.0, "|---|---|---|---|---|");

    let per_call = [
        ("sign/v3", "sign V3 (ACS3-HMAC-SHA256), QuerySessionByClientId"),
        ("sign/v1", "sign V1 (HMAC-SHA1), QuerySessionByClientId"),
        ("sign/v3_sts", "sign V3 with an STS token"),
        ("sign/date_and_nonce", "date + nonce"),
        ("request/prepare_v3", "whole attempt before I/O, V3: date, nonce, sign, URL, headers"),
        ("request/prepare_v1", "whole attempt before I/O, V1"),
        ("encode/query_session", "encode QuerySessionByClientId (params + canonical query)"),
        ("encode/batch_query_10", "encode BatchQuerySessionByClientIds, 10 client IDs"),
        ("decode/query_session", "decode QuerySessionByClientIdOutput"),
        ("decode/batch_query_10", "decode BatchQuerySessionByClientIdsOutput, 10 items"),
        ("decode/list_ca_certificate_100", "decode ListCaCertificateOutput, 100 certificates (~57 KB)"),
        ("decode/query_custom_auth_identity_100", "decode QueryCustomAuthIdentityOutput, 100 identities"),
    ];
    for (id, what) in per_call {
        match criterion_ns(id) {
            Some(ns) => t.row("per call", what, time(ns), "", None),
            None => t.missing("per call", what),
        }
    }

    match result("throughput") {
        Some(tp) => {
            let pinned = tp["pinned"].as_bool().unwrap_or(false);
            let f = |v: &Value| v.as_f64().unwrap_or(0.0);
            for r in tp["results"].as_array().into_iter().flatten() {
                let c = r["concurrency"].as_u64().unwrap_or(0);
                let area = format!("throughput, concurrency {c}");
                let b = &r["bare"];
                let target = c == 64;
                for (kind, who) in [
                    ("ours_v3", "ours V3, caching provider (STS)"),
                    ("ours_v1", "ours V1, caching provider (STS)"),
                    ("ours_v3_static", "ours V3, static key"),
                    ("bare_headers", "diagnostic: bare reqwest sending a V3+STS request's headers, prebuilt"),
                    ("bare_hyper", "reference: the bare call through hyper-util directly"),
                ] {
                    let o = &r[kind];
                    if !o.is_object() {
                        continue;
                    }
                    let calls = f(&o["calls_per_s_ratio"]);
                    let cpu = f(&o["cpu_per_call_ratio"]);
                    let goal = target && kind.starts_with("ours") && kind != "ours_v3_static";
                    t.row(
                        &area,
                        &format!("{who}: calls/s vs bare reqwest (ratio)"),
                        format!("{:.0} vs {:.0} ({calls:.3})", f(&o["calls_per_s"]), f(&b["calls_per_s"])),
                        if goal { ">= 0.90" } else { "" },
                        goal.then_some(calls >= 0.90),
                    );
                    t.row(
                        &area,
                        &format!("{who}: client CPU per call vs bare (ratio); server CPU per call"),
                        format!(
                            "{} vs {} ({cpu:.3}x); server {} vs {}",
                            time(f(&o["cpu_ns_per_call"])),
                            time(f(&b["cpu_ns_per_call"])),
                            time(f(&o["server_cpu_ns_per_call"])),
                            time(f(&b["server_cpu_ns_per_call"])),
                        ),
                        if goal { "<= 1.15x" } else { "" },
                        goal.then_some(cpu <= 1.15),
                    );
                }
            }
            let peak = tp["peak_rss_kib"].as_u64().unwrap_or(0);
            t.row(
                "memory",
                &format!(
                    "peak RSS of the client process (VmHWM); server in its own process{}",
                    if pinned { ", pinned to another core" } else { ", not pinned" }
                ),
                format!("{:.1} MiB", peak as f64 / 1024.0),
                "",
                None,
            );
        }
        None => t.missing("throughput", "ours vs bare reqwest"),
    }

    match criterion_ns("generator/real_spec") {
        Some(ns) => t.row(
            "generator",
            "real spec (50 operations): load + validate + lower + emit + format",
            time(ns),
            "< 0.1 s",
            Some(ns < 1e8),
        ),
        None => t.missing("generator", "real spec"),
    }
    let synth: Vec<(u64, Option<f64>)> =
        [250u64, 500, 1000].iter().map(|n| (*n, criterion_ns(&format!("generator_synthetic/{n}")))).collect();
    for (n, ns) in &synth {
        let what = format!("synthetic spec, {n} operations");
        match ns {
            Some(ns) => {
                let per_op = format!("{} ({} per operation)", time(*ns), time(ns / *n as f64));
                let (target, ok) = if *n == 1000 { ("< 1 s", Some(*ns < 1e9)) } else { ("", None) };
                t.row("generator", &what, per_op, target, ok);
            }
            None => t.missing("generator", &what),
        }
    }
    if let (Some(a), Some(b)) = (synth[0].1, synth[2].1) {
        // Linear: time per operation at 1,000 within 25 % of that at 250.
        let (pa, pb) = (a / 250.0, b / 1000.0);
        t.row(
            "generator",
            "linearity: time per operation at 1,000 / at 250",
            format!("{:.2}", pb / pa),
            "~1",
            Some(pb / pa < 1.25),
        );
    }

    match result("compile") {
        Some(cc) => {
            let secs = |v: &Value| v.as_f64().unwrap_or(0.0);
            if let Some(rt) = cc["runtime_seconds"].as_f64() {
                t.row(
                    "compile",
                    "runtime crate alone (alibabacloud-runtime)",
                    format!("{rt:.2} s"),
                    "",
                    None,
                );
            }
            for r in cc["rows"].as_array().into_iter().flatten() {
                let spec = r["spec"].as_str().unwrap_or("?");
                let n = r["operations"].as_u64().unwrap_or(0);
                let (s, per) = (secs(&r["seconds"]), secs(&r["seconds_per_op"]));
                let what = format!("generated crate alone, {spec} spec ({n} operations)");
                let (target, ok) =
                    if spec == "real" { ("< 0.05 s/op", Some(per < 0.05)) } else { ("", None) };
                t.row("compile", &what, format!("{s:.2} s = {per:.4} s/op"), target, ok);
            }
            if let Some(m) = cc["marginal_seconds_per_op"].as_f64() {
                t.row(
                    "compile",
                    "marginal cost of one more operation (slope, synthetic specs)",
                    format!("{m:.4} s/op"),
                    "",
                    None,
                );
            }
            let acs = &cc["ali_acs"];
            if let Some(a) = acs["crate_seconds"].as_f64() {
                let n = acs["operations"].as_u64().unwrap_or(0);
                t.row(
                    "compile",
                    &format!(
                        "ali-acs {} with `sms` ({n} operations), that crate alone",
                        acs["version"].as_str().unwrap_or("0.8")
                    ),
                    format!("{a:.2} s = {:.4} s/op", a / n.max(1) as f64),
                    "",
                    None,
                );
            }
            if let Some(app) = cc["app_clean_seconds"].as_f64() {
                let theirs = acs["app_clean_seconds"].as_f64();
                t.row(
                    "compile",
                    "clean build of a small application on our client (everything, wall clock)",
                    format!("{app:.1} s"),
                    "<= ali-acs",
                    theirs.map(|x| app <= x),
                );
                if let Some(x) = theirs {
                    t.row(
                        "compile",
                        "clean build of the same application on ali-acs (`sms`)",
                        format!("{x:.1} s"),
                        "",
                        None,
                    );
                }
            }
            if let Some(u) = cc["user_crate_10_ops_seconds"].as_f64() {
                t.row(
                    "compile",
                    "the application alone (10 calls through the builders)",
                    format!("{u:.2} s"),
                    "",
                    None,
                );
            }
        }
        None => t.missing("compile", "generated crate"),
    }

    match onsmqtt_benches::charts::draw_all() {
        Ok(files) => {
            for f in files {
                println!("chart: {}", f.display());
            }
        }
        Err(e) => eprintln!("could not draw the charts: {e}"),
    }

    let m = machine();
    let header = format!(
        "Machine: {} cores (nproc), {}, {}.\n",
        m["nproc"],
        m["cpu"].as_str().unwrap_or("?"),
        m["rustc"].as_str().unwrap_or("?")
    );
    let report = format!("{header}\n{}", t.0);
    println!("{report}");
    let path = results_dir().join("report.md");
    if std::fs::create_dir_all(results_dir()).is_ok() && std::fs::write(&path, &report).is_ok() {
        println!("written to {}", Path::new(&path).display());
    }
}
