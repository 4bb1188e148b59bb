//! The known-answer vectors of the authorize envelope (`tests/vectors/envelope-v1.json`,
//! quoted in `docs/state-format.md`). This test makes them: each is built twice, by
//! [`envelope::seal`] and by hand from the specification's steps (HKDF, field layout,
//! HMAC), and the file and the document must hold exactly what both give. Set
//! `AUTHRELAY_WRITE_VECTORS=1` to rewrite the file after a deliberate change.

use authrelay_client::envelope::{self, EnvelopeKey};
use authrelay_client::keyring::{Keyring, StateFormat};
use authrelay_client::target::Target;
use authrelay_client::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// (name, secret, provider, target, inner state, expiry).
const CASES: &[(&str, &str, &str, &str, &str, u64)] = &[
    (
        "passport github",
        "vector-secret-one-0123456789abcdef",
        "github",
        "https://pr-1.preview.example.com/auth/github/callback",
        "Q8vZ0iZ2bW9y3rXh2o7Zq4Jk",
        1_700_000_900,
    ),
    (
        "43-character state, 60-character target",
        "vector-secret-one-0123456789abcdef",
        "google",
        "https://pr-1234.preview.example.com/auth/google/callback/xyz",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        1_700_000_900,
    ),
    (
        "state with spaces and symbols, loopback target with a query",
        "vector-secret-two-fedcba9876543210",
        "oidc",
        "http://localhost:5173/api/auth/callback/oidc?tenant=acme",
        "a b+c/d=e&f",
        1_700_000_600,
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MAC key, by the specification: HKDF-SHA256, salt `authrelay`, the envelope's
/// info string, 32 bytes.
fn mac_key(secret: &str) -> [u8; 32] {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"authrelay"), secret.as_bytes());
    let mut key = [0u8; 32];
    hk.expand(b"authrelay authorize envelope v1 mac key", &mut key)
        .unwrap();
    key
}

/// The envelope, by the specification's steps.
fn by_hand(secret: &str, provider: &str, target: &str, inner: &str, exp: u64) -> String {
    let mut body = vec![0x45];
    body.extend_from_slice(&exp.to_be_bytes());
    body.push(provider.len() as u8);
    body.extend_from_slice(provider.as_bytes());
    body.extend_from_slice(&(target.len() as u16).to_be_bytes());
    body.extend_from_slice(target.as_bytes());
    body.push(inner.len() as u8);
    body.extend_from_slice(inner.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key(secret)).unwrap();
    mac.update(b"authrelay-envelope-v1\0");
    mac.update(&body);
    body.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(body)
}

fn made() -> Value {
    let valid: Vec<Value> = CASES
        .iter()
        .map(|&(name, secret, provider, target, inner, exp)| {
            let key = EnvelopeKey::derive(&Secret::new(secret).unwrap());
            let t = Target::parse(target).unwrap();
            let sealed = envelope::seal(&key, provider, &t, inner, exp).unwrap();
            assert_eq!(
                sealed,
                by_hand(secret, provider, target, inner, exp),
                "{name}"
            );
            json!({
                "name": name,
                "secret": secret,
                "mac_key_hex": hex(&mac_key(secret)),
                "provider": provider,
                "target": target,
                "inner_state": inner,
                "exp": exp,
                "envelope": sealed,
                "length": sealed.len(),
                "verify_at": exp - 300,
            })
        })
        .collect();
    json!({
        "format": "authrelay authorize envelope v1",
        "spec": "docs/state-format.md",
        "max_age": 900,
        "valid": valid,
    })
}

#[test]
fn the_vectors_are_what_the_specification_makes() {
    let want = serde_json::to_string_pretty(&made()).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/envelope-v1.json"
    );
    if std::env::var_os("AUTHRELAY_WRITE_VECTORS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let file = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        file, want,
        "the vector file is stale: rerun with AUTHRELAY_WRITE_VECTORS=1"
    );
    let doc = include_str!("../../docs/state-format.md");
    for case in made()["valid"].as_array().unwrap() {
        for field in ["envelope", "mac_key_hex"] {
            let v = case[field].as_str().unwrap();
            assert!(doc.contains(v), "docs/state-format.md lacks {field} {v}");
        }
    }
}

#[test]
fn the_vectors_open_with_the_keyring() {
    for case in made()["valid"].as_array().unwrap() {
        let secret = Secret::new(case["secret"].as_str().unwrap()).unwrap();
        let keyring = Keyring::new(&[secret]);
        let e = case["envelope"].as_str().unwrap();
        assert_eq!(StateFormat::detect(e), StateFormat::Envelope);
        let v = keyring
            .verify(e, case["verify_at"].as_u64().unwrap(), 900)
            .unwrap();
        assert_eq!(v.target.as_str(), case["target"].as_str().unwrap());
        assert_eq!(v.provider.as_deref(), case["provider"].as_str());
        assert_eq!(
            v.inner_state.unwrap().expose(),
            case["inner_state"].as_str().unwrap()
        );
        assert_eq!(v.expires_at, case["exp"].as_u64().unwrap());
    }
}
