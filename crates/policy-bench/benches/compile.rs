//! `policy_compiler::compile` on generated policies of 100, 1,000 and
//! 10,000 roles (five permissions per role; inheritance depth 20, 50, 100).
//!
//! ```text
//! cargo bench -p policy-bench --features bench --bench compile -- --warm-up-time 1 --measurement-time 3
//! ```
#![allow(
    missing_docs,
    reason = "criterion benchmark harness: its generated items have no docs"
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use policy_bench::{generate, Spec};
use policy_syntax::SourceFile;

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    for (roles, depth) in [(100, 20), (1_000, 50), (10_000, 100)] {
        let spec = Spec::new(roles, roles * 5, depth);
        let source = SourceFile::new("generated.policy", generate(&spec));
        let (_, diags) = policy_compiler::compile(&source);
        assert!(diags.is_empty(), "generated policy has diagnostics");
        group.throughput(Throughput::Elements(roles as u64));
        group.bench_with_input(BenchmarkId::new("roles", roles), &source, |b, s| {
            b.iter(|| policy_compiler::compile(std::hint::black_box(s)))
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
