//! Verification of either state format with every configured secret.
//!
//! A [`Keyring`] derives the keys of both formats once, when it is built, so that
//! verifying a state costs one MAC (native) or one MAC and one block-cipher pass
//! (Auth.js), never a key derivation.

use std::fmt;

use crate::authjs::{self, AuthJsError, AuthJsKey};
use crate::envelope::{self, EnvelopeError, EnvelopeKey, InnerState};
use crate::native::{self, FailureClass, NativeError, NativeKey};
use crate::secret::Secret;
use crate::target::{self, Target, TargetError};

/// Which state format a state is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateFormat {
    /// authrelay's own HMAC-signed format.
    Native,
    /// The encrypted state of `@auth/core` with a redirect proxy.
    AuthJs,
    /// The unsigned state of `@auth/core` before 0.35.3: base64url of a JSON object
    /// (`{"origin":…,"random":…}`). Anyone can write one, so it never verifies.
    AuthJsLegacy,
    /// The relay's own authorize envelope ([`crate::envelope`]): made by the relay's
    /// authorize route around an OAuth library's own `state`, never by a preview.
    Envelope,
}

impl StateFormat {
    /// `native`, `authjs`, `authjs_legacy` or `envelope`, for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::AuthJs => "authjs",
            Self::AuthJsLegacy => "authjs_legacy",
            Self::Envelope => "envelope",
        }
    }

    /// Tells the format from the shape of a state: compact JWEs have dots, native states
    /// and envelopes never do; an envelope starts with `R` (its version byte), a native
    /// state of version 1 with `A`; a state without dots that base64url-decodes (padded
    /// or not) to a JSON object, and so starts with `e`, is the legacy Auth.js one. This
    /// is the one place the format is decided.
    pub fn detect(state: &str) -> Self {
        if state.contains('.') {
            Self::AuthJs
        } else if state.starts_with(envelope::FIRST_CHAR) {
            Self::Envelope
        } else if read_legacy_authjs(state).is_some() {
            Self::AuthJsLegacy
        } else {
            Self::Native
        }
    }

    /// What to do about a state in this format, when the relay never accepts it: one
    /// fixed sentence for refusal pages and `inspect`. `None` for the formats it verifies.
    pub fn advice(&self) -> Option<&'static str> {
        match self {
            Self::Native | Self::AuthJs | Self::Envelope => None,
            Self::AuthJsLegacy => Some(
                "This sign-in state is the unsigned one of Auth.js before @auth/core 0.35.3, \
                 which the relay never accepts: upgrade @auth/core to 0.35.3 or later \
                 (next-auth 5.0.0-beta.22 or later).",
            ),
        }
    }
}

/// The JSON object a legacy Auth.js state holds, when `state` (without dots) is
/// base64url of one, as Auth.js before 0.35.3 sends. Such JSON starts with `{`, so its
/// first character is `e`; a native state's is `A` (version 1), so native states are told
/// apart without decoding. Nothing in it is verified: it is for labels and `inspect`.
pub(crate) fn read_legacy_authjs(
    state: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine as _;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    if !state.starts_with('e') || state.len() > authjs::MAX_JWE_LEN {
        return None;
    }
    let bytes = LENIENT.decode(state).ok()?;
    if bytes.first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

/// Keys of both formats for each configured secret, in the operator's order.
#[derive(Clone)]
pub struct Keyring {
    native: Vec<NativeKey>,
    authjs: Vec<AuthJsKey>,
    envelope: Vec<EnvelopeKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("secrets", &self.native.len())
            .finish_non_exhaustive()
    }
}

/// A state that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedState {
    /// The format it was in.
    pub format: StateFormat,
    /// The position of the secret that verified it, in the keyring's order (0 = first).
    pub secret_index: usize,
    /// The target the browser should go to.
    pub target: Target,
    /// The provider the state is bound to: always for native states; Auth.js states
    /// carry only their callback URL, whose last segment is checked instead.
    pub provider: Option<String>,
    /// Issued-at, Unix seconds, when the state says.
    pub issued_at: Option<u64>,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
    /// For an envelope, the OAuth library's own `state` it wraps.
    pub inner_state: Option<InnerState>,
}

/// The public reason a state was refused: all that a refusal page says. Its
/// [`code`](Reason::code) is the stable public reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The state could not be read at all: `state_malformed`.
    StateMalformed,
    /// The state could be read but does not verify, or breaks a rule: `state_invalid`.
    StateInvalid,
    /// The state verified but is outside its validity window: `state_expired`.
    StateExpired,
    /// The state verified but its target is not a valid callback URL: `target_invalid`.
    TargetInvalid,
}

