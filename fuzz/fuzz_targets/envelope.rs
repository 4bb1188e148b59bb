//! The authorize envelope: `envelope::open` and `envelope::read_unverified` on any
//! string, and a seal-then-open round trip of any provider, target and inner state.
//! Invariants: no panic; an envelope that opens reads back the same unverified, holds a
//! canonical target, a valid provider and a non-empty inner state within bounds, and has
//! one encoding; whatever `seal` accepts opens to exactly what was sealed, and one changed
//! character makes it fail.
#![no_main]

use authrelay_client::envelope::{self, EnvelopeKey};
use authrelay_client::target::{is_valid_provider_id, Target};
use authrelay_fuzz::{KEYRING, NOW};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys: &[EnvelopeKey] = KEYRING.envelope_keys();
    let s = String::from_utf8_lossy(data);
    let unverified = envelope::read_unverified(&s);
    let at = unverified.as_ref().map_or(NOW, |u| u.expires_at.saturating_sub(60));
    for now in [at, NOW] {
        let Ok(o) = envelope::open(keys, &s, now, 3600) else {
            continue;
        };
        let u = unverified.as_ref().expect("an opened envelope reads unverified");
        assert_eq!(u.target, o.target.as_str());
        assert_eq!(u.provider, o.provider);
        assert_eq!(u.inner_state_len, o.inner_state.len());
        assert_eq!(Target::parse(o.target.as_str()).as_ref(), Ok(&o.target));
        assert!(is_valid_provider_id(&o.provider));
        assert!(!o.inner_state.is_empty() && o.inner_state.len() <= envelope::MAX_INNER_STATE_LEN);
        assert!(o.key_index < keys.len());
    }
    if unverified.is_ok() {
        let bytes = URL_SAFE_NO_PAD.decode(s.as_bytes()).expect("framing passed");
        assert_eq!(URL_SAFE_NO_PAD.encode(&bytes), s, "one encoding per envelope");
        assert!(s.len() <= envelope::MAX_ENVELOPE_LEN);
    }

    // Round trip: the input split at NUL bytes into provider, target and inner state.
    let mut parts = data.splitn(3, |&b| b == 0);
    let (Some(p), Some(t), Some(i)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let (Ok(p), Ok(t), Ok(i)) = (
        std::str::from_utf8(p),
        std::str::from_utf8(t),
        std::str::from_utf8(i),
    ) else {
        return;
    };
    let Ok(target) = Target::parse(t) else {
        return;
    };
    let Ok(sealed) = envelope::seal(&keys[1], p, &target, i, NOW + 600) else {
        return;
    };
    assert!(sealed.starts_with(envelope::FIRST_CHAR) && !sealed.contains('.'));
    let o = envelope::open(keys, &sealed, NOW, 900).expect("a sealed envelope opens");
    assert_eq!((o.key_index, o.provider.as_str()), (1, p));
    assert_eq!((o.target, o.inner_state.expose()), (target, i));
    let mid = sealed.len() / 2;
    let mut changed = sealed.clone().into_bytes();
    changed[mid] = if changed[mid] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).expect("ASCII");
    assert!(envelope::open(keys, &changed, NOW, 900).is_err());
});
