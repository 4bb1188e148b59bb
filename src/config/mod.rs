//! Configuration: read once, from the environment or a config file, parsed into valid
//! values.
//!
//! Every variable is read as text through `envy` and then parsed, so that an error names
//! the variable and the rule, never the value (which may be a secret).
//!
//! - this module: [`Config`] (one app's valid configuration) and [`ConfigError`];
//! - `env`: [`VARS`], the one table of the variables, and their parsers ([`Settings`]
//!   for what every app shares);
//! - `secrets`: an app's [`Secrets`] and the checks every secret passes;
//! - `file`: [`Source`] (environment or file) and the config file of several apps,
//!   each with its own base path, secrets and allowlist ([`apps_from_file`]).

mod authorize;
mod env;
mod file;
mod secrets;

use std::net::IpAddr;

use authrelay_client::keyring::Keyring;
use authrelay_client::pattern::Allowlist;
use authrelay_client::SecretError;
use url::Url;

pub use authorize::{
    Authorize, AuthorizeProvider, CallbackPath, DEFAULT_CALLBACK_PATH, GUARDED_PARAMS,
    REQUEST_OBJECT_PARAMS, RETURN_PARAM,
};
pub use env::{
    check_state_max_age, process_env, secrets_from_env, secrets_from_iter, CommandSettings,
    Settings, Var, VarKind, VARS,
};
pub use file::{apps_from_file, Source, CONFIG_VAR};
pub use secrets::Secrets;

/// The name of the one app of an environment-only configuration.
pub const DEFAULT_APP: &str = "default";
/// The base path used when `AUTH_URL` has none, as in Auth.js.
pub const DEFAULT_BASE_PATH: &str = "/api/auth";
/// The default port.
pub const DEFAULT_PORT: u16 = 3000;
/// The default maximum state age, in seconds: the lifetime of Auth.js's own state.
pub const DEFAULT_STATE_MAX_AGE: u64 = 900;
/// The longest maximum state age an operator may set, in seconds.
pub const MAX_STATE_MAX_AGE: u64 = 3600;

/// A configuration that cannot start a working relay. The message is one line that names
/// the variable and says how to fix it; it never includes a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{name} is not set: {hint}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What to set it to.
        hint: &'static str,
    },
    /// A variable is set to the empty string.
    #[error("{0} is set but empty: give it a value or unset it")]
    Empty(&'static str),
    /// A secret is refused.
    #[error("{name} {source}")]
    Secret {
        /// The variable.
        name: &'static str,
        /// Why.
        source: SecretError,
    },
    /// Two secret variables hold the same secret.
    #[error("{0} and {1} hold the same secret: each rotation slot needs its own")]
    DuplicateSecret(&'static str, &'static str),
    /// Any other bad value.
    #[error("{name} {problem}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong, in words.
        problem: String,
    },
    /// The config file is wrong.
    #[error("config file {path} {problem}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The environment could not be read.
    #[error("the environment could not be read: {0}")]
    Env(String),
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The relay's whole configuration, all of it valid.
#[derive(Debug, Clone)]
pub struct Config {
    /// The app's name: `default` for the environment-only configuration, else the
    /// config file's `name`.
    pub name: String,
    /// The secrets, newest first, with the names of their variables.
    pub secrets: Secrets,
    /// Keys of both state formats for each secret.
    pub keyring: Keyring,
    /// The relay's public URL including the app's base path (`AUTH_URL`).
    pub public_url: Url,
    /// The base path, without a trailing slash, e.g. `/api/auth`.
    pub base_path: String,
    /// Take `X-Forwarded-Host` as the relay's own host too (`AUTH_TRUST_HOST`).
    pub trust_host: bool,
    /// The allowed target origins.
    pub allowlist: Allowlist,
    /// The address to bind.
    pub host: IpAddr,
    /// The port to bind.
    pub port: u16,
    /// The longest state lifetime accepted, in seconds.
    pub state_max_age: u64,
    /// How logs are written.
    pub log_format: LogFormat,
    /// A separate port for `/metrics` (same address as `host`); when set, the main port
    /// does not serve `/metrics`.
    pub metrics_port: Option<u16>,
    /// The authorize route's settings by provider; empty when the app does not offer it.
    pub authorize: Authorize,
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        problem: problem.into(),
    }
}

