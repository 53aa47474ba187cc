//! The generator: load + validate + lower + emit + format, on the real spec (50 operations) and
//! on synthetic specs of 250, 500 and 1,000 operations (the real ones copied under new names),
//! to show the cost is linear in the number of operations.
//!
//! `cargo bench -p onsmqtt-benches --bench generator`; `cargo xtask bench` runs it with the rest.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use onsmqtt_benches::{real_spec, synthetic_spec};
use onsmqtt_codegen::{emit, load, lower, validate};

fn real(c: &mut Criterion) {
    let spec = real_spec();
    let mut g = c.benchmark_group("generator");
    g.throughput(Throughput::Elements(spec.operations.len() as u64));
    g.bench_function("real_spec", |b| b.iter(|| black_box(&spec).generate()));
    g.finish();

    // The stages one by one, to see where the time goes.
    let loaded = load::load_files(spec.service.clone(), spec.operations.clone()).unwrap();
    let ir = lower::lower(&loaded);
    let mut g = c.benchmark_group("generator_stages");
    g.bench_function("load", |b| {
        b.iter(|| load::load_files(spec.service.clone(), spec.operations.clone()).unwrap())
    });
    g.bench_function("validate", |b| b.iter(|| validate::validate(black_box(&loaded)).unwrap()));
    g.bench_function("lower", |b| b.iter(|| lower::lower(black_box(&loaded))));
    g.bench_function("emit_and_format", |b| b.iter(|| emit::emit(black_box(&ir)).unwrap()));
    g.finish();
}

fn synthetic(c: &mut Criterion) {
    let mut g = c.benchmark_group("generator_synthetic");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for n in [250usize, 500, 1000] {
        let spec = synthetic_spec(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &spec, |b, spec| b.iter(|| spec.generate()));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = real, synthetic
}
criterion_main!(benches);
