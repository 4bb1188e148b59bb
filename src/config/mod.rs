//! Configuration: read from the environment once, parsed into valid values.
//!
//! Every variable is read as text through `envy` and then parsed here, so that an error
//! names the variable and the rule, never the value (which may be a secret).

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use authrelay_client::keyring::Keyring;
use authrelay_client::pattern::Allowlist;
use authrelay_client::{Secret, SecretError};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use url::Url;

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
/// Names of the secret variables, newest first (the order Auth.js encrypts with).
pub const SECRET_VARS: [&str; 4] = [
    "AUTH_SECRET_3",
    "AUTH_SECRET_2",
    "AUTH_SECRET_1",
    "AUTH_SECRET",
];

/// The environment variables as text, before any parsing.
#[derive(Debug, Default, Deserialize)]
struct RawEnv {
    auth_secret: Option<String>,
    auth_secret_1: Option<String>,
    auth_secret_2: Option<String>,
    auth_secret_3: Option<String>,
    auth_url: Option<String>,
    auth_trust_host: Option<String>,
    auth_redirect_proxy_allowed_origins: Option<String>,
    host: Option<String>,
    port: Option<String>,
    auth_state_max_age: Option<String>,
    log_format: Option<String>,
    metrics_port: Option<String>,
}

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

/// The secrets, newest first, with the name of the variable each came from.
#[derive(Clone)]
pub struct Secrets {
    secrets: Vec<Secret>,
    names: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// The secrets, newest first.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// The variable name of the secret at `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }

    /// The variable names, newest first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Secrets read from the named variables, newest first (a config file's
    /// `secret_env`). `lookup` returns a variable's value.
    pub fn from_named(
        names: &[String],
        lookup: &dyn Fn(&str) -> Result<Option<String>, ConfigError>,
    ) -> Result<Self, String> {
        let mut secrets = Vec::new();
        let mut seen: Vec<(String, String)> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let looks_like_a_name = !name.is_empty()
                && name.len() <= 128
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !looks_like_a_name {
                // Not echoed: a secret pasted here by mistake must not reach the logs.
                return Err(format!(
                    "secret_env entry {} is not a variable name (letters, digits, '_'); name the variable that holds the secret, not the secret",
                    i + 1
                ));
            }
            let value = match lookup(name) {
                Ok(Some(v)) if !v.trim().is_empty() => v,
                Ok(Some(_)) => return Err(format!("secret variable {name} is set but empty")),
                Ok(None) => return Err(format!("secret variable {name} is not set")),
                Err(e) => return Err(e.to_string()),
            };
            if let Some((other, _)) = seen
                .iter()
                .find(|(_, v)| bool::from(v.as_bytes().ct_eq(value.as_bytes())))
            {
                return Err(format!("{other} and {name} hold the same secret"));
            }
            check_secret_edges(&value).map_err(|e| format!("secret variable {name} {e}"))?;
            let secret =
                Secret::new(value.clone()).map_err(|e| format!("secret variable {name} {e}"))?;
            secrets.push(secret);
            seen.push((name.clone(), value));
        }
        Ok(Self {
            secrets,
            names: names.to_vec(),
        })
    }

    /// Whether any secret here equals any in `other` (compared in constant time).
    pub fn shares_any_with(&self, other: &Secrets) -> bool {
        self.secrets.iter().any(|a| {
            other.secrets.iter().any(|b| {
                bool::from(
                    a.expose_secret()
                        .as_bytes()
                        .ct_eq(b.expose_secret().as_bytes()),
                )
            })
        })
    }

    /// The secret that new states are made with: the newest.
    pub fn signing(&self) -> &Secret {
        // `Secrets` is only built with AUTH_SECRET present, so it is never empty.
        &self.secrets[0]
    }
}

