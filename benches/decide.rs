//! The whole pure decision, `authrelay::relay::decide`, for a GET callback carrying a
//! valid native or Auth.js state, and for two cheap and one expensive refusal.

mod common;

use std::hint::black_box;

use authrelay::config::Config;
use authrelay::relay::{decide, CallbackMethod, CallbackRequest, Decision};
use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::Secret;
use criterion::{criterion_group, criterion_main, Criterion};

use common::{NOW, PATTERN, SECRET, TARGET};

fn config() -> Config {
    Config::from_vars(
        [
            ("AUTH_SECRET", SECRET),
            ("AUTH_URL", "https://auth.example.com"),
            ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", PATTERN),
            ("AUTH_STATE_MAX_AGE", "3600"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap()
}

fn get<'a>(query: &'a str) -> CallbackRequest<'a> {
    CallbackRequest {
        method: CallbackMethod::Get,
        provider: "github",
        query,
        body: b"",
        content_type: None,
        request_host: Some("auth.example.com"),
    }
}

fn decisions(c: &mut Criterion) {
    let config = config();
    let secret = Secret::new(SECRET).unwrap();
    let target = Target::parse(TARGET).unwrap();
    let native_state =
        native::sign(&NativeKey::derive(&secret), &target, NOW, 600, [7; 16]).unwrap();
    let authjs_state = authjs::encrypt(
        &AuthJsKey::derive(&secret),
        &authjs::new_claims(TARGET, NOW, 900),
    );
    // A realistic callback: GitHub sends `code` and `state`; OIDC providers add `iss`.
    let native_q = format!("code=8f1c2a9b7e6d5c4b3a29&state={native_state}");
    let authjs_q = format!("code=8f1c2a9b7e6d5c4b3a29&state={authjs_state}");
    for q in [&native_q, &authjs_q] {
        assert!(matches!(
            decide(&get(q), &config, NOW).decision,
            Decision::Redirect(_)
        ));
    }
    let mut forged = native_state.into_bytes();
    let i = forged.len() - 2;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let forged_q = format!("code=x&state={}", String::from_utf8(forged).unwrap());

    let mut g = c.benchmark_group("decide");
    g.bench_function("redirect_native", |b| {
        b.iter(|| decide(black_box(&get(&native_q)), &config, NOW))
    });
    g.bench_function("redirect_authjs", |b| {
        b.iter(|| decide(black_box(&get(&authjs_q)), &config, NOW))
    });
    g.bench_function("refuse_state_missing", |b| {
        b.iter(|| decide(black_box(&get("code=x")), &config, NOW))
    });
    g.bench_function("refuse_bad_signature", |b| {
        b.iter(|| decide(black_box(&get(&forged_q)), &config, NOW))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = decisions
}
criterion_main!(benches);
