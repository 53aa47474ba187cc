//! Structure-aware: the input picks names and texts for a spec that is otherwise valid, from
//! Rust keywords, prelude, std and runtime names, the generator's own families, affixes and raw
//! bytes. Whatever it picks, the generator either refuses with spec diagnostics or emits code
//! that parses (an emit error means validation let through a name lowering cannot give), and
//! no rendered diagnostic or generated doc line can open a code block or raw HTML.

#![no_main]

use libfuzzer_sys::fuzz_target;
use onsmqtt_codegen::{Error, LoadError, load};

const SERVICE: &[u8] = include_bytes!("../../spec/onsmqtt/service.yaml");

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "Type", "Self", "Gen", "Async", "Match", "Fn", "Crate", "Super", "Mod", "Try", "Box", "Union",
    "MacroRules", "Option", "Some", "None", "Result", "Ok", "Err", "String", "Vec", "Into", "From",
    "Clone", "Default", "Send", "Future", "Client", "Config", "Error", "ServiceError", "Pages", "Items",
    "Set", "Unset", "IsSet", "Params", "Operation", "New", "IntoPages", "IntoItems", "Maybe", "Label",
    "MaybeLabel", "Param", "Output", "Builder", "Input", "Unknown", "Unhandled", "Endpoint", "Core",
];

const TEXTS: &[&str] = &[
    "```rust\npanic!()\n```", "`unmatched <img src=x onerror=alert(1)>", "~~~\nx\n~~~", "[a](b) <script>",
    "https://example.com/x", "    indented code", "\\<b\\>", "``a`b``", "# Heading", "> quote",
];

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next().unwrap_or(0) as usize;
    let name = |next: &mut dyn FnMut() -> usize| -> String {
        let a = WORDS[next() % WORDS.len()];
        match next() % 4 {
            0 => a.to_owned(),
            1 => format!("{a}{}", WORDS[next() % WORDS.len()]),
            2 => format!("Maybe{a}"),
            _ => format!("{a}{}", next()),
        }
    };
    let op = name(&mut next);
    let text = |next: &mut dyn FnMut() -> usize| TEXTS[next() % TEXTS.len()].replace('\n', "\\n");
    let mut y = format!(
        "name: {op}\nsummary: \"{}\"\ndescription: \"{}\"\nmethod: POST\nmutating: false\nparameters:\n",
        text(&mut next).replace("\\n", " "),
        text(&mut next)
    );
    for _ in 0..next() % 5 {
        let ty = ["string", "int32", "boolean"][next() % 3];
        let _ = std::fmt::Write::write_fmt(
            &mut y,
            format_args!(
                "  - name: {}\n    in: query\n    type: {ty}\n    required: {}\n    description: \"{}\"\n",
                name(&mut next),
                next() % 2 == 0,
                text(&mut next)
            ),
        );
    }
    y.push_str("response:\n  - name: RequestId\n    type: string\n    required: true\n    description: The ID.\n");
    for _ in 0..next() % 4 {
        let _ = std::fmt::Write::write_fmt(
            &mut y,
            format_args!("  - name: {}\n    type: object\n    description: \"{}\"\n    fields:\n      - name: {}\n        type: string\n        description: A member.\n", name(&mut next), text(&mut next), name(&mut next)),
        );
    }
    if next() % 2 == 0 {
        let _ = std::fmt::Write::write_fmt(
            &mut y,
            format_args!("errors:\n  - status: 400\n    code: {}\n    description: \"{}\"\n", name(&mut next), text(&mut next)),
        );
    }
    let result = load::load_files(
        ("spec/onsmqtt/service.yaml".to_owned(), SERVICE.to_vec()),
        vec![(format!("spec/onsmqtt/operations/{op}.yaml"), y.into_bytes())],
    )
    .map_err(Error::from)
    .and_then(|loaded| onsmqtt_codegen::generate_loaded(&loaded));
    match result {
        Ok(files) => {
            for f in &files {
                // The generator's own `# Example` blocks open with exactly "```no_run" and hold
                // code made from tokens; spec text can only show a fence escaped.
                let mut in_example = false;
                for line in f.contents.lines() {
                    let t = line.trim_start();
                    if let Some(doc) = t.strip_prefix("///").or_else(|| t.strip_prefix("//!")) {
                        let doc = doc.strip_prefix(' ').unwrap_or(doc);
                        if doc == "```no_run" || (in_example && doc == "```") {
                            in_example = !in_example;
                            continue;
                        }
                        if in_example {
                            continue;
                        }
                        assert!(
                            !(doc.starts_with("```") || doc.starts_with("~~~") || doc.starts_with('<') || doc.starts_with("    ")),
                            "{}: {line}",
                            f.path
                        );
                    }
                }
            }
        }
        Err(Error::Load(LoadError::Spec(errors))) => {
            assert!(!errors.render_plain().is_empty());
        }
        Err(other) => panic!("not a spec error: {other}"),
    }
});