impl Reason {
    /// The stable public reason code: `state_malformed`, `state_invalid`,
    /// `state_expired` or `target_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::StateMalformed => "state_malformed",
            Self::StateInvalid => "state_invalid",
            Self::StateExpired => "state_expired",
            Self::TargetInvalid => "target_invalid",
        }
    }
}

/// The precise reason inside a [`Rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// A native-format failure; also the one failure of a legacy Auth.js state
    /// ([`StateFormat::AuthJsLegacy`]), [`NativeError::LegacyUnsigned`], which is what the
    /// native framing says of JSON.
    Native(NativeError),
    /// An Auth.js-format failure.
    AuthJs(AuthJsError),
    /// An envelope failure.
    Envelope(EnvelopeError),
    /// The Auth.js state verified but its `origin` breaks the URL rules.
    BadTarget(TargetError),
}

impl Detail {
    /// The public class of this failure: malformed, invalid or expired.
    pub fn class(&self) -> FailureClass {
        match self {
            Self::Native(e) => e.class(),
            Self::AuthJs(e) => e.class(),
            Self::Envelope(e) => e.class(),
            Self::BadTarget(_) => FailureClass::Invalid,
        }
    }

    /// The public reason this failure is shown as.
    pub fn reason(&self) -> Reason {
        match self {
            Self::BadTarget(_)
            | Self::Envelope(EnvelopeError::BadTarget(_))
            | Self::Native(NativeError::BadTarget(_) | NativeError::NotACallback) => {
                Reason::TargetInvalid
            }
            _ => match self.class() {
                FailureClass::Malformed => Reason::StateMalformed,
                FailureClass::Invalid => Reason::StateInvalid,
                FailureClass::Expired => Reason::StateExpired,
            },
        }
    }

    /// Whether no key of the keyring fits the state: the native key id is not the
    /// keyring's (`unknown_key`), or the Auth.js `kid` is not (`unknown_key`) or its key
    /// does not open the state (`decrypt_failed`), or no envelope key makes the
    /// envelope's tag (`bad_signature`). A state that fails this way may belong to a
    /// keyring with other secrets.
    pub fn no_key_fits(&self) -> bool {
        matches!(
            self,
            Self::Native(NativeError::UnknownKey)
                | Self::AuthJs(AuthJsError::UnknownKey | AuthJsError::Decrypt)
                | Self::Envelope(EnvelopeError::BadSignature)
        )
    }

    /// A stable snake_case code of the precise reason, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Native(e) => e.code(),
            Self::AuthJs(e) => e.code(),
            Self::Envelope(e) => e.code(),
            Self::BadTarget(e) => e.code(),
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native(e) => write!(f, "{e}"),
            Self::AuthJs(e) => write!(f, "{e}"),
            Self::Envelope(e) => write!(f, "{e}"),
            Self::BadTarget(e) => {
                write!(f, "the state's origin is not a valid callback URL: {e}")
            }
        }
    }
}

/// A state that did not verify. Its [`Rejection::reason`] is what the public sees; the
/// [`Rejection::detail`] is for logs and `inspect`. It never holds the state itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    format: StateFormat,
    detail: Detail,
}

impl Rejection {
    /// The format the state looked like.
    pub fn format(&self) -> StateFormat {
        self.format
    }

    /// The public class: malformed, invalid or expired.
    pub fn class(&self) -> FailureClass {
        self.detail.class()
    }

    /// The public reason.
    pub fn reason(&self) -> Reason {
        self.detail.reason()
    }

    /// The stable public reason code: [`Reason::code`] of [`Rejection::reason`].
    pub fn code(&self) -> &'static str {
        self.reason().code()
    }

    /// The precise reason.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// A stable snake_case code of the precise reason, for logs and metrics:
    /// [`Detail::code`].
    pub fn detail_code(&self) -> &'static str {
        self.detail.code()
    }

    /// Whether no key of the keyring fits the state: [`Detail::no_key_fits`].
    pub fn no_key_fits(&self) -> bool {
        self.detail.no_key_fits()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.detail.fmt(f)
    }
}

