//! The native state format, version 1.
//!
//! A state is the unpadded base64url encoding of these bytes (all integers big-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version, `0x01` |
//! | 1 | 4 | key id: HKDF output identifying the secret |
//! | 5 | 8 | issued-at, Unix seconds |
//! | 13 | 8 | expiry, Unix seconds |
//! | 21 | 16 | nonce, random |
//! | 37 | n | target callback URL, ASCII, canonical form |
//! | 37 + n | 32 | HMAC-SHA256 tag |
//!
//! The tag covers `"authrelay-state-v1" ‖ 0x00 ‖ bytes[0 .. 37 + n]`. The MAC key and the
//! key id come from HKDF-SHA256 of the secret, so that a secret that is also an app's
//! session secret is never used raw. The provider id is the target's last path segment
//! (`…/callback/<provider>`): it is signed as part of the target, which keeps the state short.
//! `docs/state-format.md` is the full specification; `client/tests/vectors/native-v1.json`
//! holds known-answer vectors.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;
use crate::target::{self, Target, TargetError};

/// The version byte of this format.
pub const VERSION: u8 = 1;
/// Domain separation for the MAC input.
pub const MAC_CONTEXT: &[u8] = b"authrelay-state-v1\0";
/// HKDF salt.
pub const HKDF_SALT: &[u8] = b"authrelay";
/// HKDF info for the MAC key.
pub const HKDF_INFO_MAC_KEY: &[u8] = b"authrelay native state v1 mac key";
/// HKDF info for the key id.
pub const HKDF_INFO_KEY_ID: &[u8] = b"authrelay native state v1 key id";
/// Length of the fixed fields before the target.
pub const HEADER_LEN: usize = 37;
/// Length of the tag.
pub const TAG_LEN: usize = 32;
/// Bytes a state adds to its target.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// The longest state string looked at; longer input is refused before decoding.
pub const MAX_STATE_LEN: usize = encoded_len(crate::target::MAX_TARGET_LEN);
/// Clock skew allowed on issued-at and expiry, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 15;

type HmacSha256 = Hmac<Sha256>;

/// The length in characters of a state for a target of `target_len` bytes:
/// `ceil(4 × (69 + target_len) / 3)`.
pub const fn encoded_len(target_len: usize) -> usize {
    (4 * (OVERHEAD + target_len)).div_ceil(3)
}

/// Keys derived once from one secret.
#[derive(Clone)]
pub struct NativeKey {
    /// HMAC keyed with the MAC key, the context already absorbed: each state's MAC starts
    /// from a copy instead of hashing the key pads again.
    keyed: HmacSha256,
    kid: [u8; 4],
}

impl NativeKey {
    /// Derives the MAC key and key id from a secret.
    pub fn derive(secret: &Secret) -> Self {
        Self::derive_from_bytes(secret.expose_secret().as_bytes())
    }

    /// Derivation from raw bytes, for known-answer vectors whose secrets may be short.
    pub(crate) fn derive_from_bytes(ikm: &[u8]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(HKDF_SALT), ikm);
        let mut mac_key = [0u8; 32];
        let mut kid = [0u8; 4];
        // 32 and 4 bytes are far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        hk.expand(HKDF_INFO_MAC_KEY, &mut mac_key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        hk.expand(HKDF_INFO_KEY_ID, &mut kid)
            .expect("4 bytes is a valid HKDF-SHA256 output length");
        let mut keyed =
            HmacSha256::new_from_slice(&mac_key).expect("HMAC accepts keys of any length");
        keyed.update(MAC_CONTEXT);
        Self { keyed, kid }
    }

    /// The key id, as it appears in states.
    pub fn kid(&self) -> [u8; 4] {
        self.kid
    }

    /// The key id as lowercase hex, for `inspect` and logs.
    pub fn kid_hex(&self) -> String {
        hex(&self.kid)
    }

    fn mac(&self, body: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(body);
        mac
    }
}

