//! The authorize envelope, version 1: what the relay's own authorize route
//! (`{base}/authorize/{provider}`) puts in `state` in place of an OAuth library's own.
//!
//! An envelope wraps the library's `state` with the return target, the provider and an
//! expiry, and is signed with a key only the relay holds: previews never make one. It is
//! the unpadded base64url encoding of these bytes (integers big-endian):
//!
//! | size | field |
//! |---|---|
//! | 1 | version, `0x45`, so that every envelope starts with `R` |
//! | 8 | expiry, Unix seconds |
//! | 1 | provider id length `p` (1–64) |
//! | p | provider id |
//! | 2 | target length `t` (1–1024) |
//! | t | return target, ASCII, canonical form |
//! | 1 | inner state length `s` (1–255) |
//! | s | the library's own `state`, UTF-8 |
//! | 32 | HMAC-SHA256 tag |
//!
//! The tag covers `"authrelay-envelope-v1" ‖ 0x00 ‖` every byte before it. The MAC key is
//! HKDF-SHA256 of the app's secret with its own info string
//! ([`HKDF_INFO_MAC_KEY`]), so it is never the key of a native or an Auth.js state, and a
//! preview that holds the secret for those formats still cannot make an envelope that the
//! relay would confuse with one of them. `docs/state-format.md` is the full
//! specification; `client/tests/vectors/envelope-v1.json` holds known-answer vectors.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::native::{FailureClass, CLOCK_SKEW_SECS, HKDF_SALT};
use crate::secret::Secret;
use crate::target::{self, is_valid_provider_id, Target, TargetError, MAX_TARGET_LEN};

/// The version byte: its top six bits make the first base64url character `R`, which no
/// native (`A`) or legacy Auth.js (`e`) state starts with, and an envelope has no dots
/// (an Auth.js JWE has four).
pub const VERSION: u8 = 0x45;
/// The first character of every envelope.
pub const FIRST_CHAR: char = 'R';
/// Domain separation for the MAC input.
pub const MAC_CONTEXT: &[u8] = b"authrelay-envelope-v1\0";
/// HKDF info for the MAC key (the salt is the native format's, `authrelay`).
pub const HKDF_INFO_MAC_KEY: &[u8] = b"authrelay authorize envelope v1 mac key";
/// The longest inner state, in bytes.
pub const MAX_INNER_STATE_LEN: usize = 255;
/// Length of the tag.
pub const TAG_LEN: usize = 32;
/// Bytes an envelope adds to its provider, target and inner state.
pub const OVERHEAD: usize = 1 + 8 + 1 + 2 + 1 + TAG_LEN;
/// The longest envelope string looked at; longer input is refused before decoding.
pub const MAX_ENVELOPE_LEN: usize = encoded_len(
    crate::target::MAX_PROVIDER_ID_LEN,
    MAX_TARGET_LEN,
    MAX_INNER_STATE_LEN,
);

type HmacSha256 = Hmac<Sha256>;

/// The length in characters of an envelope for these field lengths in bytes.
pub const fn encoded_len(provider_len: usize, target_len: usize, inner_len: usize) -> usize {
    (4 * (OVERHEAD + provider_len + target_len + inner_len)).div_ceil(3)
}

/// The envelope MAC key derived once from one secret.
#[derive(Clone)]
pub struct EnvelopeKey {
    /// HMAC keyed with the MAC key, the context already absorbed.
    keyed: HmacSha256,
}

impl EnvelopeKey {
    /// Derives the MAC key from a secret.
    pub fn derive(secret: &Secret) -> Self {
        Self::derive_from_bytes(secret.expose_secret().as_bytes())
    }

    /// Derivation from raw bytes, for known-answer vectors.
    pub(crate) fn derive_from_bytes(ikm: &[u8]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(HKDF_SALT), ikm);
        let mut mac_key = [0u8; 32];
        hk.expand(HKDF_INFO_MAC_KEY, &mut mac_key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let mut keyed =
            HmacSha256::new_from_slice(&mac_key).expect("HMAC accepts keys of any length");
        keyed.update(MAC_CONTEXT);
        Self { keyed }
    }

    fn mac(&self, body: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(body);
        mac
    }
}

impl fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeKey").finish_non_exhaustive()
    }
}

/// An OAuth library's own `state`, kept inside an envelope. Its `Debug` shows only its
/// length: a state never reaches logs.
#[derive(Clone, PartialEq, Eq)]
pub struct InnerState(String);

impl InnerState {
    /// The state, to restore it on the callback.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty (never, for one read from an envelope).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for InnerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InnerState({} bytes)", self.0.len())
    }
}