impl Keyring {
    /// Derives the keys for each secret, in the order given. The relay passes them newest
    /// first, which is also the order Auth.js encrypts with.
    pub fn new(secrets: &[Secret]) -> Self {
        Self {
            native: secrets.iter().map(NativeKey::derive).collect(),
            authjs: secrets.iter().map(AuthJsKey::derive).collect(),
            envelope: secrets.iter().map(EnvelopeKey::derive).collect(),
        }
    }

    /// How many secrets the keyring holds.
    pub fn len(&self) -> usize {
        self.native.len()
    }

    /// Whether the keyring holds no secret.
    pub fn is_empty(&self) -> bool {
        self.native.is_empty()
    }

    /// The native keys, in order.
    pub fn native_keys(&self) -> &[NativeKey] {
        &self.native
    }

    /// The Auth.js keys, in order.
    pub fn authjs_keys(&self) -> &[AuthJsKey] {
        &self.authjs
    }

    /// The envelope keys, in order: the relay seals with the first (the newest secret)
    /// and opens with any.
    pub fn envelope_keys(&self) -> &[EnvelopeKey] {
        &self.envelope
    }

    /// Verifies a state of either format at time `now`. `max_age` caps a state's
    /// lifetime in seconds (native: expiry − issued-at; Auth.js: age since `iat`).
    pub fn verify(&self, state: &str, now: u64, max_age: u64) -> Result<VerifiedState, Rejection> {
        self.verify_with(state, now, max_age, Target::parse)
    }

