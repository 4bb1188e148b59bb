//! The second lock: `Target::parse` and `Allowlist::matches` against 1, 10 and 100
//! patterns. The target matches the last pattern, the worst case for a list scan.

mod common;

use std::hint::black_box;

use authrelay_client::pattern::Allowlist;
use authrelay_client::target::Target;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use common::TARGET;

/// `n` distinct wildcard patterns; the last one allows [`target`]`(n)`.
fn allowlist(n: usize) -> Allowlist {
    let list: Vec<String> = (0..n)
        .map(|i| format!("https://pr-*.app{i}.example.com"))
        .collect();
    Allowlist::parse(&list.join(",")).unwrap()
}

fn target(n: usize) -> String {
    format!(
        "https://pr-1234.app{}.example.com/api/auth/callback/github",
        n - 1
    )
}

fn targets(c: &mut Criterion) {
    let mut g = c.benchmark_group("target");
    g.bench_function("parse", |b| {
        b.iter(|| Target::parse(black_box(TARGET)).unwrap())
    });
    for n in [1usize, 10, 100] {
        let list = allowlist(n);
        let raw = target(n);
        let parsed = Target::parse(&raw).unwrap();
        assert!(list.matches(&parsed));
        g.bench_with_input(BenchmarkId::new("parse_and_match", n), &raw, |b, raw| {
            b.iter(|| {
                let t = Target::parse(black_box(raw)).unwrap();
                assert!(list.matches(&t));
            })
        });
        g.bench_with_input(BenchmarkId::new("match_only", n), &parsed, |b, t| {
            b.iter(|| list.matches(black_box(t)))
        });
        // A target no pattern allows scans the whole list.
        let stranger =
            Target::parse("https://pr-1.evil.example.net/api/auth/callback/github").unwrap();
        g.bench_with_input(BenchmarkId::new("no_match", n), &stranger, |b, t| {
            b.iter(|| list.matches(black_box(t)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = targets
}
criterion_main!(benches);
