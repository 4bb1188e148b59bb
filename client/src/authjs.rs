//! The Auth.js state format: what `@auth/core` ≥ 0.35.3 puts in the OAuth `state`
//! when a redirect proxy is configured, so that authrelay can stand in for the stable
//! Auth.js deployment.
//!
//! # Wire format
//!
//! A compact JWE (RFC 7516 §7.1) with direct encryption and `A256CBC-HS512`
//! (RFC 7518 §5.2), exactly as `encode` in @auth/core's `src/jwt.ts` makes it:
//!
//! ```text
//! BASE64URL(header) . "" . BASE64URL(iv) . BASE64URL(ciphertext) . BASE64URL(tag)
//! header     = {"alg":"dir","enc":"A256CBC-HS512","kid":"<kid>"}
//! key        = HKDF-SHA256(ikm = secret, salt = "encodedState",
//!                          info = "Auth.js Generated Encryption Key (encodedState)", 64 bytes)
//! MAC key    = key[..32]      AES-256-CBC key = key[32..]
//! kid        = BASE64URL(SHA-512({"k":"<BASE64URL(key)>","kty":"oct"}))   (RFC 7638)
//! tag        = HMAC-SHA512(MAC key, AAD ‖ iv ‖ ciphertext ‖ AL)[..32]
//! AAD        = the ASCII of the first part as received; AL = bit length of AAD, u64 BE
//! ciphertext = AES-256-CBC(plaintext, PKCS#7), iv = 16 bytes
//! plaintext  = {"origin":…,"random":…,"iat":…,"exp":…,"jti":…}
//! ```
//!
//! Decoding is deliberately narrower than jose's: only the one header shape above is
//! accepted (no `zip`, no `crit`, no `A256GCM`), base64url must be canonical and unpadded,
//! and the unsigned base64-JSON state of Auth.js before 0.35.3 is never accepted. Every
//! check that needs no key runs before any cryptography, and the tag is verified (in
//! constant time) before anything is decrypted, so a forger learns nothing from padding.

use std::fmt;

use aes::Aes256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::native::FailureClass;
use crate::Secret;

/// The longest state [`decrypt`] looks at, in bytes; longer input is refused before any
/// parsing. Real Auth.js states are a few hundred characters.
pub const MAX_JWE_LEN: usize = 4096;

/// Seconds of clock skew allowed on `exp` and `nbf`, as Auth.js passes to jose, and on
/// `iat` by [`check_lifetime`].
pub const CLOCK_TOLERANCE_SECS: u64 = 15;

/// The HKDF salt (and part of the info string) @auth/core uses for redirect-proxy states.
pub const SALT: &str = "encodedState";

/// The HKDF info string for [`SALT`]: `Auth.js Generated Encryption Key (<salt>)`.
const INFO: &str = "Auth.js Generated Encryption Key (encodedState)";

const ALG: &str = "dir";
const ENC: &str = "A256CBC-HS512";
const IV_LEN: usize = 16;
const TAG_LEN: usize = 32;
const AES_BLOCK: usize = 16;

type HmacSha512 = Hmac<Sha512>;

/// The keys derived from one secret for Auth.js states, and the `kid` that names them.
///
/// Derive it once at start-up: derivation costs an HKDF and a SHA-512. The key bytes are
/// never printed by `Debug`, and the type has no `PartialEq`. The encryption key is wiped
/// on drop. The MAC key is kept only as HMAC's keyed state (the key pads, hashed once, so
/// that a state's MAC does not hash them again: two of its SHA-512 blocks), which the
/// `hmac` crate does not wipe on drop.
#[derive(Clone)]
pub struct AuthJsKey {
    keyed: HmacSha512,
    enc_key: Zeroizing<[u8; 32]>,
    kid: String,
}

impl AuthJsKey {
    /// Derives the keys @auth/core derives from `secret` for redirect-proxy states.
    pub fn derive(secret: &Secret) -> Self {
        Self::derive_from_bytes(secret.expose_secret().as_bytes())
    }

    /// Derivation from raw secret bytes. Crate-private because it bypasses the minimum
    /// length [`Secret`] enforces; the published test vector uses a shorter secret.
    pub(crate) fn derive_from_bytes(ikm: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SALT.as_bytes()), ikm);
        let mut okm = Zeroizing::new([0u8; 64]);
        // 64 bytes is far below HKDF-SHA256's 255 × 32 limit, so this cannot fail.
        hk.expand(INFO.as_bytes(), okm.as_mut_slice())
            .expect("64 bytes is a valid HKDF-SHA256 output length");

        let kid = thumbprint(okm.as_slice());
        let mut enc_key = Zeroizing::new([0u8; 32]);
        let (mac_half, enc_half) = okm.split_at(32);
        enc_key.copy_from_slice(enc_half);
        // HMAC accepts keys of any length; this never fails.
        let keyed = <HmacSha512 as Mac>::new_from_slice(mac_half)
            .expect("HMAC accepts a key of any length");
        Self {
            keyed,
            enc_key,
            kid,
        }
    }

    /// The key's id as it appears in the JWE header: its RFC 7638 JWK thumbprint
    /// (SHA-512, base64url). It is public: every state carries it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn mac(&self) -> HmacSha512 {
        self.keyed.clone()
    }
}

impl fmt::Debug for AuthJsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthJsKey")
            .field("kid", &self.kid)
            .field("keys", &Redacted)
            .finish()
    }
}

/// RFC 7638 thumbprint of `{"kty":"oct","k":…}`, members in lexicographic order, as
/// jose's `calculateJwkThumbprint` with `sha512` computes it for a 64-byte key.
fn thumbprint(key: &[u8]) -> String {
    let jwk = Zeroizing::new(format!(
        r#"{{"k":"{}","kty":"oct"}}"#,
        Zeroizing::new(URL_SAFE_NO_PAD.encode(key)).as_str()
    ));
    URL_SAFE_NO_PAD.encode(Sha512::digest(jwk.as_bytes()))
}

