//! The Auth.js JWE parser: `authjs::decrypt` (and the keyring's time and target checks)
//! on any string. Invariants: no panic; an opened state has `iat` and `exp`, came from a
//! configured key, and its claims serialise and re-encrypt into a state that opens to the
//! same claims; a keyring-verified state has a canonical target.
#![no_main]

use authrelay_client::authjs;
use authrelay_client::target::Target;
use authrelay_fuzz::{AUTHJS_KEYS, KEYRING};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Ok((index, claims)) = authjs::decrypt(&AUTHJS_KEYS, &s) else {
        // The keyring must fail too, whatever the clock.
        assert!(KEYRING.verify(&s, authrelay_fuzz::NOW, 900).is_err() || !s.contains('.'));
        return;
    };
    assert!(index < AUTHJS_KEYS.len());
    let iat = claims.iat.expect("decrypt requires iat");
    let exp = claims.exp.expect("decrypt requires exp");
    let _ = authjs::check_times(&claims, iat);
    let _ = authjs::check_times(&claims, u64::MAX);
    let _ = authjs::check_times(&claims, 0);
    // At `iat` itself the age rule cannot refuse: only check_times can.
    assert_eq!(
        authjs::check_lifetime(&claims, iat, 900),
        authjs::check_times(&claims, iat)
    );
    // The claims round-trip through the encoder.
    let json = serde_json::to_vec(&claims).unwrap();
    let again = authjs::encrypt_with_iv(&AUTHJS_KEYS[index], &json, [9; 16]);
    if again.len() <= authjs::MAX_JWE_LEN {
        assert_eq!(
            authjs::decrypt(&AUTHJS_KEYS, &again),
            Ok((index, claims.clone()))
        );
    }
    for now in [iat, exp, iat.saturating_add(60)] {
        if let Ok(v) = KEYRING.verify(&s, now, 900) {
            assert_eq!(v.secret_index, index);
            assert_eq!(v.target.as_str(), claims.origin);
            assert_eq!(Target::parse(v.target.as_str()).as_ref(), Ok(&v.target));
            assert_eq!(v.issued_at, Some(iat));
        }
    }
});
