//! Why a callback is refused: each refusal has a stable reason code, an HTTP status and
//! one sentence for the person who sees the page.

/// Why a callback was refused. Each has a stable code, documented in
/// `docs/troubleshooting.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The provider path segment is not a valid provider id.
    ProviderInvalid,
    /// The query or form body cannot be decoded, or is too long or has too many fields.
    ParamsMalformed,
    /// A POST callback that is not a URL-encoded form.
    UnsupportedMediaType,
    /// A POST body over the size limit.
    BodyTooLarge,
    /// No `state` parameter.
    StateMissing,
    /// More than one `state` parameter.
    StateDuplicated,
    /// The state cannot be read.
    StateMalformed,
    /// The state does not verify with any configured secret, or breaks a rule.
    StateInvalid,
    /// The state is outside its validity window.
    StateExpired,
    /// The state verifies, but with another app's secrets (a multi-app relay).
    StateOtherApp,
    /// The target in the state is not a valid callback URL.
    TargetInvalid,
    /// The target is the relay itself.
    TargetIsRelay,
    /// The target's origin is not on the allowlist.
    TargetNotAllowed,
    /// The state or target is for another provider than the callback path says.
    ProviderMismatch,
    /// No route for this path.
    NotFound,
    /// The method is not GET or POST.
    MethodNotAllowed,
    /// An authorize request whose `redirect_uri` is not the relay's callback for the
    /// provider.
    RedirectUriMismatch,
    /// An authorize request whose `client_id` is not one the app configured for the
    /// provider.
    ClientIdUnknown,
    /// An authorize request that names no return target.
    TargetMissing,
    /// An authorize request whose return target's path is not the app's callback path.
    TargetNotCallback,
    /// The app has no authorize route for this provider.
    AuthorizeNotConfigured,
    /// An authorize request whose `response_type` is not exactly `code`, once: only the
    /// authorization code flow comes back through the relay's callback.
    ResponseTypeUnsupported,
}

impl Refusal {
    /// Every refusal, for documentation tests.
    pub const ALL: [Refusal; 22] = [
        Refusal::ProviderInvalid,
        Refusal::ParamsMalformed,
        Refusal::UnsupportedMediaType,
        Refusal::BodyTooLarge,
        Refusal::StateMissing,
        Refusal::StateDuplicated,
        Refusal::StateMalformed,
        Refusal::StateInvalid,
        Refusal::StateExpired,
        Refusal::StateOtherApp,
        Refusal::TargetInvalid,
        Refusal::TargetIsRelay,
        Refusal::TargetNotAllowed,
        Refusal::ProviderMismatch,
        Refusal::NotFound,
        Refusal::MethodNotAllowed,
        Refusal::RedirectUriMismatch,
        Refusal::ClientIdUnknown,
        Refusal::TargetMissing,
        Refusal::TargetNotCallback,
        Refusal::AuthorizeNotConfigured,
        Refusal::ResponseTypeUnsupported,
    ];

    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProviderInvalid => "provider_invalid",
            Self::ParamsMalformed => "params_malformed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge => "body_too_large",
            Self::StateMissing => "state_missing",
            Self::StateDuplicated => "state_duplicated",
            Self::StateMalformed => "state_malformed",
            Self::StateInvalid => "state_invalid",
            Self::StateExpired => "state_expired",
            Self::StateOtherApp => "state_other_app",
            Self::TargetInvalid => "target_invalid",
            Self::TargetIsRelay => "target_is_relay",
            Self::TargetNotAllowed => "target_not_allowed",
            Self::ProviderMismatch => "provider_mismatch",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RedirectUriMismatch => "redirect_uri_mismatch",
            Self::ClientIdUnknown => "client_id_unknown",
            Self::TargetMissing => "target_missing",
            Self::TargetNotCallback => "target_not_callback",
            Self::AuthorizeNotConfigured => "authorize_not_configured",
            Self::ResponseTypeUnsupported => "response_type_unsupported",
        }
    }

    /// The HTTP status: 400 for input that cannot be read, 403 for a readable request
    /// that policy refuses.
    pub fn status(&self) -> u16 {
        match self {
            Self::ProviderInvalid
            | Self::ParamsMalformed
            | Self::StateMissing
            | Self::StateDuplicated
            | Self::StateMalformed
            | Self::TargetMissing => 400,
            Self::UnsupportedMediaType => 415,
            Self::BodyTooLarge => 413,
            Self::NotFound | Self::AuthorizeNotConfigured => 404,
            Self::MethodNotAllowed => 405,
            Self::StateInvalid
            | Self::StateExpired
            | Self::StateOtherApp
            | Self::TargetInvalid
            | Self::TargetIsRelay
            | Self::TargetNotAllowed
            | Self::ProviderMismatch
            | Self::RedirectUriMismatch
            | Self::ClientIdUnknown
            | Self::TargetNotCallback
            | Self::ResponseTypeUnsupported => 403,
        }
    }

    /// One sentence for the person who sees the page. It contains no request input.
    pub fn message(&self) -> &'static str {
        match self {
            Self::ProviderInvalid => "The sign-in callback names a provider this relay cannot serve.",
            Self::ParamsMalformed => "The sign-in callback's parameters could not be read.",
            Self::UnsupportedMediaType => "The sign-in callback was posted in a format the relay does not accept.",
            Self::BodyTooLarge => "The sign-in callback was larger than the relay accepts.",
            Self::StateMissing => "The sign-in callback carries no state, so the relay cannot tell where the sign-in began.",
            Self::StateDuplicated => "The sign-in callback carries more than one state.",
            Self::StateMalformed => "The sign-in state could not be read.",
            Self::StateInvalid => "The sign-in state does not verify with this relay's secrets, or breaks one of its rules.",
            Self::StateExpired => "The sign-in took too long and its state has expired. Start the sign-in again.",
            Self::StateOtherApp => "The sign-in state was made for another app on this relay.",
            Self::TargetInvalid => "The sign-in state points to an address that is not a valid callback URL.",
            Self::TargetIsRelay => "The sign-in state points back at this relay.",
            Self::TargetNotAllowed => "The sign-in state points to an address this relay is not allowed to send you to.",
            Self::ProviderMismatch => "The sign-in state was made for a different provider.",
            Self::NotFound => "There is nothing at this address.",
            Self::MethodNotAllowed => "This address does not accept this request method.",
            Self::RedirectUriMismatch => "The sign-in request's redirect_uri is not this relay's callback for the provider.",
            Self::ClientIdUnknown => "The sign-in request's client_id is not one this relay forwards for the provider.",
            Self::TargetMissing => "The sign-in request names no address to return to.",
            Self::TargetNotCallback => "The sign-in request's return address is not a sign-in callback of the preview.",
            Self::AuthorizeNotConfigured => "This relay does not start sign-ins for this provider.",
            Self::ResponseTypeUnsupported => "The sign-in request asks for another response_type than code, the only one this relay can complete.",
        }
    }
}