/// Why an envelope cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The provider id is not 1–64 of `A-Z a-z 0-9 _ -`.
    #[error("the provider id is not valid")]
    BadProvider,
    /// The inner state is empty or longer than [`MAX_INNER_STATE_LEN`] bytes.
    #[error("the state must be 1 to {MAX_INNER_STATE_LEN} bytes")]
    BadInnerState,
}

/// Makes an envelope for `provider`, `target` and the library's `inner_state`, valid
/// until `expires_at`.
pub fn seal(
    key: &EnvelopeKey,
    provider: &str,
    target: &Target,
    inner_state: &str,
    expires_at: u64,
) -> Result<String, SealError> {
    if !is_valid_provider_id(provider) {
        return Err(SealError::BadProvider);
    }
    if inner_state.is_empty() || inner_state.len() > MAX_INNER_STATE_LEN {
        return Err(SealError::BadInnerState);
    }
    let url = target.as_str().as_bytes();
    let mut bytes = Vec::with_capacity(OVERHEAD + provider.len() + url.len() + inner_state.len());
    bytes.push(VERSION);
    bytes.extend_from_slice(&expires_at.to_be_bytes());
    // Each length fits its field: provider ≤ 64, target ≤ 1024 (Target::parse), inner
    // state ≤ 255 (checked above).
    bytes.push(provider.len() as u8);
    bytes.extend_from_slice(provider.as_bytes());
    bytes.extend_from_slice(&(url.len() as u16).to_be_bytes());
    bytes.extend_from_slice(url);
    bytes.push(inner_state.len() as u8);
    bytes.extend_from_slice(inner_state.as_bytes());
    let tag = key.mac(&bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The precise reason an envelope failed; callers that answer the public show only the
/// public reason it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Longer than [`MAX_ENVELOPE_LEN`].
    #[error("the envelope is longer than any valid envelope")]
    TooLong,
    /// Not strict unpadded base64url.
    #[error("the envelope is not unpadded base64url")]
    NotBase64url,
    /// The version byte is not [`VERSION`].
    #[error("the envelope has unknown version {0}")]
    UnknownVersion(u8),
    /// The length fields do not add up to the bytes there are.
    #[error("the envelope's fields do not fit its length")]
    BadFraming,
    /// No configured secret's key makes its tag.
    #[error("the envelope's signature does not match any secret of the relay")]
    BadSignature,
    /// Its expiry lies further ahead than the relay's maximum state age.
    #[error("the envelope's lifetime is longer than the relay allows")]
    LifetimeTooLong,
    /// Expired, beyond the allowed clock skew.
    #[error("the envelope has expired")]
    Expired,
    /// The signed provider id is not valid.
    #[error("the envelope's provider id is not valid")]
    BadProvider,
    /// The signed inner state is not UTF-8.
    #[error("the envelope's inner state is not UTF-8")]
    BadInnerState,
    /// The signed target is not a valid URL.
    #[error("the envelope's target is not a valid URL: {0}")]
    BadTarget(TargetError),
}

impl EnvelopeError {
    /// The public class of this failure.
    pub fn class(&self) -> FailureClass {
        match self {
            Self::TooLong | Self::NotBase64url | Self::UnknownVersion(_) | Self::BadFraming => {
                FailureClass::Malformed
            }
            Self::BadSignature
            | Self::LifetimeTooLong
            | Self::BadProvider
            | Self::BadInnerState
            | Self::BadTarget(_) => FailureClass::Invalid,
            Self::Expired => FailureClass::Expired,
        }
    }

    /// A stable snake_case code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::NotBase64url => "not_base64url",
            Self::UnknownVersion(_) => "unknown_version",
            Self::BadFraming => "bad_framing",
            Self::BadSignature => "bad_signature",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::Expired => "expired",
            Self::BadProvider => "bad_provider",
            Self::BadInnerState => "bad_inner_state",
            Self::BadTarget(_) => "bad_target",
        }
    }
}

/// The fields of an envelope, framed but not yet verified.
struct Fields<'a> {
    expires_at: u64,
    provider: &'a [u8],
    target: &'a [u8],
    inner: &'a [u8],
    body: &'a [u8],
    tag: &'a [u8],
}

