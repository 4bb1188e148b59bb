//! State formats: native sign and verify, Auth.js decrypt, all with keys derived once
//! outside the loop (as the relay's `Keyring` does at start-up).

mod common;

use std::hint::black_box;

use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::{Keyring, Secret};
use criterion::{criterion_group, criterion_main, Criterion};

use common::{NOW, SECRET, TARGET};

fn native_states(c: &mut Criterion) {
    let secret = Secret::new(SECRET).unwrap();
    let key = NativeKey::derive(&secret);
    let keys = std::slice::from_ref(&key);
    let target = Target::parse(TARGET).unwrap();
    let state = native::sign(&key, &target, NOW, 600, [7; 16]).unwrap();
    assert!(native::verify(keys, &state, NOW, 900).is_ok());

    let mut g = c.benchmark_group("native");
    g.bench_function("sign", |b| {
        b.iter(|| native::sign(&key, black_box(&target), NOW, 600, [7; 16]).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| native::verify(keys, black_box(&state), NOW, 900).unwrap())
    });
    // A forged tag costs the same MAC and must fail.
    let mut forged = state.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    g.bench_function("verify_bad_signature", |b| {
        b.iter(|| native::verify(keys, black_box(&forged), NOW, 900).unwrap_err())
    });
    g.finish();
}

fn authjs_states(c: &mut Criterion) {
    let secret = Secret::new(SECRET).unwrap();
    let key = AuthJsKey::derive(&secret);
    let keys = std::slice::from_ref(&key);
    let state = authjs::encrypt(&key, &authjs::new_claims(TARGET, NOW, 900));
    assert!(authjs::decrypt(keys, &state).is_ok());
    // Four secrets, the state made with the oldest: the kid picks the key, so the cost
    // should not grow with the number of secrets.
    let ring = Keyring::new(
        &(0..4)
            .map(|i| Secret::new(format!("{SECRET}-{i}")).unwrap())
            .chain([secret.clone()])
            .collect::<Vec<_>>(),
    );

    let mut g = c.benchmark_group("authjs");
    g.bench_function("decrypt", |b| {
        b.iter(|| authjs::decrypt(keys, black_box(&state)).unwrap())
    });
    g.bench_function("decrypt_5_secrets_last", |b| {
        b.iter(|| authjs::decrypt(ring.authjs_keys(), black_box(&state)).unwrap())
    });
    g.bench_function("encrypt", |b| {
        b.iter(|| authjs::encrypt_with_iv(&key, black_box(br#"{"origin":"https://pr-1234.preview.example.com/api/auth/callback/github","random":"x","iat":1800000000,"exp":1800000900}"#), [1; 16]))
    });
    g.finish();

    let single = Keyring::new(std::slice::from_ref(&secret));
    let native_state = native::sign(
        &NativeKey::derive(&secret),
        &Target::parse(TARGET).unwrap(),
        NOW,
        600,
        [7; 16],
    )
    .unwrap();
    let mut g = c.benchmark_group("keyring");
    g.bench_function("verify_native", |b| {
        b.iter(|| single.verify(black_box(&native_state), NOW, 900).unwrap())
    });
    g.bench_function("verify_authjs", |b| {
        b.iter(|| single.verify(black_box(&state), NOW, 900).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = native_states, authjs_states
}
criterion_main!(benches);