/// The relay's whole configuration, all of it valid.
#[derive(Debug, Clone)]
pub struct Config {
    /// The app's name: `default` for the environment-only configuration, else the
    /// config file's `name`.
    pub name: String,
    /// The secrets, for `inspect` and `sign`.
    pub secrets: Secrets,
    /// Keys of both state formats for each secret.
    pub keyring: Keyring,
    /// The relay's public URL including its base path (`AUTH_URL`).
    pub public_url: Url,
    /// The base path, without a trailing slash, e.g. `/api/auth`.
    pub base_path: String,
    /// Honour `X-Forwarded-Host` and `X-Forwarded-Proto` (`AUTH_TRUST_HOST`).
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
}

impl RawEnv {
    /// Refuses variables set to the empty string.
    fn non_empty(self) -> Result<RawEnv, ConfigError> {
        Ok(RawEnv {
            auth_secret: non_empty("AUTH_SECRET", self.auth_secret)?,
            auth_secret_1: non_empty("AUTH_SECRET_1", self.auth_secret_1)?,
            auth_secret_2: non_empty("AUTH_SECRET_2", self.auth_secret_2)?,
            auth_secret_3: non_empty("AUTH_SECRET_3", self.auth_secret_3)?,
            auth_url: non_empty("AUTH_URL", self.auth_url)?,
            auth_trust_host: non_empty("AUTH_TRUST_HOST", self.auth_trust_host)?,
            auth_redirect_proxy_allowed_origins: non_empty(
                "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                self.auth_redirect_proxy_allowed_origins,
            )?,
            host: non_empty("HOST", self.host)?,
            port: non_empty("PORT", self.port)?,
            auth_state_max_age: non_empty("AUTH_STATE_MAX_AGE", self.auth_state_max_age)?,
            log_format: non_empty("LOG_FORMAT", self.log_format)?,
            metrics_port: non_empty("METRICS_PORT", self.metrics_port)?,
        })
    }
}

/// What every app shares: where the relay listens and how it runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `AUTH_URL`, with its base path.
    pub public_url: Url,
    /// `AUTH_URL`'s base path (`/api/auth` when it has none).
    pub base_path: String,
    /// Whether `AUTH_URL` named a base path explicitly.
    pub explicit_base_path: bool,
    /// `AUTH_TRUST_HOST`.
    pub trust_host: bool,
    /// `HOST`.
    pub host: IpAddr,
    /// `PORT`.
    pub port: u16,
    /// `AUTH_STATE_MAX_AGE`, the default for every app.
    pub state_max_age: u64,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `METRICS_PORT`.
    pub metrics_port: Option<u16>,
}

/// Checks a state max age in seconds.
pub fn check_state_max_age(n: u64) -> Result<u64, String> {
    if (30..=MAX_STATE_MAX_AGE).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "must be between 30 and {MAX_STATE_MAX_AGE} seconds"
        ))
    }
}

impl Settings {
    /// Reads the shared settings from the process environment (for a config file).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(process_env()?)
    }

    /// Reads the shared settings from any set of variables.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let raw = raw_from_iter(vars)?.non_empty()?;
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &RawEnv) -> Result<Self, ConfigError> {
        let explicit_base_path = raw
            .auth_url
            .as_deref()
            .and_then(|u| Url::parse(u.trim()).ok())
            .is_some_and(|u| !u.path().trim_end_matches('/').is_empty());
        let (public_url, base_path) = parse_public_url(raw.auth_url.clone())?;
        let trust_host = parse_bool("AUTH_TRUST_HOST", raw.auth_trust_host.clone())?;
        let host: IpAddr = match &raw.host {
            None => IpAddr::from([0, 0, 0, 0]),
            Some(h) => parse_number(
                "HOST",
                h,
                "an IP address to bind, e.g. 0.0.0.0 or 127.0.0.1",
            )?,
        };
        let port = match &raw.port {
            None => DEFAULT_PORT,
            Some(p) => parse_number("PORT", p, "a port number from 0 to 65535")?,
        };
        let state_max_age = match &raw.auth_state_max_age {
            None => DEFAULT_STATE_MAX_AGE,
            Some(v) => {
                let n: u64 = parse_number("AUTH_STATE_MAX_AGE", v, "a number of seconds")?;
                check_state_max_age(n).map_err(|e| invalid("AUTH_STATE_MAX_AGE", e))?
            }
        };
        let log_format = match raw.log_format.as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(invalid("LOG_FORMAT", "must be pretty or json")),
        };
        let metrics_port = match &raw.metrics_port {
            None => None,
            Some(p) => {
                let p: u16 = parse_number("METRICS_PORT", p, "a port number from 0 to 65535")?;
                if p != 0 && p == port {
                    return Err(invalid("METRICS_PORT", "must differ from PORT"));
                }
                Some(p)
            }
        };
        Ok(Self {
            public_url,
            base_path,
            explicit_base_path,
            trust_host,
            host,
            port,
            state_max_age,
            log_format,
            metrics_port,
        })
    }
}