/// Splits the decoded bytes into their fields, checking only the framing.
fn frame(bytes: &[u8]) -> Result<Fields<'_>, EnvelopeError> {
    let version = *bytes.first().ok_or(EnvelopeError::BadFraming)?;
    if version != VERSION {
        return Err(EnvelopeError::UnknownVersion(version));
    }
    let body_len = bytes
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(EnvelopeError::BadFraming)?;
    let (body, tag) = bytes.split_at(body_len);
    let mut rest = body.get(1..).ok_or(EnvelopeError::BadFraming)?;
    let mut take = |n: usize| -> Result<&[u8], EnvelopeError> {
        if rest.len() < n {
            return Err(EnvelopeError::BadFraming);
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let mut exp = [0u8; 8];
    exp.copy_from_slice(take(8)?);
    let p = take(1)?[0] as usize;
    let provider = take(p)?;
    let t = take(2)?;
    let t = u16::from_be_bytes([t[0], t[1]]) as usize;
    let target = take(t)?;
    let s = take(1)?[0] as usize;
    let inner = take(s)?;
    if !rest.is_empty() || provider.is_empty() || target.is_empty() || inner.is_empty() {
        return Err(EnvelopeError::BadFraming);
    }
    Ok(Fields {
        expires_at: u64::from_be_bytes(exp),
        provider,
        target,
        inner,
        body,
        tag,
    })
}

fn decode(envelope: &str) -> Result<Vec<u8>, EnvelopeError> {
    if envelope.len() > MAX_ENVELOPE_LEN {
        return Err(EnvelopeError::TooLong);
    }
    URL_SAFE_NO_PAD
        .decode(envelope)
        .map_err(|_| EnvelopeError::NotBase64url)
}

/// What a verified envelope holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Index, in the order given to [`open_with`], of the key that verified it.
    pub key_index: usize,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
    /// The provider id it was made for.
    pub provider: String,
    /// The return target.
    pub target: Target,
    /// The library's own `state`.
    pub inner_state: InnerState,
}

/// Verifies an envelope with every key in turn (the relay passes them newest first), at
/// time `now`, refusing an expiry more than `max_age` seconds ahead. The checks run in
/// this order: length, encoding, version, framing, signature (constant time), times,
/// provider, inner state, target; nothing after the signature is looked at unless it
/// verifies. `parse` stands for [`Target::parse`], as in
/// [`native::verify_with`](crate::native::verify_with).
pub fn open_with(
    keys: &[EnvelopeKey],
    envelope: &str,
    now: u64,
    max_age: u64,
    parse: impl FnOnce(&str) -> Result<Target, TargetError>,
) -> Result<Opened, EnvelopeError> {
    let bytes = decode(envelope)?;
    let f = frame(&bytes)?;
    let key_index = keys
        .iter()
        .position(|k| k.mac(f.body).verify_slice(f.tag).is_ok())
        .ok_or(EnvelopeError::BadSignature)?;
    if f.expires_at > now.saturating_add(max_age).saturating_add(CLOCK_SKEW_SECS) {
        return Err(EnvelopeError::LifetimeTooLong);
    }
    if now > f.expires_at.saturating_add(CLOCK_SKEW_SECS) {
        return Err(EnvelopeError::Expired);
    }
    let provider = std::str::from_utf8(f.provider)
        .ok()
        .filter(|p| is_valid_provider_id(p))
        .ok_or(EnvelopeError::BadProvider)?;
    let inner = std::str::from_utf8(f.inner).map_err(|_| EnvelopeError::BadInnerState)?;
    let raw_target = std::str::from_utf8(f.target)
        .map_err(|_| EnvelopeError::BadTarget(TargetError::ForbiddenCharacter))?;
    let target = target::parse_own(raw_target, parse).map_err(EnvelopeError::BadTarget)?;
    Ok(Opened {
        key_index,
        expires_at: f.expires_at,
        provider: provider.to_owned(),
        target,
        inner_state: InnerState(inner.to_owned()),
    })
}

/// [`open_with`] with [`Target::parse`].
pub fn open(
    keys: &[EnvelopeKey],
    envelope: &str,
    now: u64,
    max_age: u64,
) -> Result<Opened, EnvelopeError> {
    open_with(keys, envelope, now, max_age, Target::parse)
}

/// The fields of an envelope read without checking its signature, for `inspect`. The
/// inner state is given by its length only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    /// Expiry, Unix seconds.
    pub expires_at: u64,
    /// The provider bytes, lossily decoded.
    pub provider: String,
    /// The target bytes, lossily decoded.
    pub target: String,
    /// The inner state's length in bytes.
    pub inner_state_len: usize,
}