/// The likely cause of a refusal, when the decision can tell it from what it checked:
/// typed, so the page and the log carry fixed text chosen by it and nothing of the
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// `target_not_allowed` for a loopback target (`localhost`, `127.0.0.0/8`, `[::1]`):
    /// the preview put the address it listens on into the state, not its public URL
    /// (next-auth behind a proxy without `AUTH_URL`, or `next start` without `-H`).
    LoopbackTarget,
}

impl Hint {
    /// The log's `detail` for this hint.
    pub fn detail_code(&self) -> &'static str {
        match self {
            Self::LoopbackTarget => "loopback_target",
        }
    }

    /// The fixed sentence the refusal page and the JSON answer carry as advice.
    pub fn advice(&self) -> &'static str {
        match self {
            Self::LoopbackTarget => {
                "The sign-in began on a loopback address (localhost or 127.x), so the preview \
                 probably does not know its public URL: set AUTH_URL on the preview to its public \
                 URL (next-auth needs it behind any proxy but Vercel's), or make its server take \
                 its public host from the proxy's X-Forwarded-Host and X-Forwarded-Proto \
                 headers. For local development, allow the loopback origin on the relay instead."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_a_4xx_with_a_distinct_code() {
        let mut codes: Vec<&str> = Refusal::ALL.iter().map(|r| r.code()).collect();
        for r in Refusal::ALL {
            assert!((400..500).contains(&r.status()), "{r:?}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Refusal::ALL.len());
    }

    #[test]
    fn every_hint_is_documented_and_names_the_fix() {
        let doc = include_str!("../../docs/troubleshooting.md");
        let hint = Hint::LoopbackTarget;
        assert!(doc.contains(&format!("`detail={}`", hint.detail_code())));
        assert!(hint.advice().contains("AUTH_URL"), "{}", hint.advice());
        assert!(
            hint.advice().contains("X-Forwarded-Host"),
            "{}",
            hint.advice()
        );
    }

    #[test]
    fn every_refusal_code_is_documented() {
        let doc = include_str!("../../docs/troubleshooting.md");
        for r in Refusal::ALL {
            assert!(
                doc.contains(&format!("| `{}` | {} |", r.code(), r.status())),
                "{r:?}"
            );
        }
    }
}
