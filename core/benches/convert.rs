//! Conversion cost per event: parse + rules + alert + JSON serialisation, over every sample.
//!
//! `cargo bench --bench convert`; `make bench` runs it and reads
//! `target/criterion/convert*/*/new/estimates.json` into BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harbor_flashduty_core::convert::{Action, convert};
use harbor_flashduty_core::payload;
use harbor_flashduty_core::rules::Rules;
use std::hint::black_box;
use std::path::Path;

/// Every JSON sample except the CloudEvents binary-mode pair (it needs headers).
fn samples() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut samples = Vec::new();
    for dir in ["harbor", "msr3"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixtures directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| !p.to_string_lossy().contains("cloudevents_binary"))
            .collect();
        paths.sort();
        for path in paths {
            let body = std::fs::read(&path).expect("fixture");
            // Harbor sends compact JSON; measure what arrives on the wire.
            let value: serde_json::Value = serde_json::from_slice(&body).expect("fixture is JSON");
            let compact = serde_json::to_vec(&value).expect("serialise");
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            samples.push((name, compact));
        }
    }
    samples
}

/// The rules of SPEC section 7's example, so matching is part of the cost. Shared with
/// `benches/lambda.rs` and the opt-level comparison in `scripts/bench.py`.
const EXAMPLE_RULES: &str = include_str!("../../benches/data/example-rules.json");

fn convert_to_json(body: &[u8], rules: &Rules) -> Vec<u8> {
    let converted = convert(body, None, rules).expect("samples convert");
    // What the function puts on the wire: each alert's JSON body.
    let alerts: Vec<_> = converted
        .iter()
        .filter_map(|c| match &c.action {
            Action::Send(alert) => Some(alert),
            Action::Drop { .. } => None,
        })
        .collect();
    serde_json::to_vec(&alerts).expect("alerts serialise")
}

fn bench(c: &mut Criterion) {
    let rules = Rules::from_json(EXAMPLE_RULES).expect("example rules are valid");
    let samples = samples();

    let mut per_sample = c.benchmark_group("convert");
    for (name, body) in &samples {
        per_sample.throughput(Throughput::Elements(1));
        per_sample.bench_function(name.as_str(), |b| {
            b.iter(|| convert_to_json(black_box(body), &rules))
        });
    }
    per_sample.finish();

    let mut all = c.benchmark_group("convert_all");
    all.throughput(Throughput::Elements(samples.len() as u64));
    all.bench_function("every_sample_once", |b| {
        b.iter(|| {
            for (_, body) in &samples {
                black_box(convert_to_json(black_box(body), &rules));
            }
        })
    });
    all.finish();

    // Where the time goes for a few samples: parse alone, parse + rules + alert, everything
    // (+ the JSON report). Differences between the rows give each stage's share.
    let mut stages = c.benchmark_group("stages");
    for name in STAGE_SAMPLES {
        let Some((_, body)) = samples.iter().find(|(n, _)| n == name) else {
            continue;
        };
        stages.bench_function(format!("{name}/parse"), |b| {
            b.iter(|| payload::parse(black_box(body), None).expect("samples parse"))
        });
        stages.bench_function(format!("{name}/convert"), |b| {
            b.iter(|| convert(black_box(body), None, &rules).expect("samples convert"))
        });
        stages.bench_function(format!("{name}/convert_json"), |b| {
            b.iter(|| convert_to_json(black_box(body), &rules))
        });
    }
    stages.finish();
}

/// A push (the commonest forwarded event), a scan with findings (the one that pages) and the
/// slowest sample (a scan with two reports).
const STAGE_SAMPLES: [&str; 3] = [
    "default_PUSH_ARTIFACT",
    "default_SCANNING_COMPLETED",
    "default_SCANNING_COMPLETED_multi_report",
];

criterion_group!(benches, bench);
criterion_main!(benches);
