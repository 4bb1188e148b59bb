//! The set of apps a relay serves, and which of them a request is for.
//!
//! [`crate::config::Source`] reads the apps: one (`default`) from the environment, or one
//! per `[[apps]]` table of a config file, each with its own base path, secrets and
//! allowlist; SIGHUP swaps in a freshly read set atomically.

use crate::config::Config;
use crate::relay::{self, CallbackMethod, CallbackRequest, Decision, Outcome, Refusal};

/// The apps a relay serves, all valid, with no two base paths overlapping.
#[derive(Debug, Clone)]
pub struct Apps {
    apps: Vec<Config>,
}

/// Where a request path leads.
pub enum Route<'a> {
    /// `{base}/callback/{provider}` of this app.
    Callback(&'a Config, &'a str),
    /// Nothing here.
    None,
}

impl Apps {
    /// One app from the environment.
    pub fn single(config: Config) -> Self {
        Self { apps: vec![config] }
    }

    /// Apps from a list that is not empty, with no two base paths overlapping.
    pub(crate) fn from_configs(apps: Vec<Config>) -> Self {
        Self { apps }
    }

    /// The apps, in file order.
    pub fn apps(&self) -> &[Config] {
        &self.apps
    }

    /// The settings every app shares (taken from the first app).
    pub fn first(&self) -> &Config {
        // `Apps` is never built empty.
        &self.apps[0]
    }

    /// Finds the app and provider of a request path.
    pub fn route<'a>(&'a self, path: &'a str) -> Route<'a> {
        for app in &self.apps {
            let Some(rest) = path.strip_prefix(app.base_path.as_str()) else {
                continue;
            };
            if let Some(provider) = rest.strip_prefix("/callback/") {
                if !provider.is_empty() && !provider.contains('/') {
                    return Route::Callback(app, provider);
                }
            }
        }
        Route::None
    }

    /// The `/readyz` body: the generation and each app's name, base path and number of
    /// secrets (never the secrets).
    pub fn readiness(&self, generation: u64) -> serde_json::Value {
        let list: Vec<_> = self
            .apps
            .iter()
            .map(|a| {
                serde_json::json!({
                    "name": a.name,
                    "base_path": a.base_path,
                    "secrets": a.secrets.names().len(),
                })
            })
            .collect();
        serde_json::json!({ "status": "ready", "generation": generation, "apps": list })
    }

    /// Another app whose secrets verify this state, to say so in the refusal.
    pub fn other_app_for_state(&self, this: &Config, state: &str, now: u64) -> Option<&Config> {
        self.apps
            .iter()
            .filter(|a| a.name != this.name)
            .find(|a| a.keyring.verify(state, now, a.state_max_age).is_ok())
    }
}

/// The decision for a callback to `app` among `apps`: [`relay::decide`], and a state that
/// fails only because it belongs to another app says so.
pub fn decide(apps: &Apps, app: &Config, req: &CallbackRequest<'_>, now: u64) -> Outcome {
    let mut outcome = relay::decide(req, app, now);
    let unknown_secret = matches!(outcome.decision, Decision::Refuse(Refusal::StateInvalid))
        && matches!(outcome.detail, Some("unknown_key" | "decrypt_failed"));
    if unknown_secret && apps.apps().len() > 1 {
        let params = match req.method {
            CallbackMethod::Get => relay::parse_params(req.query.as_bytes()),
            CallbackMethod::Post => relay::parse_params(req.body),
        };
        let state = params
            .ok()
            .and_then(|p| p.into_iter().find(|(k, _)| k == "state").map(|(_, v)| v));
        if let Some(other) = state.and_then(|s| {
            apps.other_app_for_state(app, &s, now)
                .map(|o| o.name.clone())
        }) {
            outcome.decision = Decision::Refuse(Refusal::StateOtherApp);
            outcome.secret = None;
            // The other app's name goes to logs only; the page names this app.
            outcome.detail = Some("other_app");
            tracing::debug!(other_app = %other, "state belongs to another app");
        }
    }
    outcome
}