impl fmt::Debug for NativeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeKey")
            .field("kid", &self.kid_hex())
            .finish_non_exhaustive()
    }
}

/// Why a target cannot be put in a native state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The target has a query; native targets carry scheme, host, port and path only.
    #[error("the target must not have a query")]
    TargetHasQuery,
    /// The target's path does not end in `/callback/<provider>`.
    #[error("the target's path must end in /callback/<provider>")]
    NotACallback,
    /// The lifetime is zero or the expiry overflows.
    #[error("the lifetime must be between 1 second and 100 years")]
    BadLifetime,
}

/// Makes a state for `target`, valid from `now` for `ttl` seconds.
pub fn sign(
    key: &NativeKey,
    target: &Target,
    now: u64,
    ttl: u64,
    nonce: [u8; 16],
) -> Result<String, SignError> {
    if target.has_query() {
        return Err(SignError::TargetHasQuery);
    }
    if target.callback_provider().is_none() {
        return Err(SignError::NotACallback);
    }
    if ttl == 0 || ttl > 100 * 365 * 24 * 3600 {
        return Err(SignError::BadLifetime);
    }
    let exp = now.checked_add(ttl).ok_or(SignError::BadLifetime)?;
    let url = target.as_str().as_bytes();
    let mut bytes = Vec::with_capacity(OVERHEAD + url.len());
    bytes.push(VERSION);
    bytes.extend_from_slice(&key.kid);
    bytes.extend_from_slice(&now.to_be_bytes());
    bytes.extend_from_slice(&exp.to_be_bytes());
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(url);
    let tag = key.mac(&bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What a verified native state holds.
#[derive(Clone, PartialEq, Eq)]
pub struct NativeState {
    /// Index, in the order given to [`verify`], of the key that verified it.
    pub key_index: usize,
    /// Issued-at, Unix seconds.
    pub issued_at: u64,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
    /// The target callback URL.
    pub target: Target,
    /// The provider id the state is bound to (the target's last path segment).
    pub provider: String,
}

impl fmt::Debug for NativeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeState")
            .field("key_index", &self.key_index)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("target", &self.target.as_str())
            .field("provider", &self.provider)
            .finish()
    }
}

/// The precise reason a native state failed. Callers that answer the public show only
/// the public reason it maps to ([`crate::keyring::Reason`]); the variant is for logs
/// and `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NativeError {
    /// Longer than [`MAX_STATE_LEN`].
    #[error("the state is longer than any valid state")]
    TooLong,
    /// Not strict unpadded base64url.
    #[error("the state is not unpadded base64url")]
    NotBase64url,
    /// Decodes to fewer bytes than the fixed fields need.
    #[error("the state is too short to hold a signed target")]
    TooShort,
    /// Decodes to what looks like JSON: the unsigned state of Auth.js before 0.35.3.
    #[error("the state is unsigned JSON (Auth.js before 0.35.3), which is never accepted")]
    LegacyUnsigned,
    /// The version byte is not one this relay knows.
    #[error("the state has unknown version {0}")]
    UnknownVersion(u8),
    /// No configured secret has this key id.
    #[error("the state was signed with a secret the relay does not have")]
    UnknownKey,
    /// The tag does not match.
    #[error("the state's signature does not match")]
    BadSignature,
    /// Expiry before issued-at.
    #[error("the state expires before it was issued")]
    BadTimes,
    /// The lifetime is longer than the relay's maximum state age.
    #[error("the state's lifetime is longer than the relay allows")]
    LifetimeTooLong,
    /// Issued in the future, beyond the allowed clock skew.
    #[error("the state was issued in the future")]
    NotYetValid,
    /// Expired, beyond the allowed clock skew.
    #[error("the state has expired")]
    Expired,
    /// The signed target is not a valid callback URL.
    #[error("the state's target is not a valid callback URL: {0}")]
    BadTarget(TargetError),
    /// The signed target has a query or is not a `/callback/<provider>` path.
    #[error("the state's target is not a callback URL without query")]
    NotACallback,
}