/// Whether the secret or allowlist variables of the environment-only configuration are
/// set (they must not be, next to a config file).
pub fn single_app_vars_set(vars: &HashMap<String, String>) -> Option<&'static str> {
    [
        "AUTH_SECRET",
        "AUTH_SECRET_1",
        "AUTH_SECRET_2",
        "AUTH_SECRET_3",
        "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
    ]
    .into_iter()
    .find(|k| vars.contains_key(*k))
}

fn non_empty(name: &'static str, v: Option<String>) -> Result<Option<String>, ConfigError> {
    match v {
        Some(s) if s.trim().is_empty() => Err(ConfigError::Empty(name)),
        other => Ok(other),
    }
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        problem: problem.into(),
    }
}

/// Reads the secret variables only, for commands that need no more (`sign`, `inspect`).
pub fn secrets_from_env() -> Result<Secrets, ConfigError> {
    secrets_from_iter(process_env()?)
}

/// [`secrets_from_env`] over any set of variables.
pub fn secrets_from_iter(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Secrets, ConfigError> {
    let raw = raw_from_iter(vars)?;
    parse_secrets(&raw)
}

fn raw_from_iter(vars: impl IntoIterator<Item = (String, String)>) -> Result<RawEnv, ConfigError> {
    // Only our names are handed to envy: its errors could otherwise mention unrelated
    // variables.
    let ours: HashMap<String, String> = vars
        .into_iter()
        .filter(|(k, _)| KNOWN_VARS.contains(&k.as_str()))
        .collect();
    envy::from_iter::<_, RawEnv>(ours).map_err(|e| ConfigError::Env(e.to_string()))
}

/// The relay's variables from the process environment. A value that is not UTF-8 is a
/// configuration error (`std::env::vars` would panic on it).
pub fn process_env() -> Result<HashMap<String, String>, ConfigError> {
    let mut out = HashMap::new();
    for (key, value) in std::env::vars_os() {
        let Some(name) = KNOWN_VARS
            .iter()
            .find(|k| key.as_os_str() == std::ffi::OsStr::new(k))
        else {
            continue;
        };
        let value = value
            .into_string()
            .map_err(|_| invalid(name, "is not valid UTF-8"))?;
        out.insert((*name).to_owned(), value);
    }
    Ok(out)
}

/// Every variable the relay reads.
pub const KNOWN_VARS: [&str; 13] = [
    "AUTH_SECRET",
    "AUTH_SECRET_1",
    "AUTH_SECRET_2",
    "AUTH_SECRET_3",
    "AUTH_URL",
    "AUTH_TRUST_HOST",
    "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
    "HOST",
    "PORT",
    "AUTH_STATE_MAX_AGE",
    "LOG_FORMAT",
    "METRICS_PORT",
    "AUTHRELAY_CONFIG",
];

fn parse_secrets(raw: &RawEnv) -> Result<Secrets, ConfigError> {
    let slots: [(&'static str, &Option<String>); 4] = [
        ("AUTH_SECRET_3", &raw.auth_secret_3),
        ("AUTH_SECRET_2", &raw.auth_secret_2),
        ("AUTH_SECRET_1", &raw.auth_secret_1),
        ("AUTH_SECRET", &raw.auth_secret),
    ];
    if raw.auth_secret.is_none() {
        return Err(ConfigError::Missing {
            name: "AUTH_SECRET",
            hint: "set it to a random string of at least 32 characters (make one with `authrelay secret`), or try `authrelay serve --dev`",
        });
    }
    let mut secrets = Vec::new();
    let mut names = Vec::new();
    let mut seen: Vec<(&'static str, &str)> = Vec::new();
    for (name, value) in slots {
        let Some(value) = value else { continue };
        if let Some((other, _)) = seen.iter().find(|(_, v)| {
            // Constant-time comparison: the values are secrets.
            bool::from(v.as_bytes().ct_eq(value.as_bytes()))
        }) {
            return Err(ConfigError::DuplicateSecret(other, name));
        }
        check_secret_edges(value).map_err(|problem| invalid(name, problem))?;
        let secret =
            Secret::new(value.clone()).map_err(|source| ConfigError::Secret { name, source })?;
        seen.push((name, value));
        secrets.push(secret);
        names.push(name.to_owned());
    }
    Ok(Secrets { secrets, names })
}

fn parse_bool(name: &'static str, v: Option<String>) -> Result<bool, ConfigError> {
    match v
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(invalid(name, "must be true or false")),
    }
}

fn parse_public_url(v: Option<String>) -> Result<(Url, String), ConfigError> {
    const NAME: &str = "AUTH_URL";
    let raw = v.ok_or(ConfigError::Missing {
        name: NAME,
        hint: "set it to the relay's public URL with its base path, e.g. https://auth.example.com/api/auth",
    })?;
    let written = raw.trim();
    let mut url = Url::parse(written).map_err(|e| {
        invalid(
            NAME,
            format!("is not an absolute URL ({e}); e.g. https://auth.example.com/api/auth"),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid(NAME, "must be an https (or http) URL"));
    }
    // The URL standard forgives `https:host`, `https:///host` and backslashes, reading a
    // host out of them that the operator may not have meant: ask for the plain form.
    let two_slashes = written
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.starts_with('/'));
    if !two_slashes || written.contains('\\') {
        return Err(invalid(
            NAME,
            "must be written scheme://host/path with exactly two slashes and no backslashes, e.g. https://auth.example.com/api/auth",
        ));
    }
    let Some(host) = url.host_str() else {
        return Err(invalid(NAME, "must have a host"));
    };
    if host.ends_with('.') {
        return Err(invalid(NAME, "must not end its host with a dot"));
    }
    if url.port() == Some(0) {
        return Err(invalid(NAME, "must not have port 0"));
    }
    // The provider sends the OAuth code here: plain http only where it never leaves the
    // machine.
    if url.scheme() == "http" && !is_loopback_host(host) {
        return Err(invalid(
            NAME,
            "must be https unless its host is loopback (localhost, 127.0.0.0/8, [::1])",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(NAME, "must not contain user information"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(NAME, "must not have a query or fragment"));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    let base_path = if path.is_empty() {
        DEFAULT_BASE_PATH.to_owned()
    } else {
        path
    };
    if base_path.contains("//")
        || base_path.contains('%')
        || base_path.split('/').any(|s| s == "." || s == "..")
    {
        return Err(invalid(
            NAME,
            "has a base path with empty, encoded or dot segments",
        ));
    }
    url.set_path(&base_path);
    Ok((url, base_path))
}

/// `localhost`, an IPv4 address in 127.0.0.0/8 or `[::1]`, as the url crate writes hosts.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a secret with whitespace or control characters at either end: most often a
/// newline from a file or a copy, which would make the relay's secret differ from the
/// previews' and every state fail.
fn check_secret_edges(value: &str) -> Result<(), String> {
    let bad = |c: char| c.is_whitespace() || c.is_control();
    if value.starts_with(bad) || value.ends_with(bad) {
        Err("has whitespace or a control character at its start or end (a trailing newline?); remove it".into())
    } else {
        Ok(())
    }
}

fn parse_number<T: std::str::FromStr>(
    name: &'static str,
    v: &str,
    what: &str,
) -> Result<T, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| invalid(name, format!("must be {what}")))
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
        let raw = raw_from_iter(vars)?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawEnv) -> Result<Self, ConfigError> {
        let raw = raw.non_empty()?;
        let settings = Settings::from_raw(&raw)?;
        let secrets = parse_secrets(&raw)?;
        const ORIGINS: &str = "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS";
        let list = raw.auth_redirect_proxy_allowed_origins.ok_or(ConfigError::Missing {
            name: ORIGINS,
            hint: "list the preview origins to allow, e.g. https://*.preview.example.com (there is no allow-all)",
        })?;
        let allowlist = Allowlist::parse(&list)
            .map_err(|e| invalid(ORIGINS, format!("has a bad pattern: {e}")))?;
        let base_path = settings.base_path.clone();
        let max_age = settings.state_max_age;
        Ok(Self::for_app(
            DEFAULT_APP,
            &settings,
            secrets,
            allowlist,
            &base_path,
            max_age,
        ))
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
        }
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
    use super::*;

    #[test]
    fn the_configuration_reference_matches_the_variables_the_code_reads() {
        let reference = include_str!("../docs/configuration.md");
        let readme = include_str!("../README.md");
        for var in KNOWN_VARS {
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
                KNOWN_VARS.contains(var),
                "docs/configuration.md documents {var}, which the code does not read"
            );
        }
        assert_eq!(documented.len(), KNOWN_VARS.len());
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
        for (pairs, want) in [
            (
                vec![("AUTH_URL", "http://auth.example.com")],
                "must be https unless",
            ),
            (
                vec![("AUTH_URL", "https://auth.example.com./api/auth")],
                "must not end its host with a dot",
            ),
            (
                vec![("AUTH_URL", "https://auth.example.com:0")],
                "must not have port 0",
            ),
            (
                vec![("AUTH_URL", "https:///api/auth")],
                "exactly two slashes",
            ),
            (
                vec![("AUTH_URL", "https:auth.example.com/api/auth")],
                "exactly two slashes",
            ),
            (
                vec![("AUTH_URL", "https://auth.example.com\\api\\auth")],
                "no backslashes",
            ),
            (
                vec![("AUTH_SECRET", "a-secret-a-secret-a-secret-a-secret-00\n")],
                "AUTH_SECRET has whitespace",
            ),
            (
                vec![("AUTH_SECRET_1", " b-secret-b-secret-b-secret-b-secret-00")],
                "AUTH_SECRET_1 has whitespace",
            ),
        ] {
            let err = try_config(&pairs).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
            assert!(!err.contains("secret-00"), "{err}");
        }
        assert!(try_config(&[("AUTH_URL", "http://localhost:3000/api/auth")]).is_ok());
    }

    #[test]
    fn secrets_are_newest_first_in_authjs_order() {
        let vars = [
            ("AUTH_SECRET", "s0-s0-s0-s0-s0-s0-s0-s0-s0-s0-s0-s0"),
            ("AUTH_SECRET_1", "s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1"),
            ("AUTH_SECRET_3", "s3-s3-s3-s3-s3-s3-s3-s3-s3-s3-s3-s3"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let s = secrets_from_iter(vars).unwrap();
        assert_eq!(s.names(), ["AUTH_SECRET_3", "AUTH_SECRET_1", "AUTH_SECRET"]);
        assert!(s.signing().expose_secret().starts_with("s3"));
        assert!(!format!("{s:?}").contains("s3-s3"));
    }
}