/// `localhost`, an IPv4 address in 127.0.0.0/8 or `[::1]`, as the url crate writes hosts.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(process_env()?)
    }

    /// Reads the configuration from any set of variables (tests pass a map).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        env::single_app(vars)
    }

    /// One app's configuration on the shared settings.
    pub fn for_app(
        name: &str,
        settings: &Settings,
        secrets: Secrets,
        allowlist: Allowlist,
        base_path: &str,
        state_max_age: u64,
    ) -> Self {
        let mut public_url = settings.public_url.clone();
        public_url.set_path(base_path);
        let keyring = Keyring::new(secrets.secrets());
        Self {
            name: name.to_owned(),
            secrets,
            keyring,
            public_url,
            base_path: base_path.to_owned(),
            trust_host: settings.trust_host,
            allowlist,
            host: settings.host,
            port: settings.port,
            state_max_age,
            log_format: settings.log_format,
            metrics_port: settings.metrics_port,
            authorize: Authorize::new(),
        }
    }

    /// The authorize URL a preview's OAuth library uses as its authorization endpoint:
    /// `<AUTH_URL>/authorize/<provider>`.
    pub fn authorize_url(&self, provider: &str) -> String {
        format!(
            "{}/authorize/{provider}",
            self.public_url.as_str().trim_end_matches('/')
        )
    }

    /// The callback URL to register at a provider: `<AUTH_URL>/callback/<provider>`.
    pub fn callback_url(&self, provider: &str) -> String {
        format!(
            "{}/callback/{provider}",
            self.public_url.as_str().trim_end_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_configuration_reference_matches_the_variables_the_code_reads() {
        let reference = include_str!("../../docs/configuration.md");
        let readme = include_str!("../../README.md");
        for var in VARS.map(|v| v.name) {
            assert!(
                reference.contains(&format!("| `{var}` |")),
                "{var} missing from docs/configuration.md"
            );
            assert!(
                readme.contains(&format!("`{var}`")),
                "{var} missing from the README"
            );
        }
        let documented: Vec<&str> = reference
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        for var in &documented {
            assert!(
                VARS.iter().any(|v| v.name == *var),
                "docs/configuration.md documents {var}, which the code does not read"
            );
        }
        assert_eq!(documented.len(), VARS.len());
    }

    fn try_config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let mut vars: HashMap<String, String> = [
            ("AUTH_SECRET", "a-secret-a-secret-a-secret-a-secret-00"),
            ("AUTH_URL", "https://auth.example.com"),
            (
                "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                "https://*.preview.example.com",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_vars(vars).map_err(|e| e.to_string())
    }

    #[test]
    fn auth_url_and_secret_mistakes_are_refused() {
        for (var, value, want) in [
            (
                "AUTH_URL",
                "http://auth.example.com",
                "must be https unless",
            ),
            (
                "AUTH_URL",
                "https://auth.example.com./api/auth",
                "must not end its host with a dot",
            ),
            (
                "AUTH_URL",
                "https://auth.example.com:0",
                "must not have port 0",
            ),
            ("AUTH_URL", "https:///api/auth", "exactly two slashes"),
            (
                "AUTH_URL",
                "https:auth.example.com/api/auth",
                "exactly two slashes",
            ),
            (
                "AUTH_URL",
                "https://auth.example.com\\api\\auth",
                "no backslashes",
            ),
            (
                "AUTH_SECRET",
                "a-secret-a-secret-a-secret-a-secret-00\n",
                "AUTH_SECRET has whitespace",
            ),
            (
                "AUTH_SECRET_1",
                " b-secret-b-secret-b-secret-b-secret-00",
                "AUTH_SECRET_1 has whitespace",
            ),
        ] {
            let err = try_config(&[(var, value)]).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
            assert!(!err.contains("secret-00"), "{err}");
        }
        assert!(try_config(&[("AUTH_URL", "http://localhost:3000/api/auth")]).is_ok());
    }
}
