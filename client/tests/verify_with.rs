//! `Keyring::verify_with`: the target parser a caller passes is asked only once a state
//! has verified, and its answer is accepted only when it is the state's own string.

use std::cell::Cell;

use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::keyring::Keyring;
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::Secret;

const SIGNED: &str = "https://pr-7.preview.example.com/api/auth/callback/github";
const OTHER: &str = "https://evil.example.net/api/auth/callback/github";
const NOW: u64 = 1_800_000_000;

fn states(secret: &Secret) -> [String; 2] {
    let target = Target::parse(SIGNED).unwrap();
    let native = native::sign(&NativeKey::derive(secret), &target, NOW, 600, [7; 16]).unwrap();
    let authjs = authjs::encrypt(
        &AuthJsKey::derive(secret),
        &authjs::new_claims(SIGNED, NOW, 600),
    );
    [native, authjs]
}

#[test]
fn the_parser_sees_the_signed_string_and_its_answer_is_used() {
    let secret = Secret::generate();
    let keyring = Keyring::new(std::slice::from_ref(&secret));
    for state in states(&secret) {
        let asked = Cell::new(0);
        let v = keyring
            .verify_with(&state, NOW, 3600, |raw| {
                asked.set(asked.get() + 1);
                assert_eq!(raw, SIGNED);
                Target::parse(raw)
            })
            .unwrap();
        assert_eq!((asked.get(), v.target.as_str()), (1, SIGNED));
        assert_eq!(keyring.verify(&state, NOW, 3600).unwrap(), v);
    }
}

#[test]
fn a_parser_answering_another_target_is_refused() {
    let secret = Secret::generate();
    let keyring = Keyring::new(std::slice::from_ref(&secret));
    for state in states(&secret) {
        let r = keyring
            .verify_with(&state, NOW, 3600, |_| Target::parse(OTHER))
            .unwrap_err();
        assert_eq!(r.code(), "target_invalid", "{r:?}");
    }
}

#[test]
fn the_parser_is_not_asked_for_a_state_that_does_not_verify() {
    let secret = Secret::generate();
    let keyring = Keyring::new(&[Secret::generate()]);
    for state in states(&secret) {
        let r = keyring.verify_with(&state, NOW, 3600, |raw| -> Result<Target, _> {
            panic!("asked to parse {raw:?} for a state that did not verify")
        });
        assert!(r.is_err());
    }
}
