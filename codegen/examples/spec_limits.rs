//! Times the generator on the worst spec files the size limit allows (`cargo xtask spec-limits`,
//! release build): each input runs in a child process of its own, which reports its wall time
//! and peak RSS. The claim in spec/README.md: every input up to the size limit is accepted or
//! refused in under 1 s and under 200 MB.

use onsmqtt_codegen::load;
use std::time::Instant;

const HEAD: &str = "name: Worst\nsummary: Looks up one client.\nmethod: POST\nmutating: false\n";

fn inputs() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> =
        load::worst_inputs(HEAD).into_iter().map(|(name, text, _)| (name, text)).collect();
    // A valid file as large as allowed: a long JSON example in a block scalar.
    let mut big = format!(
        "{HEAD}response:\n  - name: RequestId\n    type: string\n    required: true\n    description: The request ID.\nexamples:\n  json: |\n"
    );
    while big.len() + 64 < load::MAX_FILE_BYTES {
        big.push_str("    {\"RequestId\": \"0F3B5C0A-1111-2222-3333-444455556666\"},\n");
    }
    out.push(("LargestValidFile", big));
    out
}

fn peak_rss_kib() -> i64 {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the struct it is given.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            // SAFETY: initialised by the successful call.
            return unsafe { usage.assume_init() }.ru_maxrss;
        }
    }
    -1
}

fn main() {
    let service =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/onsmqtt/service.yaml"))
            .expect("the real service.yaml");
    if let Some(case) = std::env::args().nth(1) {
        let (_, text) = inputs().into_iter().find(|(n, _)| *n == case).expect("a known case");
        let start = Instant::now();
        let outcome = load::load_files(
            ("spec/onsmqtt/service.yaml".to_owned(), service),
            vec![("spec/onsmqtt/operations/Worst.yaml".to_owned(), text.into_bytes())],
        )
        .map_err(onsmqtt_codegen::Error::from)
        .and_then(|l| onsmqtt_codegen::generate_loaded(&l));
        let elapsed = start.elapsed();
        let verdict = match outcome {
            Ok(_) => "accepted".to_owned(),
            Err(onsmqtt_codegen::Error::Load(onsmqtt_codegen::LoadError::Spec(e))) => {
                format!("refused at {}", e.errors.first().map_or("?", |e| e.location.as_str()))
            }
            Err(e) => format!("failed: {e}"),
        };
        println!("{case}\t{:.3}\t{}\t{verdict}", elapsed.as_secs_f64(), peak_rss_kib() / 1024);
        return;
    }
    println!("| input | bytes | time (s) | peak RSS (MB) | outcome |\n|---|---|---|---|---|");
    let me = std::env::current_exe().expect("own path");
    let mut worst = (0.0f64, 0i64);
    for (name, text) in inputs() {
        let out = std::process::Command::new(&me).arg(name).output().expect("child runs");
        let line = String::from_utf8_lossy(&out.stdout);
        let cols: Vec<&str> = line.trim().split('\t').collect();
        if cols.len() != 4 {
            println!(
                "| {name} | {} | ? | ? | child failed: {} |",
                text.len(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            continue;
        }
        let (t, rss): (f64, i64) = (cols[1].parse().unwrap_or(f64::MAX), cols[2].parse().unwrap_or(i64::MAX));
        worst = (worst.0.max(t), worst.1.max(rss));
        println!(
            "| {name} | {} | {} | {} | {} |",
            text.len(),
            cols[1],
            cols[2],
            cols[3].replace("spec/onsmqtt/operations/", "")
        );
    }
    println!("\nworst: {:.3} s, {} MB", worst.0, worst.1);
    if worst.0 >= 1.0 || worst.1 >= 200 {
        eprintln!("error: over the budget of 1 s and 200 MB");
        std::process::exit(1);
    }
}