/// Prints in place of a value that must not reach logs.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Declares [`AuthJsClaims`]: `origin` is required, and every other claim is optional,
/// with one rule for all of them: absent or a value of its type when deserialized (see
/// [`value_present`]), and left out when serialized while `None`.
macro_rules! claims {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(#[$origin_doc:meta])*
            pub origin: String,
            $(
                $(#[$doc:meta])*
                pub $field:ident: Option<$ty:ty>,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {
            $(#[$origin_doc])*
            pub origin: String,
            $(
                $(#[$doc])*
                #[serde(
                    default,
                    deserialize_with = "value_present",
                    skip_serializing_if = "Option::is_none"
                )]
                pub $field: Option<$ty>,
            )*
        }
    };
}

claims! {
    /// The decrypted payload of an Auth.js state. Unknown fields are ignored; absent
    /// optional fields are left out when serialized (jose rejects e.g. `"nbf":null`).
    pub struct AuthJsClaims {
        /// The preview's full callback URL, e.g. `https://preview.example.com/api/auth/callback/github`.
        pub origin: String,
        /// A random string (32 random bytes, base64url) that makes each state unique.
        pub random: Option<String>,
        /// Issued at, seconds since the Unix epoch. Required by [`decrypt`].
        pub iat: Option<u64>,
        /// Expiry, seconds since the Unix epoch (Auth.js: `iat + 900`). Required by [`decrypt`].
        pub exp: Option<u64>,
        /// Not before, seconds since the Unix epoch. Auth.js never sets it.
        pub nbf: Option<u64>,
        /// A unique id (a UUID v4 string in states made by Auth.js).
        pub jti: Option<String>,
    }
}

/// An optional claim is absent or a value of its type; `null` is refused, as jose
/// refuses `"exp": null` (Auth.js never writes a null).
fn value_present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl fmt::Debug for AuthJsClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthJsClaims")
            .field("origin", &self.origin)
            .field("random", &self.random.as_ref().map(|_| Redacted))
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("nbf", &self.nbf)
            .field("jti", &self.jti)
            .finish()
    }
}

/// Why an Auth.js state was refused. The message never contains any of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthJsError {
    /// Longer than [`MAX_JWE_LEN`].
    #[error("the state is too long")]
    TooLong,
    /// Not five dot-separated parts with an empty second part (this includes the
    /// unsigned base64-JSON state of Auth.js before 0.35.3).
    #[error("the state is not an Auth.js encrypted state")]
    NotCompactJwe,
    /// A part is not canonical unpadded base64url.
    #[error("the state is not valid base64url")]
    BadEncoding,
    /// The header is not a JSON object, or asks for anything but `dir` with
    /// `A256CBC-HS512` and an optional string `kid`.
    #[error("the state's header is not supported")]
    BadHeader,
    /// The IV is not 16 bytes, the tag not 32, or the ciphertext is empty or not a
    /// whole number of AES blocks.
    #[error("a part of the state has the wrong length")]
    BadLength,
    /// The header names a key that is not configured (or no key is configured).
    #[error("the state was made with a secret that is not configured")]
    UnknownKey,
    /// The tag does not verify, or the padding is wrong. One variant on purpose: the
    /// caller must not learn which.
    #[error("the state could not be decrypted")]
    Decrypt,
    /// The plaintext is not a JSON object with a string `origin` and numeric `iat`
    /// and `exp`.
    #[error("the state's payload is not valid")]
    BadPayload,
    /// `exp` is more than [`CLOCK_TOLERANCE_SECS`] in the past.
    #[error("the state has expired")]
    Expired,
    /// `nbf` or `iat` is more than [`CLOCK_TOLERANCE_SECS`] in the future.
    #[error("the state is not valid yet")]
    NotYetValid,
    /// `iat` is further in the past than the relay's maximum state age (and
    /// [`CLOCK_TOLERANCE_SECS`]).
    #[error("the state is older than the relay's maximum state age")]
    TooOld,
}

impl AuthJsError {
    /// The public class of this failure.
    pub fn class(&self) -> FailureClass {
        match self {
            Self::TooLong
            | Self::NotCompactJwe
            | Self::BadEncoding
            | Self::BadHeader
            | Self::BadLength => FailureClass::Malformed,
            Self::UnknownKey | Self::Decrypt | Self::BadPayload => FailureClass::Invalid,
            Self::Expired | Self::NotYetValid | Self::TooOld => FailureClass::Expired,
        }
    }

    /// A stable snake_case code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::NotCompactJwe => "not_compact_jwe",
            Self::BadEncoding => "not_base64url",
            Self::BadHeader => "bad_header",
            Self::BadLength => "bad_length",
            Self::UnknownKey => "unknown_key",
            Self::Decrypt => "decrypt_failed",
            Self::BadPayload => "bad_payload",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::TooOld => "too_old",
        }
    }
}