/// The class of a state failure, in either format. [`crate::keyring::Reason`], what a
/// refusal page says, follows it, except that a failure of the target's URL rules is
/// `target_invalid` whatever its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The state could not be read at all.
    Malformed,
    /// It could be read but does not verify, or breaks a rule.
    Invalid,
    /// It verified but is outside its validity window.
    Expired,
}

impl NativeError {
    /// The public class of this failure.
    pub fn class(&self) -> FailureClass {
        match self {
            Self::TooLong
            | Self::NotBase64url
            | Self::TooShort
            | Self::LegacyUnsigned
            | Self::UnknownVersion(_) => FailureClass::Malformed,
            Self::UnknownKey
            | Self::BadSignature
            | Self::BadTimes
            | Self::LifetimeTooLong
            | Self::BadTarget(_)
            | Self::NotACallback => FailureClass::Invalid,
            Self::NotYetValid | Self::Expired => FailureClass::Expired,
        }
    }

    /// A stable snake_case code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::NotBase64url => "not_base64url",
            Self::TooShort => "too_short",
            Self::LegacyUnsigned => "legacy_unsigned",
            Self::UnknownVersion(_) => "unknown_version",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::BadTimes => "bad_times",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::BadTarget(_) => "bad_target",
            Self::NotACallback => "not_a_callback",
        }
    }
}

/// The fields of a native state read without checking its signature, for `inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    /// The version byte.
    pub version: u8,
    /// The key id, lowercase hex.
    pub kid: String,
    /// Issued-at, Unix seconds.
    pub issued_at: u64,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
    /// The target bytes, lossily decoded.
    pub target: String,
}

/// Decodes a state's bytes after the length and encoding checks.
fn decode(state: &str) -> Result<Vec<u8>, NativeError> {
    if state.len() > MAX_STATE_LEN {
        return Err(NativeError::TooLong);
    }
    // The default engine refuses padding and non-zero trailing bits, so each state has
    // exactly one encoding.
    let bytes = URL_SAFE_NO_PAD
        .decode(state)
        .map_err(|_| NativeError::NotBase64url)?;
    if bytes.first() == Some(&b'{') {
        return Err(NativeError::LegacyUnsigned);
    }
    if bytes.len() < OVERHEAD + 1 {
        return Err(NativeError::TooShort);
    }
    if bytes[0] != VERSION {
        return Err(NativeError::UnknownVersion(bytes[0]));
    }
    Ok(bytes)
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(bytes);
    u64::from_be_bytes(buf)
}

/// Reads the fields without verifying anything but the framing.
pub fn read_unverified(state: &str) -> Result<Unverified, NativeError> {
    let bytes = decode(state)?;
    let body_end = bytes.len() - TAG_LEN;
    Ok(Unverified {
        version: bytes[0],
        kid: hex(&bytes[1..5]),
        issued_at: be_u64(&bytes[5..13]),
        expires_at: be_u64(&bytes[13..21]),
        target: String::from_utf8_lossy(&bytes[HEADER_LEN..body_end]).into_owned(),
    })
}

/// Verifies a state against the keys, at time `now`, with a maximum lifetime of
/// `max_age` seconds. The checks run in this order: length, encoding, version, key id,
/// signature (constant time), times, target. Nothing after the signature is looked at
/// unless it verifies.
pub fn verify(
    keys: &[NativeKey],
    state: &str,
    now: u64,
    max_age: u64,
) -> Result<NativeState, NativeError> {
    verify_with(keys, state, now, max_age, Target::parse)
}

