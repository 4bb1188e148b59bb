//! Target-URL checking: `Target::parse` on any string. Invariants: no panic; an accepted
//! target is exactly its input, is the `url` crate's serialisation of itself, parses again
//! to the same target, is printable ASCII with no backslash or fragment, has an http(s)
//! scheme (http only on loopback), no user-info, and no encoded separators or dot or
//! empty segments in its path; an error message never repeats the input.
#![no_main]

use authrelay_client::target::{is_valid_provider_id, Target, MAX_TARGET_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    match Target::parse(&s) {
        Ok(t) => {
            assert_eq!(t.as_str(), s);
            assert!(s.len() <= MAX_TARGET_LEN);
            assert_eq!(Target::parse(t.as_str()).as_ref(), Ok(&t));
            let url = url::Url::parse(&s).unwrap();
            assert_eq!(url.as_str(), s);
            authrelay_fuzz::assert_printable(&s);
            assert!(!s.contains('\\') && !s.contains('#'));
            assert!(url.username().is_empty() && url.password().is_none());
            let host = t.host();
            match t.scheme() {
                "https" => {}
                "http" => assert!(
                    host == "localhost" || host == "[::1]" || host.starts_with("127."),
                    "http on {host}"
                ),
                other => panic!("scheme {other}"),
            }
            let path = url.path().to_ascii_lowercase();
            for bad in ["%2f", "%5c", "%2e", "%25", "%00", "//", "/./", "/../"] {
                assert!(!path.contains(bad), "{bad} in {path}");
            }
            assert!(!path.ends_with("/.") && !path.ends_with("/.."));
            assert_eq!(t.origin(), url.origin().ascii_serialization());
            if let Some(p) = t.callback_provider() {
                assert!(is_valid_provider_id(p));
                assert!(url.path().ends_with(&format!("/callback/{p}")));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.is_ascii() && !msg.contains('\n'));
            if s.len() >= 12 && s.chars().all(|c| c.is_ascii_alphanumeric()) {
                assert!(!msg.contains(&*s));
            }
        }
    }
});