/// Encrypts `claims_json` as @auth/core does, with the given IV. Only for reproducible
/// output (test vectors): a real state needs a fresh random IV, see [`encrypt`].
///
/// The result can exceed [`MAX_JWE_LEN`] if `claims_json` is large; [`decrypt`] would
/// then refuse it.
pub fn encrypt_with_iv(key: &AuthJsKey, claims_json: &[u8], iv: [u8; 16]) -> String {
    // Key order and compact form match JSON.stringify in jose, so the header part (the
    // AAD) is byte-identical to what Auth.js sends. A kid is base64url: no escaping needed.
    let header = format!(r#"{{"alg":"{ALG}","enc":"{ENC}","kid":"{}"}}"#, key.kid);
    let header_b64 = URL_SAFE_NO_PAD.encode(header);
    let ciphertext = cbc::Encryptor::<Aes256>::new(&(*key.enc_key).into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(claims_json);
    let tag = tag(key, header_b64.as_bytes(), &iv, &ciphertext);
    format!(
        "{header_b64}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ciphertext),
        URL_SAFE_NO_PAD.encode(tag),
    )
}

/// Encrypts `claims` as @auth/core does, with a fresh random IV.
pub fn encrypt(key: &AuthJsKey, claims: &AuthJsClaims) -> String {
    // Strings and integers always serialize.
    let json = serde_json::to_vec(claims).expect("claims always serialize to JSON");
    encrypt_with_iv(key, &json, crate::random_bytes())
}

/// Builds the claims @auth/core's `state.create` puts in a redirect-proxy state:
/// `origin`, `random` (32 random bytes, base64url), `iat = now`, `exp = now + ttl`
/// (Auth.js uses 900 s) and a random UUID v4 `jti`.
pub fn new_claims(origin: &str, now: u64, ttl: u64) -> AuthJsClaims {
    claims_with(
        origin,
        now,
        ttl,
        crate::random_bytes(),
        crate::random_bytes(),
    )
}

/// [`new_claims`] with the random bytes given: `random` for the `random` claim, `jti`
/// for the UUID. For callers that draw randomness themselves and must refuse to sign
/// when it fails.
pub fn claims_with(
    origin: &str,
    now: u64,
    ttl: u64,
    random: [u8; 32],
    jti: [u8; 16],
) -> AuthJsClaims {
    AuthJsClaims {
        origin: origin.to_owned(),
        random: Some(URL_SAFE_NO_PAD.encode(random)),
        iat: Some(now),
        exp: Some(now.saturating_add(ttl)),
        nbf: None,
        jti: Some(uuid_v4(jti)),
    }
}

/// Formats 16 random bytes as an RFC 9562 version 4 UUID, like `crypto.randomUUID()`.
fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Opens an Auth.js state with one of `keys` (in the operator's order, as Auth.js takes
/// `[AUTH_SECRET_3, AUTH_SECRET_2, AUTH_SECRET_1, AUTH_SECRET]`) and returns the index of
/// the key that opened it with the claims.
///
/// Key choice follows @auth/core's `decode`: with a `kid` in the header, only the key
/// with that kid is tried ([`AuthJsError::UnknownKey`] if none has it); without a `kid`,
/// only the first key is tried. Auth.js ≥ 0.35.3 always sends a kid, so a state without
/// one was hand-made; trying just one key keeps it to a single MAC per state either way.
///
/// `iat` and `exp` must be present. No time checks are made here: see [`check_times`].
pub fn decrypt(keys: &[AuthJsKey], jwe: &str) -> Result<(usize, AuthJsClaims), AuthJsError> {
    if jwe.len() > MAX_JWE_LEN {
        return Err(AuthJsError::TooLong);
    }

    let mut parts = jwe.split('.');
    let (Some(header_b64), Some(encrypted_key), Some(iv_b64), Some(ct_b64), Some(tag_b64), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(AuthJsError::NotCompactJwe);
    };
    // `dir` has no encrypted key; a non-empty one means another algorithm.
    if !encrypted_key.is_empty() {
        return Err(AuthJsError::NotCompactJwe);
    }

    let header = b64(header_b64)?;
    let iv = b64(iv_b64)?;
    let ciphertext = b64(ct_b64)?;
    let tag = b64(tag_b64)?;

    let header = parse_header(&header)?;

    let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| AuthJsError::BadLength)?;
    if tag.len() != TAG_LEN || ciphertext.is_empty() || ciphertext.len() % AES_BLOCK != 0 {
        return Err(AuthJsError::BadLength);
    }

    // Kids are public (every state carries one), so a plain comparison leaks nothing.
    let index = match &header.kid {
        Some(kid) => keys.iter().position(|k| k.kid == *kid),
        None if keys.is_empty() => None,
        None => Some(0),
    }
    .ok_or(AuthJsError::UnknownKey)?;
    let key = keys.get(index).ok_or(AuthJsError::UnknownKey)?;

    let mut mac = key.mac();
    mac_input(&mut mac, header_b64.as_bytes(), &iv, &ciphertext);
    // Constant-time comparison of the 32-byte truncated HMAC-SHA512, before any
    // decryption, so padding errors are only ever seen on authentic ciphertext.
    mac.verify_truncated_left(&tag)
        .map_err(|_| AuthJsError::Decrypt)?;

    let plaintext = cbc::Decryptor::<Aes256>::new(&(*key.enc_key).into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
        .map_err(|_| AuthJsError::Decrypt)?;

    let claims = parse_claims(&plaintext)?;
    Ok((index, claims))
}

/// Checks `exp` and `nbf` against `now` (seconds since the Unix epoch) as jose does for
/// Auth.js, with [`CLOCK_TOLERANCE_SECS`]: expired when `exp <= now - 15`, not yet valid
/// when `nbf > now + 15`. Claims without `exp` fail closed with
/// [`AuthJsError::BadPayload`] (Auth.js always sets it; [`decrypt`] already requires it).
pub fn check_times(claims: &AuthJsClaims, now: u64) -> Result<(), AuthJsError> {
    let exp = claims.exp.ok_or(AuthJsError::BadPayload)?;
    // Written so that neither side can wrap: before the epoch + 15 s nothing has
    // expired, and an nbf cannot exceed a `now + 15` that is past u64::MAX.
    if now
        .checked_sub(CLOCK_TOLERANCE_SECS)
        .is_some_and(|oldest| exp <= oldest)
    {
        return Err(AuthJsError::Expired);
    }
    if let Some(nbf) = claims.nbf {
        if nbf > now.saturating_add(CLOCK_TOLERANCE_SECS) {
            return Err(AuthJsError::NotYetValid);
        }
    }
    Ok(())
}

/// The relay's whole time rule for a decrypted state: [`check_times`], then `iat` must be
/// no more than [`CLOCK_TOLERANCE_SECS`] in the future ([`AuthJsError::NotYetValid`]) and
/// no more than `max_age` seconds (plus the tolerance) in the past
/// ([`AuthJsError::TooOld`]). The `iat` checks are the relay's own: they cap an Auth.js
/// state's age as the native format caps a state's lifetime.
pub fn check_lifetime(claims: &AuthJsClaims, now: u64, max_age: u64) -> Result<(), AuthJsError> {
    check_times(claims, now)?;
    if let Some(iat) = claims.iat {
        if iat > now.saturating_add(CLOCK_TOLERANCE_SECS) {
            return Err(AuthJsError::NotYetValid);
        }
        if now
            > iat
                .saturating_add(max_age)
                .saturating_add(CLOCK_TOLERANCE_SECS)
        {
            return Err(AuthJsError::TooOld);
        }
    }
    Ok(())
}

fn b64(part: &str) -> Result<Vec<u8>, AuthJsError> {
    // URL_SAFE_NO_PAD rejects '=' padding, the standard alphabet's '+' and '/',
    // whitespace, and non-zero trailing bits, so every value has exactly one encoding.
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthJsError::BadEncoding)
}

fn tag(key: &AuthJsKey, aad: &[u8], iv: &[u8], ciphertext: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = key.mac();
    mac_input(&mut mac, aad, iv, ciphertext);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&full[..TAG_LEN]);
    tag
}

/// RFC 7518 §5.2.2.1: MAC input is AAD ‖ IV ‖ ciphertext ‖ AL.
fn mac_input(mac: &mut HmacSha512, aad: &[u8], iv: &[u8], ciphertext: &[u8]) {
    // AAD is at most MAX_JWE_LEN bytes on decryption and a short header on
    // encryption, so the bit length cannot overflow.
    let al = (aad.len() as u64).wrapping_mul(8).to_be_bytes();
    mac.update(aad);
    mac.update(iv);
    mac.update(ciphertext);
    mac.update(&al);
}

/// The protected header. Serde's derive refuses duplicate members, so a header cannot
/// say two things to two parsers; unknown members are ignored, as jose ignores them.
#[derive(Deserialize)]
struct Header {
    alg: String,
    enc: String,
    // `"kid": null` is not "no kid": Auth.js would look for a key whose thumbprint is
    // null and find none.
    #[serde(default, deserialize_with = "value_present")]
    kid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    zip: bool,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// A member whose presence alone matters, whatever its value (even `null`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

fn parse_header(bytes: &[u8]) -> Result<Header, AuthJsError> {
    if !is_json_object(bytes) {
        return Err(AuthJsError::BadHeader);
    }
    let header: Header = serde_json::from_slice(bytes).map_err(|_| AuthJsError::BadHeader)?;
    // We recognise no extension, so any `crit` is unsupported (RFC 7516 §4.1.13);
    // compression before encryption is refused outright.
    if header.alg != ALG || header.enc != ENC || header.zip || header.crit {
        return Err(AuthJsError::BadHeader);
    }
    Ok(header)
}

fn parse_claims(bytes: &[u8]) -> Result<AuthJsClaims, AuthJsError> {
    if !is_json_object(bytes) {
        return Err(AuthJsError::BadPayload);
    }
    let claims: AuthJsClaims =
        serde_json::from_slice(bytes).map_err(|_| AuthJsError::BadPayload)?;
    if claims.iat.is_none() || claims.exp.is_none() {
        return Err(AuthJsError::BadPayload);
    }
    Ok(claims)
}

/// Serde's derived struct deserializers also accept a JSON array (fields by position);
/// jose only accepts an object, and so do we.
fn is_json_object(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_SECRET: &str = "test-secret";
    const VECTOR_KID: &str =
        "9lLn2h2ePp68KPSLPlWjaxqeG1LL1TiGuht-wV3nBdtceyQSRujm8jJnRke5z6x1TBCHEZoUAp0D7-Uh5QOfSw";
    const VECTOR_PLAINTEXT: &str = r#"{"origin":"https://preview.example.com/api/auth/callback/github","random":"rAnDoM","iat":1700000000,"exp":4102444800,"jti":"00000000-0000-4000-8000-000000000000"}"#;
    const VECTOR_JWE: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiOWxMbjJoMmVQcDY4S1BTTFBsV2pheHFlRzFMTDFUaUd1aHQtd1YzbkJkdGNleVFTUnVqbThqSm5Sa2U1ejZ4MVRCQ0hFWm9VQXAwRDctVWg1UU9mU3cifQ..AQEBAQEBAQEBAQEBAQEBAQ.y_Z96Rr3LHMyYRCAJhk8rgFYKdMzeT3yB1FgXE46hQ5RiBCZ_ex0wzqMyKwtyNdUC5O-Afjv7gberAFfWEFBKKRhF8cmnJRCPjWH4IuxpCGmnsvfpuo8g2Vzj3FZUvBfAcoJhqUXdy8noWW-sP4gKfsb430Y27HXYXZ2A4D-Ac5WXDk8T65UfI9xoOZ9QD2_VipS7vzR0_CjxNyQQ9VAX3_n-SsxNp1vQUas5FvxWas.VEsMU_hdKvmFdXNfwfAPRHlJUpiBhdTOGbELqldCzHM";

    fn vector_key() -> AuthJsKey {
        AuthJsKey::derive_from_bytes(VECTOR_SECRET.as_bytes())
    }

    fn vector_claims() -> AuthJsClaims {
        AuthJsClaims {
            origin: "https://preview.example.com/api/auth/callback/github".into(),
            random: Some("rAnDoM".into()),
            iat: Some(1_700_000_000),
            exp: Some(4_102_444_800),
            nbf: None,
            jti: Some("00000000-0000-4000-8000-000000000000".into()),
        }
    }

    fn key(secret: &str) -> AuthJsKey {
        AuthJsKey::derive(&Secret::new(secret).unwrap())
    }

    fn enc(s: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    /// [`VECTOR_JWE`] with its part `i` (0 to 4, dot-separated) replaced by `new`.
    fn with_part(i: usize, new: &str) -> String {
        let mut parts: Vec<&str> = VECTOR_JWE.split('.').collect();
        parts[i] = new;
        parts.join(".")
    }

    /// A JWE with a chosen header, authentic under `key`, so the header checks are
    /// exercised on input that would otherwise decrypt.
    fn with_header(key: &AuthJsKey, header: &str, plaintext: &[u8]) -> String {
        let h = enc(header);
        let iv = [7u8; 16];
        let ct = cbc::Encryptor::<Aes256>::new(&(*key.enc_key).into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
        let t = tag(key, h.as_bytes(), &iv, &ct);
        format!("{h}..{}.{}.{}", enc(iv), enc(ct), enc(t))
    }

    fn std_header(key: &AuthJsKey) -> String {
        format!(
            r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
            key.kid()
        )
    }

    #[test]
    fn known_answer_vector_kid() {
        assert_eq!(vector_key().kid(), VECTOR_KID);
    }

    #[test]
    fn known_answer_vector_encrypts_exactly() {
        let jwe = encrypt_with_iv(&vector_key(), VECTOR_PLAINTEXT.as_bytes(), [1u8; 16]);
        assert_eq!(jwe, VECTOR_JWE);
    }

    #[test]
    fn known_answer_vector_decrypts() {
        let (index, claims) = decrypt(&[vector_key()], VECTOR_JWE).unwrap();
        assert_eq!(index, 0);
        assert_eq!(claims, vector_claims());
        assert_eq!(check_times(&claims, 1_700_000_100), Ok(()));
    }

    #[test]
    fn claims_serialize_like_auth_js() {
        assert_eq!(
            serde_json::to_string(&vector_claims()).unwrap(),
            VECTOR_PLAINTEXT
        );
    }

    #[test]
    fn round_trip_with_random_iv() {
        let k = key("an-operator-secret-of-at-least-32-chars");
        let claims = new_claims(
            "https://pr-1.example.dev/api/auth/callback/github",
            1_000,
            900,
        );
        let a = encrypt(&k, &claims);
        let b = encrypt(&k, &claims);
        assert_ne!(a, b, "a fresh IV each time");
        assert_eq!(
            decrypt(std::slice::from_ref(&k), &a).unwrap(),
            (0, claims.clone())
        );
        assert_eq!(decrypt(&[k], &b).unwrap(), (0, claims));
    }

    #[test]
    fn new_claims_look_like_auth_js_claims() {
        let c = new_claims(
            "https://p.example.dev/api/auth/callback/x",
            1_700_000_000,
            900,
        );
        assert_eq!(c.origin, "https://p.example.dev/api/auth/callback/x");
        assert_eq!(c.iat, Some(1_700_000_000));
        assert_eq!(c.exp, Some(1_700_000_900));
        assert_eq!(c.nbf, None);
        let random = c.random.as_deref().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        let jti = c.jti.as_deref().unwrap();
        let groups: Vec<&str> = jti.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(jti
            .chars()
            .all(|ch| ch == '-' || ch.is_ascii_digit() || ('a'..='f').contains(&ch)));
        assert!(groups[2].starts_with('4'), "version 4: {jti}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "variant: {jti}"
        );
        let other = new_claims(
            "https://p.example.dev/api/auth/callback/x",
            1_700_000_000,
            900,
        );
        assert_ne!(c.random, other.random);
        assert_ne!(c.jti, other.jti);
        // `nbf` is absent, not null: jose rejects a null numeric date.
        assert!(!serde_json::to_string(&c).unwrap().contains("nbf"));
    }

    #[test]
    fn uuid_bits() {
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn tampering_with_any_character_fails() {
        let keys = [vector_key()];
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (i, c) in VECTOR_JWE.char_indices() {
            if c == '.' {
                continue;
            }
            // Canonical base64url is one-to-one, so every replacement either is
            // refused as encoding or changes the bytes the tag covers.
            for replacement in alphabet.chars().filter(|&r| r != c) {
                let mut t = VECTOR_JWE.to_owned();
                t.replace_range(i..i + 1, replacement.encode_utf8(&mut [0; 4]));
                let got = decrypt(&keys, &t);
                assert!(
                    got.is_err(),
                    "tampered at {i} with {replacement:?} accepted"
                );
            }
        }
    }

    #[test]
    fn tampering_with_each_part_gives_the_expected_error() {
        let keys = [vector_key()];
        let parts: Vec<&str> = VECTOR_JWE.split('.').collect();
        // Flip the first character of a part to another letter: still valid base64url.
        let flip = |s: &str| {
            let first = if s.starts_with('A') { 'B' } else { 'A' };
            format!("{first}{}", &s[1..])
        };
        // Header: changed header bytes either stop being a valid header or change the AAD.
        assert!(decrypt(&keys, &with_part(0, &flip(parts[0]))).is_err());
        assert_eq!(
            decrypt(&keys, &with_part(2, &flip(parts[2]))),
            Err(AuthJsError::Decrypt)
        );
        assert_eq!(
            decrypt(&keys, &with_part(3, &flip(parts[3]))),
            Err(AuthJsError::Decrypt)
        );
        assert_eq!(
            decrypt(&keys, &with_part(4, &flip(parts[4]))),
            Err(AuthJsError::Decrypt)
        );
        // A header with the same meaning but different bytes (another key order) is
        // still refused: the tag covers the header exactly as sent.
        let reordered = enc(format!(
            r#"{{"enc":"A256CBC-HS512","alg":"dir","kid":"{VECTOR_KID}"}}"#
        ));
        assert_eq!(
            decrypt(&keys, &with_part(0, &reordered)),
            Err(AuthJsError::Decrypt)
        );
        // A non-empty encrypted-key part.
        assert_eq!(
            decrypt(&keys, &with_part(1, "AAAA")),
            Err(AuthJsError::NotCompactJwe)
        );
    }

    #[test]
    fn wrong_secret_fails() {
        let wrong = AuthJsKey::derive_from_bytes(b"test-secret-2");
        // Its kid does not match the header's, so it is not even tried.
        assert_eq!(
            decrypt(std::slice::from_ref(&wrong), VECTOR_JWE),
            Err(AuthJsError::UnknownKey)
        );
        // Same header kid but the wrong keys behind it: the tag does not verify.
        let mut impostor = wrong.clone();
        impostor.kid = VECTOR_KID.to_owned();
        assert_eq!(decrypt(&[impostor], VECTOR_JWE), Err(AuthJsError::Decrypt));
        // No kid in the header: the first key is tried, and fails.
        let state = with_header(
            &vector_key(),
            r#"{"alg":"dir","enc":"A256CBC-HS512"}"#,
            VECTOR_PLAINTEXT.as_bytes(),
        );
        assert_eq!(decrypt(&[wrong], &state), Err(AuthJsError::Decrypt));
    }

    #[test]
    fn kid_selects_the_key_and_no_kid_means_the_first() {
        let a = key("secret-a-secret-a-secret-a-secret-a");
        let b = key("secret-b-secret-b-secret-b-secret-b");
        assert_ne!(a.kid(), b.kid());
        let keys = [a.clone(), b.clone()];
        let claims = new_claims("https://x.example.dev/api/auth/callback/github", 10, 900);

        let by_b = encrypt(&b, &claims);
        assert_eq!(decrypt(&keys, &by_b).unwrap(), (1, claims.clone()));
        let by_a = encrypt(&a, &claims);
        assert_eq!(decrypt(&keys, &by_a).unwrap(), (0, claims.clone()));

        let json = serde_json::to_vec(&claims).unwrap();
        let no_kid = r#"{"alg":"dir","enc":"A256CBC-HS512"}"#;
        let a_no_kid = with_header(&a, no_kid, &json);
        assert_eq!(decrypt(&keys, &a_no_kid).unwrap(), (0, claims.clone()));
        // Made with the second key but without a kid: only the first is tried.
        let b_no_kid = with_header(&b, no_kid, &json);
        assert_eq!(decrypt(&keys, &b_no_kid), Err(AuthJsError::Decrypt));

        assert_eq!(decrypt(&[], &by_a), Err(AuthJsError::UnknownKey));
        assert_eq!(decrypt(&[], &a_no_kid), Err(AuthJsError::UnknownKey));
    }

    #[test]
    fn structure_errors() {
        let keys = [vector_key()];
        let parts: Vec<&str> = VECTOR_JWE.split('.').collect();
        assert_eq!(decrypt(&keys, ""), Err(AuthJsError::NotCompactJwe));
        assert_eq!(
            decrypt(&keys, &parts[..4].join(".")),
            Err(AuthJsError::NotCompactJwe)
        );
        assert_eq!(
            decrypt(&keys, &format!("{VECTOR_JWE}.")),
            Err(AuthJsError::NotCompactJwe)
        );
        assert_eq!(
            decrypt(&keys, &format!("{VECTOR_JWE}.AAAA")),
            Err(AuthJsError::NotCompactJwe)
        );
        assert_eq!(
            decrypt(&keys, &format!("{}.{VECTOR_JWE}", parts[0])),
            Err(AuthJsError::NotCompactJwe)
        );
        // JWS compact (three parts) is not a JWE either.
        assert_eq!(
            decrypt(&keys, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
            Err(AuthJsError::NotCompactJwe)
        );
    }

    #[test]
    fn unsigned_pre_0_35_3_state_is_refused() {
        use base64::engine::general_purpose::STANDARD;
        let origin = r#"{"origin":"https://evil.example/api/auth/callback/github","random":"x"}"#;
        for legacy in [STANDARD.encode(origin), URL_SAFE_NO_PAD.encode(origin)] {
            assert_eq!(
                decrypt(&[vector_key()], &legacy),
                Err(AuthJsError::NotCompactJwe)
            );
        }
    }

    #[test]
    fn truncated_parts_fail_with_bad_length() {
        let keys = [vector_key()];
        let parts: Vec<&str> = VECTOR_JWE.split('.').collect();
        let iv15 = enc([1u8; 15]);
        let iv17 = enc([1u8; 17]);
        let tag31 = enc(&URL_SAFE_NO_PAD.decode(parts[4]).unwrap()[..31]);
        let tag64 = enc([0u8; 64]);
        let ct = URL_SAFE_NO_PAD.decode(parts[3]).unwrap();
        let ct_short_block = enc(&ct[..ct.len() - 1]);
        let ct_one_block_less = enc(&ct[..ct.len() - 16]);
        for (i, new, want) in [
            (2, iv15.as_str(), AuthJsError::BadLength),
            (2, iv17.as_str(), AuthJsError::BadLength),
            (2, "", AuthJsError::BadLength),
            (4, tag31.as_str(), AuthJsError::BadLength),
            (4, tag64.as_str(), AuthJsError::BadLength),
            (4, "", AuthJsError::BadLength),
            (3, "", AuthJsError::BadLength),
            (3, ct_short_block.as_str(), AuthJsError::BadLength),
            // Whole blocks, so only the tag can catch it.
            (3, ct_one_block_less.as_str(), AuthJsError::Decrypt),
            (0, "", AuthJsError::BadHeader),
        ] {
            assert_eq!(
                decrypt(&keys, &with_part(i, new)),
                Err(want),
                "part {i} = {new:?}"
            );
        }
    }

    #[test]
    fn base64url_must_be_strict() {
        let keys = [vector_key()];
        let parts: Vec<&str> = VECTOR_JWE.split('.').collect();
        // The IV "AQEBAQEBAQEBAQEBAQEBAQ" is 22 chars: 16 bytes, 4 spare bits.
        assert_eq!(parts[2], "AQEBAQEBAQEBAQEBAQEBAQ");
        let cases = [
            (2, "AQEBAQEBAQEBAQEBAQEBAQ=="),     // padding
            (2, "AQEBAQEBAQEBAQEBAQEBAR"),       // non-zero trailing bits, same bytes
            (2, "AQEBAQEBAQEBAQEBAQEBA"),        // impossible length (4n + 1 … 21 ≡ 1)
            (2, "AQEBAQEBAQEB+QEBAQEBAQ"),       // standard alphabet
            (2, "AQEBAQEBAQEB/QEBAQEBAQ"),       // standard alphabet
            (2, "AQEBAQEBAQEB AQEBAQEBAQ"),      // whitespace
            (2, "AQEBAQEBAQEBAQEBAQEBAQ%3D%3D"), // percent-encoded padding
        ];
        for (i, bad) in cases {
            assert_eq!(
                decrypt(&keys, &with_part(i, bad)),
                Err(AuthJsError::BadEncoding),
                "{bad:?}"
            );
        }
        // The header has 2 spare bits: 'Q' → 'R' keeps the bytes but is non-canonical.
        let h = parts[0];
        assert!(h.ends_with("fQ"));
        let non_canonical = format!("{}fR", &h[..h.len() - 2]);
        assert_eq!(URL_SAFE_NO_PAD.decode(&non_canonical).ok(), None);
        assert_eq!(
            decrypt(&keys, &with_part(0, &non_canonical)),
            Err(AuthJsError::BadEncoding)
        );
        assert_eq!(
            decrypt(&keys, &with_part(0, &format!("{h}="))),
            Err(AuthJsError::BadEncoding)
        );
        let tag_padded = format!("{}=", parts[4]);
        assert_eq!(
            decrypt(&keys, &with_part(4, &tag_padded)),
            Err(AuthJsError::BadEncoding)
        );
        // Non-ASCII input never panics on a char boundary.
        assert_eq!(
            decrypt(&keys, &with_part(3, "ÿÿÿÿ")),
            Err(AuthJsError::BadEncoding)
        );
    }

    #[test]
    fn headers_other_than_auth_js_are_refused() {
        let k = vector_key();
        let kid = k.kid().to_owned();
        let keys = [k.clone()];
        let pt = VECTOR_PLAINTEXT.as_bytes();
        // Control: the standard header, built the same way, opens.
        assert!(decrypt(&keys, &with_header(&k, &std_header(&k), pt)).is_ok());
        // Unknown members are ignored, as jose ignores them.
        let typ = format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}","typ":"JWT"}}"#);
        assert!(decrypt(&keys, &with_header(&k, &typ, pt)).is_ok());

        for header in [
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}","zip":"DEF"}}"#),
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}","zip":null}}"#),
            format!(
                r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}","crit":["exp"],"exp":1}}"#
            ),
            format!(r#"{{"alg":"A256KW","enc":"A256CBC-HS512","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"none","enc":"A256CBC-HS512","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"DIR","enc":"A256CBC-HS512","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"dir","enc":"A256GCM","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"dir","enc":"A128CBC-HS256","kid":"{kid}"}}"#),
            format!(r#"{{"enc":"A256CBC-HS512","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"dir","kid":"{kid}"}}"#),
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":null}"#.to_owned(),
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":1}"#.to_owned(),
            format!(r#"{{"alg":"dir","alg":"dir","enc":"A256CBC-HS512","kid":"{kid}"}}"#),
            format!(r#"["dir","A256CBC-HS512","{kid}"]"#),
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid}"}} trailing"#),
            r#""dir""#.to_owned(),
            "null".to_owned(),
            "not json".to_owned(),
            String::new(),
        ] {
            assert_eq!(
                decrypt(&keys, &with_header(&k, &header, pt)),
                Err(AuthJsError::BadHeader),
                "{header}"
            );
        }
        // Invalid UTF-8 in the header.
        let mut bytes = std_header(&k).into_bytes();
        bytes.insert(2, 0xff);
        let h = enc(&bytes);
        let rest = VECTOR_JWE.split_once('.').unwrap().1;
        assert_eq!(
            decrypt(&keys, &format!("{h}.{rest}")),
            Err(AuthJsError::BadHeader)
        );
    }

    #[test]
    fn payloads_must_be_auth_js_claims() {
        let k = vector_key();
        let keys = [k.clone()];
        let h = std_header(&k);
        let ok = |pt: &str| decrypt(&keys, &with_header(&k, &h, pt.as_bytes()));
        // Control, with an unknown member.
        assert!(ok(r#"{"origin":"https://a.example/cb","iat":1,"exp":2,"provider":"x"}"#).is_ok());
        for pt in [
            r#"{"iat":1,"exp":2}"#,
            r#"{"origin":null,"iat":1,"exp":2}"#,
            r#"{"origin":1,"iat":1,"exp":2}"#,
            r#"{"origin":"https://a.example/cb","exp":2}"#,
            r#"{"origin":"https://a.example/cb","iat":1}"#,
            r#"{"origin":"https://a.example/cb","iat":"1","exp":2}"#,
            r#"{"origin":"https://a.example/cb","iat":1,"exp":2.5}"#,
            r#"{"origin":"https://a.example/cb","iat":1,"exp":-2}"#,
            r#"{"origin":"https://a.example/cb","iat":null,"exp":2}"#,
            r#"{"origin":"https://a.example/cb","iat":1,"exp":2,"nbf":null}"#,
            r#"{"origin":"https://a.example/cb","iat":1,"exp":2,"random":null}"#,
            r#"{"origin":"https://a.example/cb","iat":1,"exp":2,"jti":7}"#,
            r#"{"origin":"https://a.example/cb","iat":1,"exp":2,"random":5}"#,
            r#"{"origin":"https://a.example/cb","origin":"https://b.example/cb","iat":1,"exp":2}"#,
            r#"["https://a.example/cb",null,1,2,null,null]"#,
            r#""https://a.example/cb""#,
            "",
            "\u{0}",
        ] {
            assert_eq!(ok(pt), Err(AuthJsError::BadPayload), "{pt}");
        }
        // Invalid UTF-8 inside a string.
        let bad = with_header(&k, &h, b"{\"origin\":\"\xff\",\"iat\":1,\"exp\":2}");
        assert_eq!(decrypt(&keys, &bad), Err(AuthJsError::BadPayload));
    }

    #[test]
    fn bad_padding_is_an_opaque_decrypt_error() {
        let k = vector_key();
        // Authentic ciphertext whose plaintext block ends in an invalid PKCS#7 pad.
        let h = enc(std_header(&k));
        let iv = [3u8; 16];
        let mut block: aes::Block = [0u8; 16].into();
        cbc::Encryptor::<Aes256>::new(&(*k.enc_key).into(), &iv.into())
            .encrypt_block_mut(&mut block);
        let ct = block.to_vec();
        let t = tag(&k, h.as_bytes(), &iv, &ct);
        let jwe = format!("{h}..{}.{}.{}", enc(iv), enc(&ct), enc(t));
        assert_eq!(decrypt(&[k], &jwe), Err(AuthJsError::Decrypt));
    }

    #[test]
    fn length_cap() {
        let keys = [vector_key()];
        let too_long = "a".repeat(MAX_JWE_LEN + 1);
        assert_eq!(decrypt(&keys, &too_long), Err(AuthJsError::TooLong));
        // The cap is checked before the structure: a well-formed but long state too.
        let dots = format!("{}....", "A".repeat(MAX_JWE_LEN - 3));
        assert_eq!(dots.len(), MAX_JWE_LEN + 1);
        assert_eq!(decrypt(&keys, &dots), Err(AuthJsError::TooLong));
        // Bytes, not characters: 2049 two-byte characters are 4098 bytes.
        assert_eq!(decrypt(&keys, &"é".repeat(2049)), Err(AuthJsError::TooLong));
        // Exactly at the cap, a genuine state still opens.
        let k = &keys[0];
        let mut fitting = None;
        for n in (1..MAX_JWE_LEN).rev() {
            let claims = AuthJsClaims {
                origin: "a".repeat(n),
                random: None,
                iat: Some(1),
                exp: Some(2),
                nbf: None,
                jti: None,
            };
            let jwe = encrypt(k, &claims);
            if jwe.len() <= MAX_JWE_LEN {
                fitting = Some((jwe, claims));
                break;
            }
        }
        let (jwe, claims) = fitting.unwrap();
        assert!(jwe.len() > MAX_JWE_LEN - 32);
        assert_eq!(decrypt(&keys, &jwe).unwrap(), (0, claims));
    }

    #[test]
    fn check_times_boundaries() {
        let now = 1_700_000_000;
        let at = |exp: Option<u64>, nbf: Option<u64>| AuthJsClaims {
            origin: "https://a.example/cb".into(),
            random: None,
            iat: Some(now - 900),
            exp,
            nbf,
            jti: None,
        };
        assert_eq!(
            check_times(&at(Some(now - 15), None), now),
            Err(AuthJsError::Expired)
        );
        assert_eq!(
            check_times(&at(Some(now - 16), None), now),
            Err(AuthJsError::Expired)
        );
        assert_eq!(check_times(&at(Some(now - 14), None), now), Ok(()));
        assert_eq!(check_times(&at(Some(now), None), now), Ok(()));
        assert_eq!(check_times(&at(Some(now + 900), None), now), Ok(()));
        assert_eq!(check_times(&at(Some(0), None), 0), Ok(()));
        assert_eq!(
            check_times(&at(Some(0), None), 15),
            Err(AuthJsError::Expired)
        );
        assert_eq!(check_times(&at(Some(u64::MAX), None), u64::MAX), Ok(()));
        assert_eq!(
            check_times(&at(Some(u64::MAX - 15), None), u64::MAX),
            Err(AuthJsError::Expired)
        );
        assert_eq!(
            check_times(&at(Some(u64::MAX - 14), None), u64::MAX),
            Ok(())
        );
        assert_eq!(
            check_times(&at(None, None), now),
            Err(AuthJsError::BadPayload)
        );

        let exp = Some(now + 900);
        assert_eq!(check_times(&at(exp, Some(now + 15)), now), Ok(()));
        assert_eq!(
            check_times(&at(exp, Some(now + 16)), now),
            Err(AuthJsError::NotYetValid)
        );
        assert_eq!(check_times(&at(exp, Some(now)), now), Ok(()));
        assert_eq!(
            check_times(&at(Some(u64::MAX), Some(u64::MAX)), u64::MAX - 1),
            Ok(())
        );
        // Both wrong: expiry is reported first.
        assert_eq!(
            check_times(&at(Some(now - 100), Some(now + 100)), now),
            Err(AuthJsError::Expired)
        );
    }

    #[test]
    fn check_lifetime_caps_the_age_from_iat() {
        let iat = 1_700_000_000;
        let claims = AuthJsClaims {
            exp: Some(iat + 10_000),
            ..new_claims("https://a.example/cb", iat, 900)
        };
        let at = |now, max_age| check_lifetime(&claims, now, max_age);
        assert_eq!(at(iat + 615, 600), Ok(()));
        assert_eq!(at(iat + 616, 600), Err(AuthJsError::TooOld));
        assert_eq!(at(iat - 15, 600), Ok(()));
        assert_eq!(at(iat - 16, 600), Err(AuthJsError::NotYetValid));
        assert_eq!(at(iat + 9_000, u64::MAX), Ok(()));
        // check_times runs first: an expired state is expired, not too old.
        assert_eq!(at(iat + 10_015, 600), Err(AuthJsError::Expired));
    }

    #[test]
    fn decrypt_makes_no_time_checks() {
        let k = vector_key();
        let claims = AuthJsClaims {
            exp: Some(1),
            nbf: Some(u64::MAX),
            ..vector_claims()
        };
        let jwe = encrypt(&k, &claims);
        assert_eq!(decrypt(&[k], &jwe).unwrap(), (0, claims.clone()));
        assert_eq!(check_times(&claims, 1_000), Err(AuthJsError::Expired));
    }

    #[test]
    fn debug_output_never_contains_key_material() {
        let secret = "correct-horse-battery-staple-0123456789";
        let k = key(secret);
        let dbg = format!("{k:?} {k:#?}");
        // The MAC key as derive() derives it (the key keeps only HMAC's keyed state).
        let mut okm = [0u8; 64];
        Hkdf::<Sha256>::new(Some(SALT.as_bytes()), secret.as_bytes())
            .expand(INFO.as_bytes(), &mut okm)
            .unwrap();
        let mac = &okm[..32];
        let aes = k.enc_key.as_slice();
        for needle in [
            secret.to_owned(),
            enc(mac),
            enc(aes),
            format!("{mac:?}"),
            format!("{aes:?}"),
            format!("{:?}", &mac[..4]),
            format!("{:?}", &aes[..4]),
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            aes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        ] {
            assert!(!dbg.contains(&needle), "{dbg} contains {needle}");
        }
        assert!(dbg.contains("[redacted]"));
        assert!(
            dbg.contains(k.kid()),
            "the kid is public and useful in logs"
        );
    }

    #[test]
    fn claims_debug_redacts_random() {
        let dbg = format!("{:?}", vector_claims());
        assert!(!dbg.contains("rAnDoM"), "{dbg}");
        assert!(dbg.contains("[redacted]"), "{dbg}");
        assert!(dbg.contains("https://preview.example.com/api/auth/callback/github"));
    }

    #[test]
    fn errors_never_echo_input() {
        let keys = [vector_key()];
        let marker = "ZZZmarkerZZZ";
        for input in [
            marker.to_owned(),
            format!("{marker}...."),
            format!("{marker}..{marker}.{marker}.{marker}"),
            format!("{}.{marker}.a.b.c", enc("{}")),
            "x".repeat(MAX_JWE_LEN + 1),
        ] {
            let err = decrypt(&keys, &input).unwrap_err();
            let msg = format!("{err} {err:?}");
            assert!(!msg.contains(marker), "{msg}");
            assert!(!msg.contains("xxxx"), "{msg}");
        }
    }

    #[test]
    fn arbitrary_garbage_never_panics() {
        let keys = [vector_key()];
        // A small deterministic generator: enough to walk odd shapes without a fuzzer.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let pieces = [
            ".", "", "A", "AA", "AAA", "AAAA", "=", "é", "\u{0}", "eyJ9", VECTOR_JWE,
        ];
        for _ in 0..2_000 {
            let mut s = String::new();
            for _ in 0..(next() % 12) {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            // Only the genuine state, unchanged, opens.
            assert_eq!(decrypt(&keys, &s).is_ok(), s == VECTOR_JWE, "{s:?}");
        }
    }
}
