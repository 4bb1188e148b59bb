//! The set of apps a relay serves, and which of them a request is for.
//!
//! [`crate::config::Source`] reads the apps: one (`default`) from the environment, or one
//! per `[[apps]]` table of a config file, each with its own base path, secrets and
//! allowlist; SIGHUP swaps in a freshly read set atomically.

use crate::config::Config;

/// The apps a relay serves, all valid, with no two base paths overlapping.
#[derive(Debug, Clone)]
pub struct Apps {
    apps: Vec<Config>,
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

    /// The app and the raw `{provider}` segment of a callback path
    /// (`{base}/callback/{provider}`), if it is one.
    pub fn callback<'a>(&'a self, path: &'a str) -> Option<(&'a Config, &'a str)> {
        self.route_of(path, "/callback/", |_| true)
    }

    /// The app and the raw `{provider}` segment of an authorize path
    /// (`{base}/authorize/{provider}`), if it is one of an app that offers the route.
    pub fn authorize<'a>(&'a self, path: &'a str) -> Option<(&'a Config, &'a str)> {
        self.route_of(path, "/authorize/", |app| !app.authorize.is_empty())
    }

    /// The app whose `{base}{route}{provider}` path this is, among the apps `offers`
    /// accepts, and the raw provider segment.
    fn route_of<'a>(
        &'a self,
        path: &'a str,
        route: &str,
        offers: impl Fn(&Config) -> bool,
    ) -> Option<(&'a Config, &'a str)> {
        self.apps.iter().filter(|app| offers(app)).find_map(|app| {
            let provider = path
                .strip_prefix(app.base_path.as_str())?
                .strip_prefix(route)?;
            (!provider.is_empty() && !provider.contains('/')).then_some((app, provider))
        })
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
}