/// [`verify`], with `parse` in place of [`Target::parse`] for the signed target, which
/// it is given only once the signature and times have verified. `parse` must answer as
/// `Target::parse` does for the same string (the relay passes a cache of its answers);
/// a target whose string is not the signed one is refused as not canonical.
pub fn verify_with(
    keys: &[NativeKey],
    state: &str,
    now: u64,
    max_age: u64,
    parse: impl FnOnce(&str) -> Result<Target, TargetError>,
) -> Result<NativeState, NativeError> {
    let bytes = decode(state)?;
    let body_end = bytes.len() - TAG_LEN;
    let (body, tag) = bytes.split_at(body_end);
    let kid = &body[1..5];
    let (key_index, key) = keys
        .iter()
        .enumerate()
        .find(|(_, k)| k.kid == kid)
        .ok_or(NativeError::UnknownKey)?;
    key.mac(body)
        .verify_slice(tag)
        .map_err(|_| NativeError::BadSignature)?;

    let issued_at = be_u64(&body[5..13]);
    let expires_at = be_u64(&body[13..21]);
    if expires_at < issued_at {
        return Err(NativeError::BadTimes);
    }
    if expires_at - issued_at > max_age {
        return Err(NativeError::LifetimeTooLong);
    }
    if issued_at > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(NativeError::NotYetValid);
    }
    if now > expires_at.saturating_add(CLOCK_SKEW_SECS) {
        return Err(NativeError::Expired);
    }
    let raw_target = std::str::from_utf8(&body[HEADER_LEN..])
        .map_err(|_| NativeError::BadTarget(TargetError::ForbiddenCharacter))?;
    let target = target::parse_own(raw_target, parse).map_err(NativeError::BadTarget)?;
    if target.has_query() {
        return Err(NativeError::NotACallback);
    }
    let provider = target
        .callback_provider()
        .ok_or(NativeError::NotACallback)?
        .to_owned();
    Ok(NativeState {
        key_index,
        issued_at,
        expires_at,
        target,
        provider,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn key(s: &str) -> NativeKey {
        NativeKey::derive(&Secret::new(s).unwrap())
    }

    fn target() -> Target {
        Target::parse("https://pr-1.preview.example.com/api/auth/callback/github").unwrap()
    }

    fn state(k: &NativeKey) -> String {
        sign(k, &target(), NOW, 600, [7; 16]).unwrap()
    }

    #[test]
    fn a_signed_state_verifies_with_its_key() {
        let k = key("0123456789abcdef0123456789abcdef");
        let got = verify(std::slice::from_ref(&k), &state(&k), NOW + 10, 900).unwrap();
        assert_eq!(got.key_index, 0);
        assert_eq!(got.provider, "github");
        assert_eq!(got.target, target());
        assert_eq!((got.issued_at, got.expires_at), (NOW, NOW + 600));
    }

    #[test]
    fn the_key_id_selects_the_secret_during_rotation() {
        let old = key("old-secret-old-secret-old-secret-");
        let new = key("new-secret-new-secret-new-secret-");
        let got = verify(&[new.clone(), old.clone()], &state(&old), NOW, 900).unwrap();
        assert_eq!(got.key_index, 1);
        assert_eq!(
            verify(&[new], &state(&old), NOW, 900),
            Err(NativeError::UnknownKey)
        );
    }

    #[test]
    fn every_single_character_change_fails() {
        let k = key("0123456789abcdef0123456789abcdef");
        let s = state(&k);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..s.len() {
            for &c in alphabet.iter().step_by(7) {
                let mut b = s.clone().into_bytes();
                if b[i] == c {
                    continue;
                }
                b[i] = c;
                let t = String::from_utf8(b).unwrap();
                assert!(
                    verify(std::slice::from_ref(&k), &t, NOW, 900).is_err(),
                    "pos {i}"
                );
            }
        }
    }

    #[test]
    fn times_are_checked_with_fifteen_seconds_of_skew() {
        let k = key("0123456789abcdef0123456789abcdef");
        let s = state(&k);
        let v = |now| verify(std::slice::from_ref(&k), &s, now, 900).map(|_| ());
        assert_eq!(v(NOW + 615), Ok(()));
        assert_eq!(v(NOW + 616), Err(NativeError::Expired));
        assert_eq!(v(NOW - 15), Ok(()));
        assert_eq!(v(NOW - 16), Err(NativeError::NotYetValid));
        assert_eq!(
            verify(std::slice::from_ref(&k), &s, NOW, 599).map(|_| ()),
            Err(NativeError::LifetimeTooLong)
        );
    }

    #[test]
    fn framing_errors_are_reported_before_any_crypto() {
        let k = key("0123456789abcdef0123456789abcdef");
        let keys = [k.clone()];
        assert_eq!(
            verify(&keys, &"A".repeat(MAX_STATE_LEN + 1), NOW, 900),
            Err(NativeError::TooLong)
        );
        assert_eq!(
            verify(&keys, "a+b/", NOW, 900),
            Err(NativeError::NotBase64url)
        );
        assert_eq!(
            verify(&keys, "AQ==", NOW, 900),
            Err(NativeError::NotBase64url)
        );
        assert_eq!(verify(&keys, "AQID", NOW, 900), Err(NativeError::TooShort));
        let mut s = URL_SAFE_NO_PAD.decode(state(&k)).unwrap();
        s[0] = 2;
        assert_eq!(
            verify(&keys, &URL_SAFE_NO_PAD.encode(&s), NOW, 900),
            Err(NativeError::UnknownVersion(2))
        );
        let legacy =
            URL_SAFE_NO_PAD.encode(br#"{"origin":"https://evil.example/callback/github"}"#);
        assert_eq!(
            verify(&keys, &legacy, NOW, 900),
            Err(NativeError::LegacyUnsigned)
        );
        // Non-canonical trailing bits: the last character of a 2-byte tail changed so
        // that it decodes to the same bytes under a lenient decoder.
        let good = state(&k);
        let last = good.chars().last().unwrap();
        let pos = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            .iter()
            .position(|&c| c as char == last)
            .unwrap();
        if pos % 4 == 0 {
            let mut b = good.into_bytes();
            let n = b.len();
            b[n - 1] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[pos + 1];
            let s = String::from_utf8(b).unwrap();
            assert_eq!(verify(&keys, &s, NOW, 900), Err(NativeError::NotBase64url));
        }
    }

    #[test]
    fn targets_with_queries_or_without_callback_paths_cannot_be_signed() {
        let k = key("0123456789abcdef0123456789abcdef");
        let q = Target::parse("https://a.example.com/api/auth/callback/github?x=1").unwrap();
        assert_eq!(
            sign(&k, &q, NOW, 60, [0; 16]),
            Err(SignError::TargetHasQuery)
        );
        let p = Target::parse("https://a.example.com/login").unwrap();
        assert_eq!(sign(&k, &p, NOW, 60, [0; 16]), Err(SignError::NotACallback));
        assert_eq!(
            sign(&k, &target(), NOW, 0, [0; 16]),
            Err(SignError::BadLifetime)
        );
    }

    #[test]
    fn state_length_follows_the_documented_formula() {
        let k = key("0123456789abcdef0123456789abcdef");
        for extra in [0usize, 1, 2, 3, 50, 200] {
            let raw = format!(
                "https://a.example.com/{}/api/auth/callback/github",
                "b".repeat(extra + 1)
            );
            let t = Target::parse(&raw).unwrap();
            let s = sign(&k, &t, NOW, 60, [0; 16]).unwrap();
            assert_eq!(s.len(), encoded_len(raw.len()), "{raw}");
        }
        assert!(encoded_len(60) <= 200);
        assert!(encoded_len(300) < 500);
    }

    #[test]
    fn key_debug_shows_no_key_material() {
        let k = key("0123456789abcdef0123456789abcdef");
        let dbg = format!("{k:?}");
        assert!(dbg.contains(&k.kid_hex()));
        assert!(!dbg.contains("mac_key"));
        assert_eq!(dbg.len(), "NativeKey { kid: \"\", .. }".len() + 8);
    }
}