    /// [`verify`](Self::verify), with `parse` in place of [`Target::parse`] for the
    /// state's target, which it is given only once the state has verified (signature or
    /// decryption, then times). `parse` must answer as `Target::parse` does for the same
    /// string (the relay passes a cache of its answers); a target whose string is not the
    /// state's own is refused as not canonical.
    ///
    /// The format is detected here, once: the [`VerifiedState`] or the [`Rejection`]
    /// carries it. A legacy Auth.js state is refused here, before any key is tried.
    pub fn verify_with(
        &self,
        state: &str,
        now: u64,
        max_age: u64,
        parse: impl FnOnce(&str) -> Result<Target, TargetError>,
    ) -> Result<VerifiedState, Rejection> {
        let format = StateFormat::detect(state);
        let reject = |detail| Rejection { format, detail };
        match format {
            StateFormat::AuthJsLegacy => Err(reject(Detail::Native(NativeError::LegacyUnsigned))),
            StateFormat::Native => {
                let s = native::verify_with(&self.native, state, now, max_age, parse)
                    .map_err(|e| reject(Detail::Native(e)))?;
                Ok(VerifiedState {
                    format,
                    secret_index: s.key_index,
                    target: s.target,
                    provider: Some(s.provider),
                    issued_at: Some(s.issued_at),
                    expires_at: s.expires_at,
                    inner_state: None,
                })
            }
            StateFormat::AuthJs => {
                let (index, claims) =
                    authjs::decrypt(&self.authjs, state).map_err(|e| reject(Detail::AuthJs(e)))?;
                authjs::check_lifetime(&claims, now, max_age)
                    .map_err(|e| reject(Detail::AuthJs(e)))?;
                let target = target::parse_own(&claims.origin, parse)
                    .map_err(|e| reject(Detail::BadTarget(e)))?;
                Ok(VerifiedState {
                    format,
                    secret_index: index,
                    target,
                    provider: None,
                    issued_at: claims.iat,
                    expires_at: claims.exp.unwrap_or(0),
                    inner_state: None,
                })
            }
            StateFormat::Envelope => {
                let o = envelope::open_with(&self.envelope, state, now, max_age, parse)
                    .map_err(|e| reject(Detail::Envelope(e)))?;
                Ok(VerifiedState {
                    format,
                    secret_index: o.key_index,
                    target: o.target,
                    provider: Some(o.provider),
                    issued_at: None,
                    expires_at: o.expires_at,
                    inner_state: Some(o.inner_state),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    /// What `@auth/core` before 0.35.3 sends with a redirect proxy: base64url JSON.
    const LEGACY_JSON: &str = r#"{"origin":"https://pr-1.preview.example.com/api/auth/callback/github","random":"Jx0vQ3Yq9mYpQb5p0Jr9VQ"}"#;

    #[test]
    fn a_legacy_unsigned_authjs_state_is_labelled_as_such() {
        let keyring = Keyring::new(&[Secret::new("0123456789abcdef0123456789abcdef").unwrap()]);
        for state in [
            URL_SAFE_NO_PAD.encode(LEGACY_JSON),
            URL_SAFE.encode(LEGACY_JSON),
            URL_SAFE_NO_PAD.encode(r#"{"origin":"https://evil.example/callback/github"}"#),
            URL_SAFE_NO_PAD.encode("{}"),
        ] {
            assert_eq!(
                StateFormat::detect(&state),
                StateFormat::AuthJsLegacy,
                "{state}"
            );
            let r = keyring.verify(&state, 1_700_000_000, 900).unwrap_err();
            assert_eq!(r.format(), StateFormat::AuthJsLegacy);
            assert_eq!(r.format().as_str(), "authjs_legacy");
            assert_eq!(
                (r.code(), r.detail_code()),
                ("state_malformed", "legacy_unsigned")
            );
        }
        let advice = StateFormat::AuthJsLegacy.advice().unwrap();
        assert!(advice.contains("@auth/core to 0.35.3 or later"), "{advice}");
        assert!(
            advice.contains("next-auth 5.0.0-beta.22 or later"),
            "{advice}"
        );
        assert_eq!(StateFormat::Native.advice(), None);
        assert_eq!(StateFormat::AuthJs.advice(), None);
    }

    #[test]
    fn only_base64url_of_a_json_object_is_a_legacy_state() {
        for not_legacy in [
            // JSON, but not an object.
            URL_SAFE_NO_PAD.encode(r#""{}""#),
            URL_SAFE_NO_PAD.encode("[1]"),
            // Starts like JSON, is not JSON.
            URL_SAFE_NO_PAD.encode(r#"{"origin":"#),
            URL_SAFE_NO_PAD.encode("{garbage}"),
            // Not base64url at all.
            "eyJ!".to_owned(),
            String::new(),
            // A native state (version 1) starts with `A`.
            "AQID".to_owned(),
        ] {
            assert_eq!(
                StateFormat::detect(&not_legacy),
                StateFormat::Native,
                "{not_legacy}"
            );
        }
        // With dots it is a JWE, whatever its parts hold.
        let dotted = format!("{}.x", URL_SAFE_NO_PAD.encode(LEGACY_JSON));
        assert_eq!(StateFormat::detect(&dotted), StateFormat::AuthJs);
    }

    #[test]
    fn only_an_unknown_key_or_a_failed_decryption_means_no_key_fits() {
        for d in [
            Detail::Native(NativeError::UnknownKey),
            Detail::AuthJs(AuthJsError::UnknownKey),
            Detail::AuthJs(AuthJsError::Decrypt),
        ] {
            assert!(d.no_key_fits(), "{d:?}");
        }
        for d in [
            Detail::Native(NativeError::BadSignature),
            Detail::Native(NativeError::Expired),
            Detail::Native(NativeError::TooLong),
            Detail::AuthJs(AuthJsError::BadPayload),
            Detail::AuthJs(AuthJsError::TooOld),
            Detail::AuthJs(AuthJsError::BadHeader),
            Detail::BadTarget(TargetError::ForbiddenCharacter),
        ] {
            assert!(!d.no_key_fits(), "{d:?}");
        }
    }

    #[test]
    fn each_detail_has_its_public_reason() {
        use AuthJsError as A;
        use NativeError as N;
        use Reason as R;
        let bad_char = TargetError::ForbiddenCharacter;
        for (d, reason, code) in [
            (
                Detail::Native(N::TooShort),
                R::StateMalformed,
                "state_malformed",
            ),
            (
                Detail::Native(N::BadSignature),
                R::StateInvalid,
                "state_invalid",
            ),
            (Detail::Native(N::Expired), R::StateExpired, "state_expired"),
            (
                Detail::Native(N::NotACallback),
                R::TargetInvalid,
                "target_invalid",
            ),
            (
                Detail::Native(N::BadTarget(bad_char)),
                R::TargetInvalid,
                "target_invalid",
            ),
            (
                Detail::AuthJs(A::BadLength),
                R::StateMalformed,
                "state_malformed",
            ),
            (Detail::AuthJs(A::Decrypt), R::StateInvalid, "state_invalid"),
            (Detail::AuthJs(A::TooOld), R::StateExpired, "state_expired"),
            (
                Detail::BadTarget(bad_char),
                R::TargetInvalid,
                "target_invalid",
            ),
        ] {
            let r = Rejection {
                format: StateFormat::Native,
                detail: d,
            };
            assert_eq!((r.reason(), r.code()), (reason, code), "{d:?}");
        }
    }
}
