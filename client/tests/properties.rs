//! Property tests of the two locks, on generated input.
//!
//! - sign → verify round-trips for arbitrary valid callback targets, providers, secrets,
//!   clocks and rotation orders, in the native format and the Auth.js format;
//! - any single-byte change of a native state, and of any part of an Auth.js JWE, makes
//!   verification fail;
//! - `Allowlist::matches` agrees, in both directions, with a small independent model of
//!   the pattern rules written here (scheme equal, label count equal, each label literal
//!   or `prefix*suffix` with at least one character for the `*`, the port rule).
//!
//! Each property runs a few hundred cases and finishes in a few seconds in a debug build.
//! A failure prints the minimal input proptest shrank it to; add it to a named regression
//! test before fixing.

use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::keyring::{Keyring, StateFormat};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::pattern::Allowlist;
use authrelay_client::target::Target;
use authrelay_client::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are turned into named regression tests by hand; no files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Generators of valid callback targets
// ---------------------------------------------------------------------------------------

/// A DNS label in canonical form: lowercase letters, digits, inner hyphens. `xn--` labels
/// must be valid punycode, which a regex cannot promise, so they are left out.
fn dns_label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?".prop_filter("no A-labels", |l| !l.starts_with("xn--"))
}

/// A top-level label: letters only (an all-numeric last label makes an IPv4 address).
fn tld() -> impl Strategy<Value = String> {
    "[a-z]{2,6}"
}

/// A host part of a callback URL, with the scheme it may be used with.
#[derive(Debug, Clone)]
struct HostSpec {
    https: bool,
    host: String,
    /// The port written in the URL; never the scheme's default.
    port: Option<u16>,
}

fn host_spec() -> impl Strategy<Value = HostSpec> {
    let dns = (prop::collection::vec(dns_label(), 1..4), tld()).prop_map(|(mut labels, tld)| {
        labels.push(tld);
        labels.join(".")
    });
    let https_host = prop_oneof![
        6 => dns,
        1 => (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        1 => Just("[2001:db8::1]".to_owned()),
    ];
    let loopback = prop_oneof![
        Just("localhost".to_owned()),
        (any::<u8>(), any::<u8>(), 1u8..=254).prop_map(|(b, c, d)| format!("127.{b}.{c}.{d}")),
        Just("[::1]".to_owned()),
    ];
    prop_oneof![
        4 => (https_host, prop::option::of(1u16..=65535)).prop_map(|(host, port)| HostSpec {
            https: true,
            host,
            port: port.filter(|&p| p != 443),
        }),
        1 => (loopback, prop::option::of(1u16..=65535)).prop_map(|(host, port)| HostSpec {
            https: false,
            host,
            port: port.filter(|&p| p != 80),
        }),
    ]
}

impl HostSpec {
    fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match self.port {
            Some(p) => format!("{scheme}://{}:{p}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }
}

/// A path segment the URL parser keeps as it is: no `.`/`..`, nothing it percent-encodes.
fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[A-Za-z0-9_~!$&'()*+,;=:@.-]{1,12}"
            .prop_filter("no dot segments", |s| s != "." && s != ".."),
        1 => Just("caf%C3%A9".to_owned()),
    ]
}

fn provider_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9_-]{0,24}"
}

/// A callback URL a preview could sign: `<origin>/<segments…>/callback/<provider>`.
#[derive(Debug, Clone)]
struct CallbackSpec {
    host: HostSpec,
    url: String,
    provider: String,
}

fn callback_spec() -> impl Strategy<Value = CallbackSpec> {
    (
        host_spec(),
        prop::collection::vec(path_segment(), 0..4),
        provider_id(),
    )
        .prop_map(|(host, segments, provider)| {
            let mut path = String::new();
            for s in &segments {
                path.push('/');
                path.push_str(s);
            }
            let url = format!("{}{path}/callback/{provider}", host.origin());
            CallbackSpec {
                host,
                url,
                provider,
            }
        })
}

/// A secret of 32 to 48 characters, any Unicode.
fn secret_value() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{32,48}", "\\PC{32,40}",]
}

