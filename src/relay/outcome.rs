//! What the relay does with a callback, and what logs and metrics say about it.

use std::fmt;

use authrelay_client::keyring::StateFormat;

use super::{Hint, Refusal};

/// What the relay does with a callback. Its `Debug` shows a `Location` without its query
/// and a form's fields by name only: they carry `code` and `state`.
#[derive(Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer 302 with this `Location`.
    Redirect(String),
    /// Answer with a page that posts these fields to `action`.
    FormPost {
        /// The target URL.
        action: String,
        /// The target's origin, for the page's CSP `form-action`.
        action_origin: String,
        /// The fields, in order, decoded.
        fields: Vec<(String, String)>,
    },
    /// Refuse.
    Refuse(Refusal),
}

impl fmt::Debug for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redirect(location) => {
                let (base, query) = location.split_once('?').unwrap_or((location, ""));
                write!(f, "Redirect({base:?}, query of {} bytes)", query.len())
            }
            Self::FormPost {
                action,
                action_origin,
                fields,
            } => f
                .debug_struct("FormPost")
                .field("action", action)
                .field("action_origin", action_origin)
                .field("fields", &fields.iter().map(|(k, _)| k).collect::<Vec<_>>())
                .finish(),
            Self::Refuse(r) => f.debug_tuple("Refuse").field(r).finish(),
        }
    }
}

/// The decision and what the logs and metrics say about it. Apart from the decision
/// (whose `Debug` hides them), nothing here holds `code`, `state` or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// The state format, when a state was seen.
    pub format: Option<StateFormat>,
    /// The provider, once the state is verified to be for it.
    pub provider: Option<String>,
    /// The target's host, once the state verified.
    pub target_host: Option<String>,
    /// A precise reason for logs (e.g. `bad_signature`), beyond the public code.
    pub detail: Option<&'static str>,
    /// The likely cause of a refusal, when the decision can tell it: its advice goes on
    /// the page and its detail code to the log.
    pub hint: Option<Hint>,
    /// The variable name of the secret that verified the state.
    pub secret: Option<String>,
    /// The app the callback was for.
    pub app: Option<String>,
    /// The provider named in the callback path, when it is a valid id but the state did
    /// not (yet) confirm it: for logs, never for metric labels.
    pub path_provider: Option<String>,
    /// The other app whose secrets verify the state, when the refusal is
    /// [`Refusal::StateOtherApp`]: for logs only, never for the page.
    pub other_app: Option<String>,
    /// Whether this is the outcome of an authorize request rather than a callback.
    pub authorize: bool,
}

impl Outcome {
    /// An outcome that refuses, with nothing known yet beyond the refusal.
    pub fn refused(refusal: Refusal) -> Self {
        Self {
            decision: Decision::Refuse(refusal),
            format: None,
            provider: None,
            target_host: None,
            detail: None,
            hint: None,
            secret: None,
            app: None,
            path_provider: None,
            other_app: None,
            authorize: false,
        }
    }

    /// Turns this outcome into a refusal for `refusal`, with the likely cause `hint` (its
    /// detail code then goes to the log).
    pub fn refuse(mut self, refusal: Refusal, hint: Option<Hint>) -> Self {
        self.decision = Decision::Refuse(refusal);
        if let Some(hint) = hint {
            self.hint = Some(hint);
            self.detail = Some(hint.detail_code());
        }
        self
    }

    /// `redirect`, `form_post`, `authorize` (an authorize request sent on to the
    /// provider) or `refused`, for logs and metrics.
    pub fn outcome_label(&self) -> &'static str {
        match self.decision {
            Decision::Redirect(_) if self.authorize => "authorize",
            Decision::Redirect(_) => "redirect",
            Decision::FormPost { .. } => "form_post",
            Decision::Refuse(_) => "refused",
        }
    }

    /// The fixed advice a refusal shows: its [`Hint`]'s, or else the state format's when
    /// the format is one the relay never accepts ([`StateFormat::advice`]). Chosen by
    /// typed values, never by input.
    pub fn advice(&self) -> Option<&'static str> {
        match self.decision {
            Decision::Refuse(_) => self
                .hint
                .map(|h| h.advice())
                .or_else(|| self.format.and_then(|f| f.advice())),
            _ => None,
        }
    }

    /// The reason code, or `ok`.
    pub fn reason_label(&self) -> &'static str {
        match &self.decision {
            Decision::Refuse(r) => r.code(),
            _ => "ok",
        }
    }
}
