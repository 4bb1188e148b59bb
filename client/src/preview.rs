//! The preview side: what a preview sends to the provider when a sign-in starts.

use std::fmt;
use web_time::{SystemTime, UNIX_EPOCH};

use crate::native::{self, NativeKey, SignError};
use crate::secret::Secret;
use crate::target::{is_valid_provider_id, Target, TargetError};

/// The lifetime of a state made by [`Preview::sign_in`], in seconds.
pub const DEFAULT_TTL_SECS: u64 = 600;

/// A preview's handle on the relay: the relay's base URL and the shared secret, with the
/// signing key derived once.
#[derive(Clone)]
pub struct Preview {
    relay_base: String,
    key: NativeKey,
    ttl: u64,
}

impl fmt::Debug for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preview")
            .field("relay_base", &self.relay_base)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// What to send when a sign-in starts.
#[derive(Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The `redirect_uri` to give the provider: the relay's callback for this provider.
    /// It is also the `redirect_uri` the preview must send when it exchanges the code.
    pub redirect_uri: String,
    /// The `state` to give the provider, and to keep in the preview's own cookie so that
    /// the callback can be checked against it.
    pub state: String,
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignIn")
            .field("redirect_uri", &self.redirect_uri)
            .field("state", &"[redacted]")
            .finish()
    }
}

/// Why a sign-in could not be prepared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The relay base URL is not an absolute http(s) URL without query or fragment.
    #[error("the relay base URL must be an absolute https URL without query or fragment")]
    BadRelayBase,
    /// The provider id is not 1–64 characters of `A-Z a-z 0-9 _ -`.
    #[error("the provider id must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")]
    BadProvider,
    /// The callback URL breaks a target rule.
    #[error("the callback URL is not acceptable: {0}")]
    BadCallback(TargetError),
    /// The callback URL's path does not end in `/callback/<provider>`.
    #[error("the callback URL's path must end in /callback/<provider> for this provider")]
    CallbackProviderMismatch,
    /// The state could not be signed.
    #[error("{0}")]
    Sign(SignError),
}

impl Preview {
    /// A handle on the relay at `relay_base` (e.g. `https://auth.example.com/api/auth`).
    pub fn new(relay_base: &str, secret: &Secret) -> Result<Self, PreviewError> {
        let url = url::Url::parse(relay_base).map_err(|_| PreviewError::BadRelayBase)?;
        if !matches!(url.scheme(), "https" | "http")
            || url.host().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(PreviewError::BadRelayBase);
        }
        Ok(Self {
            relay_base: url.as_str().trim_end_matches('/').to_owned(),
            key: NativeKey::derive(secret),
            ttl: DEFAULT_TTL_SECS,
        })
    }

    /// Sets the lifetime of the states it makes (the relay caps it with
    /// `AUTH_STATE_MAX_AGE`).
    pub fn with_ttl(mut self, ttl: u64) -> Self {
        self.ttl = ttl;
        self
    }

    /// The `redirect_uri` for a provider: `<relay base>/callback/<provider>`.
    pub fn redirect_uri(&self, provider: &str) -> Result<String, PreviewError> {
        if !is_valid_provider_id(provider) {
            return Err(PreviewError::BadProvider);
        }
        Ok(format!("{}/callback/{provider}", self.relay_base))
    }

    /// Prepares a sign-in with `provider` whose callback is the preview's own
    /// `callback_url` (which must end in `/callback/<provider>`), now.
    pub fn sign_in(&self, provider: &str, callback_url: &str) -> Result<SignIn, PreviewError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.sign_in_at(provider, callback_url, now, crate::random_bytes())
    }

    /// [`Preview::sign_in`] at a given time with a given nonce, for tests and vectors.
    pub fn sign_in_at(
        &self,
        provider: &str,
        callback_url: &str,
        now: u64,
        nonce: [u8; 16],
    ) -> Result<SignIn, PreviewError> {
        let redirect_uri = self.redirect_uri(provider)?;
        let target = Target::parse(callback_url).map_err(PreviewError::BadCallback)?;
        if target.callback_provider() != Some(provider) {
            return Err(PreviewError::CallbackProviderMismatch);
        }
        let state =
            native::sign(&self.key, &target, now, self.ttl, nonce).map_err(PreviewError::Sign)?;
        Ok(SignIn {
            redirect_uri,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview() -> Preview {
        let secret = Secret::new("preview-secret-preview-secret-000").unwrap();
        Preview::new("https://auth.example.com/api/auth/", &secret).unwrap()
    }

    #[test]
    fn a_sign_in_points_the_provider_at_the_relay_and_signs_the_preview_callback() {
        let p = preview();
        let s = p
            .sign_in(
                "github",
                "https://pr-7.preview.example.com/api/auth/callback/github",
            )
            .unwrap();
        assert_eq!(
            s.redirect_uri,
            "https://auth.example.com/api/auth/callback/github"
        );
        let secret = Secret::new("preview-secret-preview-secret-000").unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let v = native::verify(&[NativeKey::derive(&secret)], &s.state, now, 900).unwrap();
        assert_eq!(v.provider, "github");
        assert!(!format!("{s:?}").contains(&s.state));
    }

    #[test]
    fn the_callback_must_belong_to_the_provider() {
        let p = preview();
        assert_eq!(
            p.sign_in(
                "google",
                "https://pr-7.preview.example.com/api/auth/callback/github"
            ),
            Err(PreviewError::CallbackProviderMismatch)
        );
        assert_eq!(
            p.sign_in(
                "git hub",
                "https://pr-7.preview.example.com/api/auth/callback/github"
            ),
            Err(PreviewError::BadProvider)
        );
        assert!(matches!(
            p.sign_in(
                "github",
                "https://user@pr-7.preview.example.com/api/auth/callback/github"
            ),
            Err(PreviewError::BadCallback(_))
        ));
    }

    #[test]
    fn bad_relay_bases_are_refused() {
        let secret = Secret::new("preview-secret-preview-secret-000").unwrap();
        for base in [
            "auth.example.com",
            "ftp://auth.example.com",
            "https://a.example.com/?x=1",
        ] {
            assert_eq!(
                Preview::new(base, &secret).unwrap_err(),
                PreviewError::BadRelayBase,
                "{base}"
            );
        }
    }
}
