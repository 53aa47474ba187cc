//! The charts of BENCHMARKS.md, drawn with `plotters` (SVG) from the results in
//! `target/bench-results/`: calls per second and CPU per call against concurrency, and the
//! compile time of the generated crate against its number of operations.

use std::path::PathBuf;

use plotters::prelude::*;
use serde_json::Value;

use crate::{results_dir, workspace_root};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The clients of the throughput chart: JSON key, legend, colour.
const SERIES: [(&str, &str, RGBColor); 6] = [
    ("bare", "bare reqwest", RGBColor(0x44, 0x44, 0x44)),
    ("bare_headers", "bare + a signed request's headers", RGBColor(0x99, 0x99, 0x99)),
    ("bare_hyper", "bare hyper-util (no reqwest)", RGBColor(0x94, 0x67, 0xbd)),
    ("ours_v3", "ours, V3, caching provider", RGBColor(0x1f, 0x77, 0xb4)),
    ("ours_v1", "ours, V1, caching provider", RGBColor(0xd6, 0x27, 0x28)),
    ("ours_v3_static", "ours, V3, static key", RGBColor(0x2c, 0xa0, 0x2c)),
];

fn read(name: &str) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(results_dir().join(format!("{name}.json"))).ok()?).ok()
}

/// Draws every chart whose results exist; returns the files written (beside BENCHMARKS.md).
pub fn draw_all() -> Res<Vec<PathBuf>> {
    let mut out = Vec::new();
    if let Some(tp) = read("throughput") {
        let root = workspace_root();
        let calls = root.join("bench-throughput.svg");
        throughput_chart(&tp, &calls, "calls per second (higher is better)", "calls/s", "calls_per_s", 1.0)?;
        out.push(calls);
        let cpu = root.join("bench-cpu-per-call.svg");
        throughput_chart(
            &tp,
            &cpu,
            "client CPU per call (lower is better)",
            "µs per call",
            "cpu_ns_per_call",
            1e-3,
        )?;
        out.push(cpu);
    }
    if let Some(cc) = read("compile") {
        let path = workspace_root().join("bench-compile.svg");
        compile_chart(&cc, &path)?;
        out.push(path);
    }
    Ok(out)
}

fn throughput_chart(tp: &Value, path: &PathBuf, title: &str, y_desc: &str, key: &str, scale: f64) -> Res<()> {
    let results: Vec<&Value> = tp["results"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let concurrency: Vec<u64> = results.iter().map(|r| r["concurrency"].as_u64().unwrap_or(0)).collect();
    let value = |r: &Value, kind: &str| r[kind][key].as_f64().map(|v| v * scale);
    let y_max = results
        .iter()
        .flat_map(|r| SERIES.iter().filter_map(move |(k, _, _)| value(r, k)))
        .fold(0.0f64, f64::max)
        * 1.15;
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = concurrency.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0f64..y_max.max(1.0))?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                concurrency.get(i as usize).map_or(String::new(), u64::to_string)
            } else {
                String::new()
            }
        })
        .x_desc("concurrency (calls in flight)")
        .y_desc(y_desc)
        .draw()?;
    for (kind, label, color) in SERIES {
        let points: Vec<(f64, f64)> =
            results.iter().enumerate().filter_map(|(i, r)| Some((i as f64, value(r, kind)?))).collect();
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn compile_chart(cc: &Value, path: &PathBuf) -> Res<()> {
    let points: Vec<(f64, f64)> = cc["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["spec"].as_str().is_some_and(|s| s.starts_with("synthetic")))
        .filter_map(|r| Some((r["operations"].as_f64()?, r["seconds"].as_f64()?)))
        .collect();
    let real: Option<(f64, f64)> = cc["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["spec"] == "real")
        .and_then(|r| Some((r["operations"].as_f64()?, r["seconds"].as_f64()?)));
    let x_max = points.iter().map(|p| p.0).fold(10.0f64, f64::max) * 1.05;
    let y_max = points.iter().chain(&real).map(|p| p.1).fold(1.0f64, f64::max) * 1.15;
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("debug build of the generated crate alone (dependencies prebuilt)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    chart.configure_mesh().x_desc("operations in the spec (synthetic)").y_desc("seconds").draw()?;
    let blue = RGBColor(0x1f, 0x77, 0xb4);
    chart
        .draw_series(LineSeries::new(points.clone(), blue.stroke_width(2)))?
        .label("synthetic specs")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], blue.stroke_width(2)));
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, blue.filled())))?;
    // The target: 0.05 s per operation.
    let red = RGBColor(0xd6, 0x27, 0x28);
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (x_max, 0.05 * x_max)], red.stroke_width(1)))?
        .label("0.05 s per operation")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], red.stroke_width(1)));
    if let Some(p) = real {
        let green = RGBColor(0x2c, 0xa0, 0x2c);
        chart
            .draw_series([Circle::new(p, 5, green.filled())])?
            .label("the real spec (50 operations)")
            .legend(move |(x, y)| Circle::new((x + 9, y), 4, green.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
