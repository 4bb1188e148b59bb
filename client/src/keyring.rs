//! Verification of either state format with every configured secret.
//!
//! A [`Keyring`] derives the keys of both formats once, when it is built, so that
//! verifying a state costs one MAC (native) or one MAC and one block-cipher pass
//! (Auth.js), never a key derivation.

use std::fmt;

use crate::authjs::{self, AuthJsError, AuthJsKey};
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
}

impl StateFormat {
    /// `native` or `authjs`, for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::AuthJs => "authjs",
        }
    }

    /// Guesses the format from the shape of a state: compact JWEs have dots, native
    /// states never do.
    pub fn detect(state: &str) -> Self {
        if state.contains('.') {
            Self::AuthJs
        } else {
            Self::Native
        }
    }
}

/// Keys of both formats for each configured secret, in the operator's order.
#[derive(Clone)]
pub struct Keyring {
    native: Vec<NativeKey>,
    authjs: Vec<AuthJsKey>,
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
}

/// The precise reason inside a [`Rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// A native-format failure.
    Native(NativeError),
    /// An Auth.js-format failure.
    AuthJs(AuthJsError),
    /// The Auth.js state verified but is older than the relay's maximum state age.
    TooOld,
    /// The Auth.js state verified but its `origin` breaks the URL rules.
    BadTarget(TargetError),
}

/// A state that did not verify. Its [`Rejection::code`] is what the public sees; the
/// [`Rejection::detail`] is for logs and `inspect`. It never holds the state itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    format: StateFormat,
    class: FailureClass,
    detail: Detail,
}

impl Rejection {
    /// The format the state looked like.
    pub fn format(&self) -> StateFormat {
        self.format
    }

    /// The public class: malformed, invalid or expired.
    pub fn class(&self) -> FailureClass {
        self.class
    }

    /// The stable public reason code: `state_malformed`, `state_invalid`,
    /// `state_expired` or `target_invalid`.
    pub fn code(&self) -> &'static str {
        match (self.detail, self.class) {
            (Detail::BadTarget(_), _) | (Detail::Native(NativeError::BadTarget(_)), _) => {
                "target_invalid"
            }
            (Detail::Native(NativeError::NotACallback), _) => "target_invalid",
            (_, FailureClass::Malformed) => "state_malformed",
            (_, FailureClass::Invalid) => "state_invalid",
            (_, FailureClass::Expired) => "state_expired",
        }
    }

    /// The precise reason.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// A stable snake_case code of the precise reason, for logs and metrics.
    pub fn detail_code(&self) -> &'static str {
        match self.detail {
            Detail::Native(e) => e.code(),
            Detail::AuthJs(e) => authjs_code(e),
            Detail::TooOld => "too_old",
            Detail::BadTarget(e) => e.code(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail {
            Detail::Native(e) => write!(f, "{e}"),
            Detail::AuthJs(e) => write!(f, "{e}"),
            Detail::TooOld => f.write_str("the state is older than the relay's maximum state age"),
            Detail::BadTarget(e) => {
                write!(f, "the state's origin is not a valid callback URL: {e}")
            }
        }
    }
}

fn authjs_code(e: AuthJsError) -> &'static str {
    match e {
        AuthJsError::TooLong => "too_long",
        AuthJsError::NotCompactJwe => "not_compact_jwe",
        AuthJsError::BadEncoding => "not_base64url",
        AuthJsError::BadHeader => "bad_header",
        AuthJsError::BadLength => "bad_length",
        AuthJsError::UnknownKey => "unknown_key",
        AuthJsError::Decrypt => "decrypt_failed",
        AuthJsError::BadPayload => "bad_payload",
        AuthJsError::Expired => "expired",
        AuthJsError::NotYetValid => "not_yet_valid",
    }
}

fn authjs_class(e: AuthJsError) -> FailureClass {
    match e {
        AuthJsError::TooLong
        | AuthJsError::NotCompactJwe
        | AuthJsError::BadEncoding
        | AuthJsError::BadHeader
        | AuthJsError::BadLength => FailureClass::Malformed,
        AuthJsError::Expired | AuthJsError::NotYetValid => FailureClass::Expired,
        _ => FailureClass::Invalid,
    }
}

impl Keyring {
    /// Derives the keys for each secret, in the order given. The relay passes them newest
    /// first, which is also the order Auth.js encrypts with.
    pub fn new(secrets: &[Secret]) -> Self {
        Self {
            native: secrets.iter().map(NativeKey::derive).collect(),
            authjs: secrets.iter().map(AuthJsKey::derive).collect(),
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
    pub fn verify_with(
        &self,
        state: &str,
        now: u64,
        max_age: u64,
        parse: impl FnOnce(&str) -> Result<Target, TargetError>,
    ) -> Result<VerifiedState, Rejection> {
        match StateFormat::detect(state) {
            StateFormat::Native => self.verify_native(state, now, max_age, parse),
            StateFormat::AuthJs => self.verify_authjs(state, now, max_age, parse),
        }
    }

    fn verify_native(
        &self,
        state: &str,
        now: u64,
        max_age: u64,
        parse: impl FnOnce(&str) -> Result<Target, TargetError>,
    ) -> Result<VerifiedState, Rejection> {
        let s = native::verify_with(&self.native, state, now, max_age, parse).map_err(|e| {
            Rejection {
                format: StateFormat::Native,
                class: e.class(),
                detail: Detail::Native(e),
            }
        })?;
        Ok(VerifiedState {
            format: StateFormat::Native,
            secret_index: s.key_index,
            target: s.target,
            provider: Some(s.provider),
            issued_at: Some(s.issued_at),
            expires_at: s.expires_at,
        })
    }

    fn verify_authjs(
        &self,
        state: &str,
        now: u64,
        max_age: u64,
        parse: impl FnOnce(&str) -> Result<Target, TargetError>,
    ) -> Result<VerifiedState, Rejection> {
        let fail = |class, detail| Rejection {
            format: StateFormat::AuthJs,
            class,
            detail,
        };
        let (index, claims) = authjs::decrypt(&self.authjs, state)
            .map_err(|e| fail(authjs_class(e), Detail::AuthJs(e)))?;
        authjs::check_times(&claims, now).map_err(|e| fail(authjs_class(e), Detail::AuthJs(e)))?;
        let iat = claims.iat;
        if let Some(iat) = iat {
            if iat > now.saturating_add(native::CLOCK_SKEW_SECS) {
                return Err(fail(
                    FailureClass::Expired,
                    Detail::AuthJs(AuthJsError::NotYetValid),
                ));
            }
            if now
                > iat
                    .saturating_add(max_age)
                    .saturating_add(native::CLOCK_SKEW_SECS)
            {
                return Err(fail(FailureClass::Expired, Detail::TooOld));
            }
        }
        let target = target::parse_own(&claims.origin, parse)
            .map_err(|e| fail(FailureClass::Invalid, Detail::BadTarget(e)))?;
        Ok(VerifiedState {
            format: StateFormat::AuthJs,
            secret_index: index,
            target,
            provider: None,
            issued_at: iat,
            expires_at: claims.exp.unwrap_or(0),
        })
    }
}