/// Reads the fields without verifying anything but the framing.
pub fn read_unverified(envelope: &str) -> Result<Unverified, EnvelopeError> {
    let bytes = decode(envelope)?;
    let f = frame(&bytes)?;
    Ok(Unverified {
        expires_at: f.expires_at,
        provider: String::from_utf8_lossy(f.provider).into_owned(),
        target: String::from_utf8_lossy(f.target).into_owned(),
        inner_state_len: f.inner.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;
    const SECRET: &str = "envelope-unit-secret-0123456789abcdef";
    /// 43 characters: a base64url encoding of 32 random bytes, the usual library state.
    const INNER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn key(s: &str) -> EnvelopeKey {
        EnvelopeKey::derive(&Secret::new(s).unwrap())
    }

    /// A 60-character return target.
    fn target60() -> Target {
        let t =
            Target::parse("https://pr-1234.preview.example.com/auth/github/callback/xyz").unwrap();
        assert_eq!(t.as_str().len(), 60);
        t
    }

    #[test]
    fn an_envelope_for_a_43_character_state_and_a_60_character_target_fits_x() {
        let e = seal(&key(SECRET), "github", &target60(), INNER, NOW + 900).unwrap();
        assert_eq!(e.len(), encoded_len(6, 60, 43));
        assert!(e.len() < 500, "{}", e.len());
        // The longest provider id still fits.
        let long = "p".repeat(64);
        let e = seal(&key(SECRET), &long, &target60(), INNER, NOW + 900).unwrap();
        assert!(e.len() < 500, "{}", e.len());
        assert!(e.starts_with(FIRST_CHAR) && !e.contains('.'));
    }

    #[test]
    fn a_sealed_envelope_opens_with_its_key_and_keeps_every_field() {
        let (old, new) = (key(SECRET), key("another-envelope-secret-0123456789ab"));
        let e = seal(&old, "github", &target60(), INNER, NOW + 900).unwrap();
        let o = open(&[new.clone(), old.clone()], &e, NOW, 900).unwrap();
        assert_eq!(o.key_index, 1);
        assert_eq!(o.provider, "github");
        assert_eq!(o.target, target60());
        assert_eq!(o.inner_state.expose(), INNER);
        assert_eq!(o.expires_at, NOW + 900);
        assert_eq!(open(&[new], &e, NOW, 900), Err(EnvelopeError::BadSignature));
        // Debug never shows the inner state.
        assert!(!format!("{o:?}").contains(INNER));
    }

    #[test]
    fn times_are_checked_after_the_signature() {
        let k = key(SECRET);
        let e = seal(&k, "github", &target60(), INNER, NOW + 900).unwrap();
        let keys = std::slice::from_ref(&k);
        assert!(open(keys, &e, NOW + 915, 900).is_ok());
        assert_eq!(open(keys, &e, NOW + 916, 900), Err(EnvelopeError::Expired));
        assert_eq!(
            open(keys, &e, NOW, 600),
            Err(EnvelopeError::LifetimeTooLong)
        );
    }

    #[test]
    fn every_single_character_change_fails() {
        let k = key(SECRET);
        let e = seal(&k, "github", &target60(), INNER, NOW + 900).unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..e.len() {
            for &c in alphabet.iter().step_by(7) {
                if e.as_bytes()[i] == c {
                    continue;
                }
                let mut changed = e.clone().into_bytes();
                changed[i] = c;
                let changed = String::from_utf8(changed).unwrap();
                assert!(
                    open(std::slice::from_ref(&k), &changed, NOW, 900).is_err(),
                    "{i}"
                );
            }
        }
    }

    #[test]
    fn framing_errors_are_malformed_and_never_panic() {
        let k = key(SECRET);
        let e = seal(&k, "github", &target60(), INNER, NOW + 900).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&e).unwrap();
        for n in 0..bytes.len() {
            let cut = URL_SAFE_NO_PAD.encode(&bytes[..n]);
            let err = open(std::slice::from_ref(&k), &cut, NOW, 900).unwrap_err();
            assert_eq!(err.class(), FailureClass::Malformed, "{n}: {err:?}");
        }
        assert_eq!(
            open(
                std::slice::from_ref(&k),
                &"R".repeat(MAX_ENVELOPE_LEN + 1),
                NOW,
                900
            ),
            Err(EnvelopeError::TooLong)
        );
        assert_eq!(
            open(&[k], "R===", NOW, 900),
            Err(EnvelopeError::NotBase64url)
        );
    }

    #[test]
    fn bad_inputs_are_not_sealed() {
        let k = key(SECRET);
        let t = target60();
        assert_eq!(
            seal(&k, "bad id", &t, INNER, NOW),
            Err(SealError::BadProvider)
        );
        assert_eq!(
            seal(&k, "github", &t, "", NOW),
            Err(SealError::BadInnerState)
        );
        let long = "s".repeat(MAX_INNER_STATE_LEN + 1);
        assert_eq!(
            seal(&k, "github", &t, &long, NOW),
            Err(SealError::BadInnerState)
        );
        let longest = "s".repeat(MAX_INNER_STATE_LEN);
        assert!(seal(&k, "github", &t, &longest, NOW).is_ok());
    }

    #[test]
    fn the_unverified_reading_gives_the_inner_state_length_only() {
        let e = seal(&key(SECRET), "github", &target60(), INNER, NOW + 900).unwrap();
        let u = read_unverified(&e).unwrap();
        assert_eq!(u.provider, "github");
        assert_eq!(u.target, target60().as_str());
        assert_eq!((u.expires_at, u.inner_state_len), (NOW + 900, 43));
    }
}