/// One to four distinct secrets (a rotation set) and the index of the one that signs.
fn rotation() -> impl Strategy<Value = (Vec<String>, usize)> {
    prop::collection::vec(secret_value(), 1..=4)
        .prop_map(|mut v| {
            v.sort();
            v.dedup();
            v
        })
        .prop_flat_map(|v| {
            let n = v.len();
            (Just(v), 0..n)
        })
}

fn secrets(values: &[String]) -> Vec<Secret> {
    values
        .iter()
        .map(|v| Secret::new(v.clone()).expect("generated secrets are long enough"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    /// Every generated callback URL is a valid target, and is its own serialization.
    #[test]
    fn generated_callbacks_are_valid_canonical_targets(spec in callback_spec()) {
        let t = Target::parse(&spec.url).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(t.as_str(), spec.url.as_str());
        prop_assert_eq!(t.callback_provider(), Some(spec.provider.as_str()));
        prop_assert_eq!(Target::parse(t.as_str()), Ok(t.clone()));
        prop_assert_eq!(t.origin(), spec.host.origin());
    }

    /// sign → verify gives back the target, provider, times and the signing key's index.
    #[test]
    fn native_states_round_trip(
        spec in callback_spec(),
        (values, signer) in rotation(),
        now in 0u64..4_000_000_000,
        ttl in 1u64..=3600,
        elapsed_permille in 0u64..=1000,
        nonce in any::<[u8; 16]>(),
    ) {
        let target = Target::parse(&spec.url).unwrap();
        let keys: Vec<NativeKey> = secrets(&values).iter().map(NativeKey::derive).collect();
        let state = native::sign(&keys[signer], &target, now, ttl, nonce).unwrap();
        prop_assert_eq!(state.len(), native::encoded_len(spec.url.len()));
        prop_assert!(state.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let at = now + ttl * elapsed_permille / 1000;
        let got = native::verify(&keys, &state, at, ttl).unwrap();
        prop_assert_eq!(got.key_index, signer);
        prop_assert_eq!(&got.target, &target);
        prop_assert_eq!(&got.provider, &spec.provider);
        prop_assert_eq!((got.issued_at, got.expires_at), (now, now + ttl));

        // The keyring agrees, and names the same secret.
        let ring = Keyring::new(&secrets(&values));
        let v = ring.verify(&state, at, 3600).unwrap();
        prop_assert_eq!(v.format, StateFormat::Native);
        prop_assert_eq!(v.secret_index, signer);
        prop_assert_eq!(v.target, target);
        prop_assert_eq!(v.provider.as_deref(), Some(spec.provider.as_str()));

        // The unverified reader shows the same fields.
        let u = native::read_unverified(&state).unwrap();
        prop_assert_eq!(u.target, spec.url);
        prop_assert_eq!((u.issued_at, u.expires_at), (now, now + ttl));
        prop_assert_eq!(u.kid, keys[signer].kid_hex());
    }

    /// Auth.js: encrypt(new_claims) → decrypt gives back exactly the claims, for any
    /// origin string (Auth.js puts no rule on it), with the encrypting key's index.
    #[test]
    fn authjs_states_round_trip_any_origin(
        origin in prop_oneof![
            3 => callback_spec().prop_map(|s| s.url),
            1 => "\\PC{0,200}",
            1 => "[\\x00-\\x7f]{0,100}",
        ],
        (values, signer) in rotation(),
        now in 0u64..4_000_000_000,
        ttl in 1u64..=3600,
    ) {
        let keys: Vec<AuthJsKey> = secrets(&values).iter().map(AuthJsKey::derive).collect();
        let claims = authjs::new_claims(&origin, now, ttl);
        let jwe = authjs::encrypt(&keys[signer], &claims);
        let parts: Vec<&str> = jwe.split('.').collect();
        prop_assert_eq!(parts.len(), 5);
        prop_assert_eq!(parts[1], "");
        let (index, got) = authjs::decrypt(&keys, &jwe).unwrap();
        prop_assert_eq!(index, signer);
        prop_assert_eq!(&got, &claims);
        prop_assert_eq!(got.origin, origin);
        prop_assert_eq!(authjs::check_times(&claims, now), Ok(()));
    }

    /// Auth.js states for valid callback targets verify through the keyring.
    #[test]
    fn authjs_states_for_valid_targets_verify_through_the_keyring(
        spec in callback_spec(),
        (values, signer) in rotation(),
        now in 1_000_000u64..4_000_000_000,
        elapsed in 0u64..=900,
    ) {
        let ring = Keyring::new(&secrets(&values));
        let claims = authjs::new_claims(&spec.url, now, 900);
        let jwe = authjs::encrypt(&ring.authjs_keys()[signer], &claims);
        let v = ring.verify(&jwe, now + elapsed, 900).unwrap();
        prop_assert_eq!(v.format, StateFormat::AuthJs);
        prop_assert_eq!(v.secret_index, signer);
        prop_assert_eq!(v.target.as_str(), spec.url.as_str());
        prop_assert_eq!(v.provider, None);
        prop_assert_eq!(v.issued_at, Some(now));
        prop_assert_eq!(v.expires_at, now + 900);
    }
}

// ---------------------------------------------------------------------------------------
// Tampering
// ---------------------------------------------------------------------------------------

const TAMPER_SECRET: &str = "property-tamper-secret-0123456789abcdef";
const T0: u64 = 1_800_000_000;

proptest! {
    #![proptest_config(config(1000))]

    /// Flipping any bits of any one decoded byte of a native state makes it fail.
    #[test]
    fn any_changed_byte_of_a_native_state_fails(
        spec in callback_spec(),
        pos in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let key = NativeKey::derive(&Secret::new(TAMPER_SECRET).unwrap());
        let target = Target::parse(&spec.url).unwrap();
        let state = native::sign(&key, &target, T0, 600, [5; 16]).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&state).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] ^= flip;
        let forged = URL_SAFE_NO_PAD.encode(&bytes);
        prop_assert!(
            native::verify(std::slice::from_ref(&key), &forged, T0 + 1, 900).is_err(),
            "byte {} ^ {:#04x} still verifies", i, flip
        );
    }

    /// Replacing any one character of a native state with any other ASCII character
    /// makes it fail (this also covers non-canonical trailing bits).
    #[test]
    fn any_changed_character_of_a_native_state_fails(
        spec in callback_spec(),
        pos in any::<prop::sample::Index>(),
        replacement in 0u8..=0x7f,
    ) {
        let key = NativeKey::derive(&Secret::new(TAMPER_SECRET).unwrap());
        let target = Target::parse(&spec.url).unwrap();
        let state = native::sign(&key, &target, T0, 600, [5; 16]).unwrap();
        let mut bytes = state.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let forged = String::from_utf8(bytes).unwrap();
        prop_assert!(native::verify(std::slice::from_ref(&key), &forged, T0 + 1, 900).is_err());
        let ring = Keyring::new(&[Secret::new(TAMPER_SECRET).unwrap()]);
        prop_assert!(ring.verify(&forged, T0 + 1, 900).is_err());
    }

    /// Flipping bits of any one decoded byte of any part of a JWE (header, IV,
    /// ciphertext, tag), or putting anything in the empty key part, makes it fail.
    #[test]
    fn any_changed_byte_of_any_jwe_part_fails(
        origin in prop_oneof![callback_spec().prop_map(|s| s.url), "\\PC{0,80}"],
        part in 0usize..5,
        pos in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let key = AuthJsKey::derive(&Secret::new(TAMPER_SECRET).unwrap());
        let jwe = authjs::encrypt(&key, &authjs::new_claims(&origin, T0, 900));
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        if part == 1 {
            // The encrypted-key part of `dir` is empty: any byte there is a change.
            parts[1] = URL_SAFE_NO_PAD.encode([flip]);
        } else {
            let mut bytes = URL_SAFE_NO_PAD.decode(&parts[part]).unwrap();
            let i = pos.index(bytes.len());
            bytes[i] ^= flip;
            parts[part] = URL_SAFE_NO_PAD.encode(&bytes);
        }
        let forged = parts.join(".");
        prop_assert!(authjs::decrypt(std::slice::from_ref(&key), &forged).is_err());
    }

    /// Replacing any one character of a JWE (dots included) with any other ASCII
    /// character makes it fail.
    #[test]
    fn any_changed_character_of_a_jwe_fails(
        origin in callback_spec().prop_map(|s| s.url),
        pos in any::<prop::sample::Index>(),
        replacement in 0u8..=0x7f,
    ) {
        let key = AuthJsKey::derive(&Secret::new(TAMPER_SECRET).unwrap());
        let jwe = authjs::encrypt(&key, &authjs::new_claims(&origin, T0, 900));
        let mut bytes = jwe.into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let forged = String::from_utf8(bytes).unwrap();
        prop_assert!(authjs::decrypt(std::slice::from_ref(&key), &forged).is_err());
        let ring = Keyring::new(&[Secret::new(TAMPER_SECRET).unwrap()]);
        prop_assert!(ring.verify(&forged, T0 + 1, 900).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// The allowlist against an independent model
// ---------------------------------------------------------------------------------------

/// Literal labels from a small alphabet, so that generated targets often hit patterns.
const LITERALS: &[&str] = &["a", "b", "ab", "ba", "a-b", "app", "x1", "preview"];
const PREFIXES: &[&str] = &["", "a", "b", "ap", "a-", "x"];
const SUFFIXES: &[&str] = &["", "a", "b", "-b", "1", "pp"];
const TLDS: &[&str] = &["com", "dev", "test"];
const FILLS: &[&str] = &["a", "b", "0", "ab", "a-b", "b0a", "x", "pp"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum ModelLabel {
    Lit(String),
    Wild(String, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelPort {
    Default,
    Exact(u16),
    Any,
}

#[derive(Debug, Clone)]
enum ModelHost {
    /// Labels left to right; the last two are always literal (registrable name, TLD).
    Dns(Vec<ModelLabel>),
    /// An IP address or `localhost`, compared as a whole.
    Fixed(&'static str),
}

#[derive(Debug, Clone)]
struct ModelPattern {
    https: bool,
    host: ModelHost,
    port: ModelPort,
    /// Write the pattern with some letters upper-case (the allowlist lowercases).
    shout: bool,
}

const LOOPBACK: &[&str] = &["localhost", "127.0.0.1", "127.8.9.10", "[::1]"];
const IPS: &[&str] = &["1.2.3.4", "[2001:db8::1]"];
const PORTS: &[u16] = &[80, 443, 3000, 8443];

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(items)
}

fn model_label() -> impl Strategy<Value = ModelLabel> {
    prop_oneof![
        2 => pick(LITERALS).prop_map(|s| ModelLabel::Lit(s.to_owned())),
        1 => (pick(PREFIXES), pick(SUFFIXES))
            .prop_map(|(p, s)| ModelLabel::Wild(p.to_owned(), s.to_owned())),
    ]
}

fn model_port() -> impl Strategy<Value = ModelPort> {
    prop_oneof![
        2 => Just(ModelPort::Default),
        1 => pick(PORTS).prop_map(ModelPort::Exact),
        1 => Just(ModelPort::Any),
    ]
}

fn model_pattern() -> impl Strategy<Value = ModelPattern> {
    model_pattern_with(false)
}

/// Patterns; with `anywhere`, a `*` may also stand in labels other than the leftmost
/// (which the allowlist refuses).
fn model_pattern_with(anywhere: bool) -> impl Strategy<Value = ModelPattern> {
    let inner = if anywhere {
        prop::collection::vec(model_label(), 0..3).boxed()
    } else {
        prop::collection::vec(
            pick(LITERALS).prop_map(|s| ModelLabel::Lit(s.to_owned())),
            0..2,
        )
        .boxed()
    };
    let dns = (
        prop::option::of(model_label()),
        inner,
        pick(LITERALS),
        pick(TLDS),
    )
        .prop_map(|(first, inner, reg, tld)| {
            let mut labels: Vec<ModelLabel> = first.into_iter().chain(inner).collect();
            labels.push(ModelLabel::Lit(reg.to_owned()));
            labels.push(ModelLabel::Lit(tld.to_owned()));
            ModelHost::Dns(labels)
        });
    prop_oneof![
        5 => (dns, model_port(), any::<bool>()).prop_map(|(host, port, shout)| ModelPattern {
            https: true, host, port, shout,
        }),
        1 => (pick(IPS), model_port()).prop_map(|(ip, port)| ModelPattern {
            https: true, host: ModelHost::Fixed(ip), port, shout: false,
        }),
        1 => (pick(LOOPBACK), model_port(), any::<bool>()).prop_map(|(h, port, https)| {
            ModelPattern { https, host: ModelHost::Fixed(h), port, shout: false }
        }),
    ]
}

impl ModelPattern {
    fn default_port(&self) -> u16 {
        if self.https {
            443
        } else {
            80
        }
    }

    /// The pattern as an operator would write it.
    fn written(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let host = match &self.host {
            ModelHost::Dns(labels) => labels
                .iter()
                .map(|l| match l {
                    ModelLabel::Lit(s) => s.clone(),
                    ModelLabel::Wild(p, s) => format!("{p}*{s}"),
                })
                .collect::<Vec<_>>()
                .join("."),
            ModelHost::Fixed(h) => (*h).to_owned(),
        };
        let port = match self.port {
            ModelPort::Default => String::new(),
            ModelPort::Exact(p) => format!(":{p}"),
            ModelPort::Any => ":*".to_owned(),
        };
        let s = format!("{scheme}://{host}{port}");
        if self.shout {
            s.to_ascii_uppercase()
        } else {
            s
        }
    }

    /// The canonical form the allowlist should print: lowercase, no default port.
    fn canonical(&self) -> String {
        let mut m = self.clone();
        m.shout = false;
        if m.port == ModelPort::Exact(m.default_port()) {
            m.port = ModelPort::Default;
        }
        m.written()
    }

    /// The model: scheme equal, same number of labels, each label literal-equal or
    /// `prefix*suffix` with at least one character for the `*`, and the port rule.
    fn matches(&self, t: &ModelTarget) -> bool {
        if self.https != t.https {
            return false;
        }
        let port = t.port.unwrap_or(if t.https { 443 } else { 80 });
        let port_ok = match self.port {
            ModelPort::Default => port == self.default_port(),
            ModelPort::Exact(p) => port == p,
            ModelPort::Any => true,
        };
        let host_ok = match &self.host {
            ModelHost::Fixed(h) => t.host == *h,
            ModelHost::Dns(labels) => {
                let target: Vec<&str> = t.host.split('.').collect();
                target.len() == labels.len()
                    && labels.iter().zip(&target).all(|(l, t)| match l {
                        ModelLabel::Lit(s) => s == t,
                        ModelLabel::Wild(p, s) => {
                            t.len() > p.len() + s.len()
                                && t.starts_with(p.as_str())
                                && t.ends_with(s.as_str())
                        }
                    })
            }
        };
        port_ok && host_ok
    }
}

#[derive(Debug, Clone)]
struct ModelTarget {
    https: bool,
    host: String,
    port: Option<u16>,
}

impl ModelTarget {
    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let default = if self.https { 443 } else { 80 };
        match self.port.filter(|&p| p != default) {
            Some(p) => format!("{scheme}://{}:{p}/api/auth/callback/github", self.host),
            None => format!("{scheme}://{}/api/auth/callback/github", self.host),
        }
    }
}

/// A valid DNS label made from a wildcard: prefix, a fill of at least one character,
/// suffix. `None` when the result would start or end with a hyphen.
fn fill_wildcard(prefix: &str, fill: &str, suffix: &str) -> Option<String> {
    let l = format!("{prefix}{fill}{suffix}");
    (!l.starts_with('-') && !l.ends_with('-')).then_some(l)
}

/// Targets: random hosts from the same small alphabet, or hosts derived from a pattern
/// (wildcards filled in) so that matches are common, with a random scheme and port.
fn model_target(patterns: Vec<ModelPattern>) -> impl Strategy<Value = ModelTarget> {
    let random_dns =
        (prop::collection::vec(pick(LITERALS), 0..4), pick(TLDS)).prop_map(|(mut labels, tld)| {
            labels.push(tld);
            labels.join(".")
        });
    let fixed = prop_oneof![pick(LOOPBACK), pick(IPS)].prop_map(str::to_owned);
    let derived = (
        prop::sample::select(patterns),
        prop::collection::vec(pick(FILLS), 4),
    )
        .prop_map(|(p, fills)| match &p.host {
            ModelHost::Fixed(h) => (*h).to_owned(),
            ModelHost::Dns(labels) => labels
                .iter()
                .zip(fills.iter().cycle())
                .map(|(l, f)| match l {
                    ModelLabel::Lit(s) => s.clone(),
                    ModelLabel::Wild(p, s) => fill_wildcard(p, f, s)
                        .unwrap_or_else(|| format!("{p}a{s}").replace('-', "a")),
                })
                .collect::<Vec<_>>()
                .join("."),
        });
    let host = prop_oneof![2 => derived, 1 => random_dns, 1 => fixed];
    let port = prop_oneof![
        2 => Just(None),
        2 => pick(PORTS).prop_map(Some),
        1 => (1u16..=65535).prop_map(Some),
    ];
    (host, any::<bool>(), port).prop_map(|(host, https, port)| {
        // Plain http is a valid target only on a loopback host.
        let https = https || !LOOPBACK.contains(&host.as_str());
        ModelTarget { https, host, port }
    })
}

/// Several patterns (some may be refused by the public-suffix rule, which is fine: those
/// lists are skipped) and targets to check against them.
fn allowlist_case() -> impl Strategy<Value = (Vec<ModelPattern>, Vec<ModelTarget>)> {
    prop::collection::vec(model_pattern(), 1..4).prop_flat_map(|patterns| {
        let targets = prop::collection::vec(model_target(patterns.clone()), 1..12);
        (Just(patterns), targets)
    })
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn allowlist_matches_exactly_what_the_model_matches(
        (patterns, targets) in allowlist_case(),
    ) {
        let written: Vec<String> = patterns.iter().map(ModelPattern::written).collect();
        let list = match Allowlist::parse(&written.join(",")) {
            Ok(l) => l,
            Err(e) => {
                // Only the public-suffix and http-for-a-non-loopback rules may refuse a
                // generated list; anything else is a disagreement with the model.
                prop_assert!(
                    matches!(e.code(), "public_suffix_wildcard" | "http_not_loopback"),
                    "{:?} refused: {}", written, e
                );
                return Ok(());
            }
        };
        // The allowlist prints each pattern in the canonical form the model predicts.
        let printed: Vec<&str> = list.patterns().iter().map(|p| p.as_str()).collect();
        let expected: Vec<String> = patterns.iter().map(ModelPattern::canonical).collect();
        prop_assert_eq!(printed, expected);

        let mut hits = 0;
        for t in &targets {
            let raw = t.url();
            let target = Target::parse(&raw)
                .map_err(|e| TestCaseError::fail(format!("{raw}: {e:?}")))?;
            let model = patterns.iter().any(|p| p.matches(t));
            prop_assert_eq!(list.matches(&target), model, "{} vs {:?}", raw, written);
            // Per pattern too: the list's answer is the OR of its patterns' answers.
            for (p, m) in list.patterns().iter().zip(&patterns) {
                prop_assert_eq!(p.matches(&target), m.matches(t), "{} vs {}", raw, p.as_str());
            }
            hits += usize::from(list.matches(&target));
        }
        // In total, the list admits as many targets as the model does.
        let model_hits = targets.iter().filter(|t| patterns.iter().any(|p| p.matches(t))).count();
        prop_assert_eq!(hits, model_hits, "{:?}", written);
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// A `*` anywhere but in the leftmost label is refused, whatever else the pattern
    /// says; a pattern with none there parses exactly when the model's list does.
    #[test]
    fn a_wildcard_outside_the_leftmost_label_is_refused(p in model_pattern_with(true)) {
        let not_leftmost = match &p.host {
            ModelHost::Dns(labels) => labels
                .iter()
                .skip(1)
                .any(|l| matches!(l, ModelLabel::Wild(..))),
            ModelHost::Fixed(_) => false,
        };
        let parsed = p.written().parse::<authrelay_client::pattern::OriginPattern>();
        if not_leftmost {
            let e = parsed.expect_err("refused");
            prop_assert!(
                matches!(e.code(), "wildcard_not_leftmost" | "public_suffix_wildcard"),
                "{}: {}", p.written(), e.code()
            );
        }
    }
}

/// The generators do reach both answers: a sanity check that the property above is not
/// vacuous (every target refused, or every list refused).
#[test]
fn the_allowlist_model_generators_reach_both_answers() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut yes, mut no, mut refused_lists) = (0, 0, 0);
    for _ in 0..400 {
        let (patterns, targets) = allowlist_case().new_tree(&mut runner).unwrap().current();
        let written: Vec<String> = patterns.iter().map(ModelPattern::written).collect();
        let Ok(list) = Allowlist::parse(&written.join(",")) else {
            refused_lists += 1;
            continue;
        };
        for t in targets {
            if list.matches(&Target::parse(&t.url()).unwrap()) {
                yes += 1;
            } else {
                no += 1;
            }
        }
    }
    assert!(yes > 200 && no > 200, "yes {yes}, no {no}");
    assert!(refused_lists < 200, "{refused_lists} of 400 lists refused");
}

/// Pieces that confuse URL parsers, glued together at random.
const SOUP: &[&str] = &[
    "https://",
    "http://",
    "https:",
    "//",
    "/",
    "\\",
    "app",
    "example",
    "com",
    ".",
    "..",
    "preview",
    "pr-1",
    "a",
    "b",
    "-",
    "*",
    ":",
    "443",
    "8443",
    "0",
    "@",
    "%2e",
    "%2f",
    "%40",
    "%",
    "?",
    "#",
    "[",
    "]",
    "::1",
    "localhost",
    "127.0.0.1",
    "0x7f",
    "xn--",
    "XN--",
    "APP",
    " ",
    "\t",
    "\n",
    "é",
    "。",
    "．",
    "\u{ad}",
    "callback",
    "github",
    "a-x-b",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(pick(SOUP), 0..16).prop_map(|v| v.concat())
}

const SOUP_ALLOWLIST: &str =
    "https://*.preview.example.com,https://app.example.com,http://localhost:*,https://a-*-b.example.com:8443";

/// The soup allowlist, by hand: what each pattern admits.
fn soup_model(url: &url::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    let port = url.port_or_known_default();
    match url.scheme() {
        "https" => {
            (host == "app.example.com" && port == Some(443))
                || (labels.len() == 4
                    && !labels[0].is_empty()
                    && labels[1..] == ["preview", "example", "com"]
                    && port == Some(443))
                || (labels.len() == 3
                    && labels[0].len() > 4
                    && labels[0].starts_with("a-")
                    && labels[0].ends_with("-b")
                    && labels[1..] == ["example", "com"]
                    && port == Some(8443))
        }
        "http" => host == "localhost",
        _ => false,
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Whatever string a target parses from, it is its own canonical form, parses again
    /// to the same target, and is allowed exactly when the hand-written model says so.
    #[test]
    fn soup_targets_are_canonical_and_allowed_only_by_the_model(
        raw in prop_oneof![
            4 => soup(),
            1 => soup().prop_map(|s| format!("https://pr-1.preview.example.com/{s}")),
            1 => soup().prop_map(|s| format!("https://app.example.com{s}")),
        ],
    ) {
        let list = Allowlist::parse(SOUP_ALLOWLIST).unwrap();
        let Ok(t) = Target::parse(&raw) else { return Ok(()) };
        prop_assert_eq!(t.as_str(), raw.as_str());
        prop_assert_eq!(Target::parse(t.as_str()), Ok(t.clone()));
        prop_assert!(t.as_str().bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\'));
        let url = url::Url::parse(&raw).unwrap();
        prop_assert_eq!(list.matches(&t), soup_model(&url), "{}", raw);
    }
}

/// From fuzzing (origin_pattern, crash-e88ba346…): a pattern made of DEL characters gave
/// a 1,232-character refusal, because each shown control character is escaped
/// (`\u{7f}`). It is still one line, and bounded: 200 shown characters, at most twice.
#[test]
fn a_pattern_full_of_control_characters_gives_one_bounded_line() {
    for junk in ["\u{7f}", "\u{1b}", "\u{9f}", "\u{202e}", "\n"] {
        for list in [
            format!("https://*.{}", junk.repeat(5000)),
            format!("'ttps://*.{0}://*.{0}previe.wexmomo", junk.repeat(90)),
            format!("https://a.example.com,{}", junk.repeat(3000)),
        ] {
            let e = Allowlist::parse(&list).unwrap_err();
            let msg = e.to_string();
            assert!(!msg.contains('\n') && !msg.contains('\r'), "{msg:?}");
            assert!(
                !msg.contains('\u{7f}') && !msg.contains('\u{1b}'),
                "{msg:?}"
            );
            assert!(msg.chars().count() < 2 * 200 * 10 + 1000, "{}", msg.len());
        }
    }
}
