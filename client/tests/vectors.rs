//! The known-answer vectors of the native format (`tests/vectors/native-v1.json`,
//! written by an independent Python implementation of `docs/state-format.md`).

use authrelay_client::keyring::{Keyring, StateFormat};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::Secret;
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("vectors/native-v1.json");
    serde_json::from_str(text).expect("the vector file is JSON")
}

fn hex16(s: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn valid_vectors_are_reproduced_byte_for_byte_and_verify() {
    let v = vectors();
    let valid = v["valid"].as_array().unwrap();
    assert!(valid.len() >= 4);
    for case in valid {
        let name = case["name"].as_str().unwrap();
        let secret = Secret::new(case["secret"].as_str().unwrap()).unwrap();
        let key = NativeKey::derive(&secret);
        assert_eq!(
            key.kid_hex(),
            case["kid_hex"].as_str().unwrap(),
            "{name}: kid"
        );
        let target = Target::parse(case["target"].as_str().unwrap()).unwrap();
        let iat = case["iat"].as_u64().unwrap();
        let exp = case["exp"].as_u64().unwrap();
        let nonce = hex16(case["nonce_hex"].as_str().unwrap());
        let state = native::sign(&key, &target, iat, exp - iat, nonce).unwrap();
        assert_eq!(state, case["state"].as_str().unwrap(), "{name}: state");

        let keyring = Keyring::new(&[secret]);
        let at = case["verify_at"].as_u64().unwrap();
        let got = keyring.verify(&state, at, 900).unwrap();
        assert_eq!(got.format, StateFormat::Native);
        assert_eq!(
            got.target.as_str(),
            case["target"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(got.provider.as_deref(), case["provider"].as_str(), "{name}");
        assert_eq!((got.issued_at, got.expires_at), (Some(iat), exp), "{name}");
    }
}

#[test]
fn invalid_vectors_fail_with_their_documented_codes() {
    let v = vectors();
    let secrets: Vec<Secret> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Secret::new(s.as_str().unwrap()).unwrap())
        .collect();
    let keyring = Keyring::new(&secrets);
    let invalid = v["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 15);
    for case in invalid {
        let name = case["name"].as_str().unwrap();
        let err = keyring
            .verify(
                case["state"].as_str().unwrap(),
                case["verify_at"].as_u64().unwrap(),
                case["max_age"].as_u64().unwrap(),
            )
            .expect_err(name);
        assert_eq!(err.code(), case["code"].as_str().unwrap(), "{name}");
        assert_eq!(
            err.detail_code(),
            case["detail"].as_str().unwrap(),
            "{name}"
        );
    }
}
