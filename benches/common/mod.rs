//! Shared fixtures for the benches: one secret, one target, a fixed clock.
#![allow(dead_code)]

use std::time::Duration;

use criterion::Criterion;

/// A 34-character secret, as `authrelay secret` would make (any ≥ 32 characters will do).
pub const SECRET: &str = "bench-secret-0123456789abcdef012345";
/// The fixed clock of every bench, Unix seconds.
pub const NOW: u64 = 1_800_000_000;
/// A preview callback, as a Vercel-style preview would send it.
pub const TARGET: &str = "https://pr-1234.preview.example.com/api/auth/callback/github";
/// The pattern that allows [`TARGET`].
pub const PATTERN: &str = "https://*.preview.example.com";

/// Short runs: the whole `cargo bench` stays around a minute on two shared cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args()
}
