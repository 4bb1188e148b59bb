//! The shared secret and the keys derived from it.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The shortest secret accepted, in characters (as `AUTH_SECRET` in Auth.js).
pub const MIN_SECRET_LEN: usize = 32;

/// A secret shared by the relay and the previews (`AUTH_SECRET`).
///
/// It is never printed: `Debug` shows only `Secret([REDACTED])`, and the type has no
/// `Display` and no `PartialEq`, so it cannot end up in a log line or be compared
/// in variable time by accident.
#[derive(Clone)]
pub struct Secret(SecretString);

/// Why a string was refused as a secret. It never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The value is empty.
    #[error("is empty")]
    Empty,
    /// The value is shorter than [`MIN_SECRET_LEN`] characters.
    #[error("is {len} characters long; at least {MIN_SECRET_LEN} are required (make one with `authrelay secret`)")]
    TooShort {
        /// The length that was given.
        len: usize,
    },
}

impl Secret {
    /// Accepts a secret of at least [`MIN_SECRET_LEN`] characters.
    pub fn new(value: impl Into<String>) -> Result<Self, SecretError> {
        let value: String = value.into();
        let len = value.chars().count();
        if len == 0 {
            return Err(SecretError::Empty);
        }
        if len < MIN_SECRET_LEN {
            return Err(SecretError::TooShort { len });
        }
        Ok(Self(SecretString::from(value)))
    }

    /// Makes a new random secret: 32 random bytes, base64url-encoded (43 characters).
    pub fn generate() -> Self {
        Self(SecretString::from(generate_secret_string()))
    }

    /// The secret's bytes, for key derivation only.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl TryFrom<String> for Secret {
    type Error = SecretError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// A new random secret as a string, for `authrelay secret`: 32 bytes from the
/// operating system's CSPRNG, base64url without padding.
pub fn generate_secret_string() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = crate::random_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let s = Secret::new("correct-horse-battery-staple-0123456789").unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("correct"), "{dbg}");
        assert!(dbg.contains("REDACTED"));
    }

    #[test]
    fn short_and_empty_secrets_are_refused_without_echoing_them() {
        assert_eq!(Secret::new("").unwrap_err(), SecretError::Empty);
        let err = Secret::new("short-secret").unwrap_err();
        assert_eq!(err, SecretError::TooShort { len: 12 });
        assert!(!err.to_string().contains("short-secret"));
    }

    #[test]
    fn generated_secrets_are_long_enough_and_differ() {
        let a = generate_secret_string();
        let b = generate_secret_string();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(Secret::new(a).is_ok());
    }
}
