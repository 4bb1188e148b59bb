//! Query and form-body parsing: `relay::parse_params` on any bytes. Invariants: no panic;
//! accepted input had only printable ASCII and valid escapes, gives at most MAX_PARAMS
//! pairs, and re-encoding the pairs and parsing again gives the same pairs.
#![no_main]

use authrelay::relay::{parse_params, MAX_PARAMS, MAX_PARAMS_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = parse_params(data) else {
        return;
    };
    assert!(data.len() <= MAX_PARAMS_LEN);
    assert!(pairs.len() <= MAX_PARAMS);
    assert!(data.iter().all(|&b| (0x21..0x7f).contains(&b)));
    // Every '%' starts a valid escape.
    for (i, &b) in data.iter().enumerate() {
        if b == b'%' {
            assert!(data.get(i + 1).is_some_and(u8::is_ascii_hexdigit));
            assert!(data.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        }
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter())
        .finish();
    if encoded.len() <= MAX_PARAMS_LEN {
        assert_eq!(
            parse_params(encoded.as_bytes()).as_ref(),
            Ok(&pairs),
            "{encoded}"
        );
    }
});
