//! The state formats, signing, verification and target rules that authrelay and the
//! previews that use it must agree on byte for byte.
//!
//! # Preview side
//!
//! When a sign-in starts, the preview asks for the `redirect_uri` (the relay's callback)
//! and a signed `state` that carries the preview's own callback URL. It sends both to the
//! provider, keeps `state` in its own cookie, and later exchanges the code with the same
//! `redirect_uri`.
//!
//! ```
//! use authrelay_client::{Preview, Secret};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = Secret::new(std::env::var("AUTH_SECRET").unwrap_or_else(|_| "x".repeat(32)))?;
//! let relay = Preview::new("https://auth.example.com/api/auth", &secret)?;
//! let sign_in = relay.sign_in(
//!     "github",
//!     "https://pr-42.preview.example.com/api/auth/callback/github",
//! )?;
//! assert_eq!(sign_in.redirect_uri, "https://auth.example.com/api/auth/callback/github");
//! // Send the provider `redirect_uri` and `state`; keep `state` in a cookie to compare
//! // with the one that comes back.
//! assert!(sign_in.state.len() < 200);
//! # Ok(()) }
//! ```
//!
//! # Relay side
//!
//! [`keyring::Keyring`] derives the keys of both formats once and verifies a state of
//! either; [`target::Target`] and [`pattern::Allowlist`] are the second lock.
//!
//! # Security
//!
//! - A valid state is necessary, never sufficient: the relay also checks the target
//!   against the operator's allowlist, so a leaked secret cannot make an open redirect.
//! - MACs are compared in constant time; every length is checked before any work.
//! - Verification returns one opaque reason to show the public
//!   ([`keyring::Reason`]: `state_invalid`, …) and a precise reason for logs
//!   ([`keyring::Detail`]).
//! - [`Secret`] and the derived keys print no key material in `Debug`.
//! - Native states are signed, not encrypted: the preview's callback URL is readable.
//!
//! The native format is specified in `docs/state-format.md`, with known-answer vectors in
//! `client/tests/vectors/native-v1.json`.

pub mod authjs;
pub mod envelope;
pub mod inspect;
pub mod keyring;
pub mod native;
pub mod pattern;
pub mod preview;
pub mod secret;
pub mod target;

pub use keyring::{Keyring, StateFormat, VerifiedState};
pub use preview::{Preview, SignIn};
pub use secret::{Secret, SecretError};

/// The operating system's random source failed. It never happens in a working system
/// and is never caused by input, but a caller that signs must not go on without
/// randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(getrandom::Error);

/// An array of random bytes from the operating system's CSPRNG.
pub fn random_array<const N: usize>() -> Result<[u8; N], RandomError> {
    random_array_from(getrandom::fill)
}

/// An array filled by `fill`, or its error: never the zeroes it starts with.
fn random_array_from<const N: usize>(
    fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    fill(&mut buf).map_err(RandomError)?;
    Ok(buf)
}

/// [`random_array`] for the callers that cannot return an error.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    // The OS random source failing is unrecoverable and never caused by input.
    random_array().expect("the operating system's random source is unavailable")
}

/// Text for a one-line message (an error naming a pattern, a file or a value from one):
/// control characters escaped, and at most `max` characters, then `…`.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_random_source_is_an_error_never_zeroes() {
        let err = random_array_from::<16>(|_| Err(getrandom::Error::UNSUPPORTED)).unwrap_err();
        assert_eq!(err, RandomError(getrandom::Error::UNSUPPORTED));
        assert!(err
            .to_string()
            .starts_with("the operating system's random source failed"));
    }

    #[test]
    fn random_arrays_are_filled_by_the_source() {
        let filled = random_array_from::<4>(|b| {
            b.copy_from_slice(&[1, 2, 3, 4]);
            Ok(())
        });
        assert_eq!(filled, Ok([1, 2, 3, 4]));
        assert_ne!(random_array::<16>().unwrap(), random_array::<16>().unwrap());
    }
}
