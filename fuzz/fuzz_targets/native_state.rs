//! The native state parser: `native::verify` and `native::read_unverified` on any string.
//! Invariants: no panic; a state that verifies has a target that is its own canonical
//! form, bound to the provider in its path, and reads back the same unverified; the
//! decoding is one-to-one (re-encoding the bytes gives the same string).
#![no_main]

use authrelay_client::native;
use authrelay_client::target::Target;
use authrelay_fuzz::NATIVE_KEYS;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let unverified = native::read_unverified(&s);
    // Verify at the state's own issue time, so signed seeds stay valid whenever they
    // were made, and also at a fixed clock.
    let at = unverified
        .as_ref()
        .map_or(authrelay_fuzz::NOW, |u| u.issued_at);
    for now in [at, at.saturating_add(1), authrelay_fuzz::NOW] {
        for max_age in [900, 3600] {
            let Ok(v) = native::verify(&NATIVE_KEYS, &s, now, max_age) else {
                continue;
            };
            let u = unverified
                .as_ref()
                .expect("a verified state reads unverified");
            assert_eq!(u.target, v.target.as_str());
            assert_eq!((u.issued_at, u.expires_at), (v.issued_at, v.expires_at));
            assert!(v.expires_at >= v.issued_at && v.expires_at - v.issued_at <= max_age);
            assert_eq!(Target::parse(v.target.as_str()).as_ref(), Ok(&v.target));
            assert_eq!(v.target.callback_provider(), Some(v.provider.as_str()));
            assert!(!v.target.has_query());
            assert!(v.key_index < NATIVE_KEYS.len());
            assert_eq!(u.kid, NATIVE_KEYS[v.key_index].kid_hex());
        }
    }
    if let Ok(u) = &unverified {
        assert_eq!(u.version, native::VERSION);
        let bytes = URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .expect("framing passed");
        assert_eq!(URL_SAFE_NO_PAD.encode(&bytes), s, "one encoding per state");
        assert!(s.len() <= native::MAX_STATE_LEN);
    }
});
