//! Origin-pattern parsing: `Allowlist::parse` on any string. Invariants: no panic; an
//! accepted list prints in a canonical form that parses back to the same list, each
//! pattern's canonical form parses to itself, and the list matches a target exactly when
//! one of its patterns does; a refusal is one line of bounded length.
//!
//! Found: a pattern of control characters gave a 1,232-character line (each is shown
//! escaped); still one line and bounded, now asserted with the real bound.
#![no_main]

use authrelay_client::pattern::{Allowlist, OriginPattern};
use authrelay_client::target::Target;
use libfuzzer_sys::fuzz_target;

const PROBES: &[&str] = &[
    "https://app.example.com/api/auth/callback/github",
    "https://pr-1.preview.example.com/cb",
    "https://a.b.c.example.com:8443/cb",
    "http://localhost:3000/cb",
    "http://127.0.0.1/cb",
    "http://[::1]:8080/cb",
    "https://1.2.3.4/cb",
    "https://xn--bcher-kva.example/cb",
    "https://myapp-git-x-acme.vercel.app/cb",
];

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    match Allowlist::parse(&s) {
        Ok(list) => {
            let printed = list.to_string();
            let again = Allowlist::parse(&printed).expect("the canonical form parses");
            assert_eq!(again, list);
            assert_eq!(again.to_string(), printed);
            for p in list.patterns() {
                let q: OriginPattern = p
                    .as_str()
                    .parse()
                    .expect("a pattern's canonical form parses");
                assert_eq!(&q, p);
                assert!(p.as_str().is_ascii());
                assert!(
                    !p.as_str().contains(['/', '?', '#', '@', ' '])
                        || p.as_str().starts_with("http")
                );
            }
            let _ = list.warnings();
            for probe in PROBES {
                let t = Target::parse(probe).unwrap();
                let any = list.patterns().iter().any(|p| p.matches(&t));
                assert_eq!(list.matches(&t), any);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg:?}");
            // The pattern is shown at most twice, each time cut at 200 characters whose
            // control characters are escaped (`\u{7f}`: up to 10 characters each).
            assert!(
                msg.chars().count() < 2 * 200 * 10 + 1000,
                "{} characters",
                msg.chars().count()
            );
            assert!(!e.code().is_empty());
        }
    }
});
