//! The environment variables: [`VARS`] lists them once, `envy` reads them as text into
//! one struct, and the parsers here turn that text into the settings.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::IpAddr;

use authrelay_client::pattern::Allowlist;
use serde::Deserialize;
use url::Url;

use super::authorize::{check_client_id, check_provider};
use super::secrets::{Gathered, Refused, EDGES_PROBLEM};
use super::{
    invalid, Authorize, AuthorizeProvider, CallbackPath, Config, ConfigError, LogFormat, Secrets,
    CONFIG_VAR, DEFAULT_APP, DEFAULT_BASE_PATH, DEFAULT_PORT, DEFAULT_STATE_MAX_AGE,
    MAX_STATE_MAX_AGE,
};

/// What a variable configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// A secret of the environment-only configuration: `AUTH_SECRET` or a rotation slot.
    Secret,
    /// The allowlist of the environment-only configuration.
    Allowlist,
    /// A setting every app shares, with or without a config file.
    Shared,
    /// The config file's name; the empty string means no file.
    ConfigFile,
    /// The authorize route of the environment-only configuration.
    AuthorizeRoute,
}

impl VarKind {
    /// Whether a config file takes the variable's place, so that it must be unset next to
    /// one.
    pub fn single_app(self) -> bool {
        matches!(self, Self::Secret | Self::Allowlist | Self::AuthorizeRoute)
    }
}

/// One environment variable the relay reads.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    /// Its name.
    pub name: &'static str,
    /// What it configures.
    pub kind: VarKind,
    /// Its text as `envy` read it.
    text: fn(&RawEnv) -> Option<&str>,
}

const fn var(name: &'static str, kind: VarKind, text: fn(&RawEnv) -> Option<&str>) -> Var {
    Var { name, kind, text }
}

/// Every variable the relay reads, each with its field of `RawEnv`. The secret slots
/// are listed oldest first. An empty variable is reported in this order.
pub const VARS: [Var; 16] = {
    use VarKind::*;
    [
        var("AUTH_SECRET", Secret, |r| r.auth_secret.as_deref()),
        var("AUTH_SECRET_1", Secret, |r| r.auth_secret_1.as_deref()),
        var("AUTH_SECRET_2", Secret, |r| r.auth_secret_2.as_deref()),
        var("AUTH_SECRET_3", Secret, |r| r.auth_secret_3.as_deref()),
        var("AUTH_URL", Shared, |r| r.auth_url.as_deref()),
        var("AUTH_TRUST_HOST", Shared, |r| r.auth_trust_host.as_deref()),
        var("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", Allowlist, |r| {
            r.auth_redirect_proxy_allowed_origins.as_deref()
        }),
        var("HOST", Shared, |r| r.host.as_deref()),
        var("PORT", Shared, |r| r.port.as_deref()),
        var("AUTH_STATE_MAX_AGE", Shared, |r| {
            r.auth_state_max_age.as_deref()
        }),
        var("LOG_FORMAT", Shared, |r| r.log_format.as_deref()),
        var("METRICS_PORT", Shared, |r| r.metrics_port.as_deref()),
        var(CONFIG_VAR, ConfigFile, |r| r.authrelay_config.as_deref()),
        var(AUTHORIZE_ENDPOINTS, AuthorizeRoute, |r| {
            r.auth_authorize_endpoints.as_deref()
        }),
        var(AUTHORIZE_CLIENT_IDS, AuthorizeRoute, |r| {
            r.auth_authorize_client_ids.as_deref()
        }),
        var(AUTHORIZE_CALLBACK_PATH, AuthorizeRoute, |r| {
            r.auth_authorize_callback_path.as_deref()
        }),
    ]
};

/// The variables of [`VARS`] as text, before any parsing. `envy` fills each field from
/// the variable of the same name in upper case. No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
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
    authrelay_config: Option<String>,
    auth_authorize_endpoints: Option<String>,
    auth_authorize_client_ids: Option<String>,
    auth_authorize_callback_path: Option<String>,
}

/// `provider=URL,…`: the authorize route's providers and their authorization endpoints.
const AUTHORIZE_ENDPOINTS: &str = "AUTH_AUTHORIZE_ENDPOINTS";
/// `provider=client_id,…`: the client ids each provider's authorize route accepts.
const AUTHORIZE_CLIENT_IDS: &str = "AUTH_AUTHORIZE_CLIENT_IDS";
/// The callback-path pattern of every provider's authorize route.
const AUTHORIZE_CALLBACK_PATH: &str = "AUTH_AUTHORIZE_CALLBACK_PATH";

impl RawEnv {
    /// Reads the variables of [`VARS`] out of `vars`.
    fn read(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        // Only our names are handed to envy: its errors could otherwise mention unrelated
        // variables.
        let ours: HashMap<String, String> = vars
            .into_iter()
            .filter(|(k, _)| VARS.iter().any(|v| v.name == k))
            .collect();
        envy::from_iter(ours).map_err(|e| ConfigError::Env(e.to_string()))
    }

    /// Refuses a variable set to blank text, except the config file's name, where the
    /// empty string means no file.
    fn refuse_blank(&self) -> Result<(), ConfigError> {
        let blank = VARS.iter().find(|v| {
            v.kind != VarKind::ConfigFile && (v.text)(self).is_some_and(|t| t.trim().is_empty())
        });
        match blank {
            Some(v) => Err(ConfigError::Empty(v.name)),
            None => Ok(()),
        }
    }
}

/// The relay's variables from the process environment, each with its value or the value
/// that is not UTF-8 (`std::env::vars` would panic on one).
fn process_vars() -> impl Iterator<Item = (&'static str, Result<String, OsString>)> {
    std::env::vars_os().filter_map(|(key, value)| {
        let var = VARS.iter().find(|v| key == v.name)?;
        Some((var.name, value.into_string()))
    })
}

/// The relay's variables from the process environment. A value that is not UTF-8 is a
/// configuration error.
pub fn process_env() -> Result<HashMap<String, String>, ConfigError> {
    process_vars()
        .map(|(name, value)| match value {
            Ok(v) => Ok((name.to_owned(), v)),
            Err(_) => Err(invalid(name, "is not valid UTF-8")),
        })
        .collect()
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
    /// Reads the shared settings from any set of variables.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let raw = RawEnv::read(vars)?;
        raw.refuse_blank()?;
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &RawEnv) -> Result<Self, ConfigError> {
        let explicit_base_path = raw
            .auth_url
            .as_deref()
            .and_then(|u| Url::parse(u.trim()).ok())
            .is_some_and(|u| !u.path().trim_end_matches('/').is_empty());
        let (public_url, base_path) = parse_public_url(raw.auth_url.as_deref())?;
        let trust_host = parse_bool("AUTH_TRUST_HOST", raw.auth_trust_host.as_deref())?;
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

/// The first variable set in `vars` that a config file takes the place of (it must not
/// be set next to one).
pub(super) fn single_app_var_set(vars: &HashMap<String, String>) -> Option<&'static str> {
    VARS.iter()
        .filter(|v| v.kind.single_app())
        .map(|v| v.name)
        .find(|name| vars.contains_key(*name))
}

/// The environment-only configuration: one app, [`DEFAULT_APP`].
pub(super) fn single_app(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let raw = RawEnv::read(vars)?;
    raw.refuse_blank()?;
    let settings = Settings::from_raw(&raw)?;
    let secrets = parse_secrets(&raw)?;
    const ORIGINS: &str = "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS";
    let list = raw
        .auth_redirect_proxy_allowed_origins
        .as_deref()
        .ok_or(ConfigError::Missing {
            name: ORIGINS,
            hint: "list the preview origins to allow, e.g. https://*.preview.example.com (there is no allow-all)",
        })?;
    let allowlist =
        Allowlist::parse(list).map_err(|e| invalid(ORIGINS, format!("has a bad pattern: {e}")))?;
    let mut config = Config::for_app(
        DEFAULT_APP,
        &settings,
        secrets,
        allowlist,
        &settings.base_path,
        settings.state_max_age,
    );
    config.authorize = parse_authorize(&raw)?;
    Ok(config)
}

/// `provider=value` pairs of a comma-separated list, in order.
fn provider_pairs<'a>(
    name: &'static str,
    list: &'a str,
) -> Result<Vec<(&'a str, &'a str)>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.split_once('=')
                .map(|(p, v)| (p.trim(), v.trim()))
                .ok_or_else(|| {
                    invalid(
                        name,
                        "must list provider=value pairs separated by commas, e.g. github=…",
                    )
                })
        })
        .collect()
}

/// The authorize route of the environment-only configuration, from
/// `AUTH_AUTHORIZE_ENDPOINTS`, `AUTH_AUTHORIZE_CLIENT_IDS` and
/// `AUTH_AUTHORIZE_CALLBACK_PATH`; empty when none is set.
fn parse_authorize(raw: &RawEnv) -> Result<Authorize, ConfigError> {
    let Some(endpoints) = raw.auth_authorize_endpoints.as_deref() else {
        if let Some(other) = [
            (AUTHORIZE_CLIENT_IDS, &raw.auth_authorize_client_ids),
            (AUTHORIZE_CALLBACK_PATH, &raw.auth_authorize_callback_path),
        ]
        .iter()
        .find_map(|(name, v)| v.is_some().then_some(*name))
        {
            return Err(invalid(
                other,
                format!("is set, but {AUTHORIZE_ENDPOINTS} is not: set it to turn on the authorize route"),
            ));
        }
        return Ok(Authorize::new());
    };
    let endpoints = provider_pairs(AUTHORIZE_ENDPOINTS, endpoints)?;
    for (provider, _) in &endpoints {
        check_provider(provider).map_err(|e| invalid(AUTHORIZE_ENDPOINTS, e))?;
    }
    let ids = provider_pairs(
        AUTHORIZE_CLIENT_IDS,
        raw.auth_authorize_client_ids.as_deref().unwrap_or_default(),
    )?;
    if let Some((p, _)) = ids
        .iter()
        .find(|(p, _)| !endpoints.iter().any(|(e, _)| e == p))
    {
        return Err(invalid(
            AUTHORIZE_CLIENT_IDS,
            format!(
                "names provider `{}`, which {AUTHORIZE_ENDPOINTS} does not",
                authrelay_client::one_line(p, 64)
            ),
        ));
    }
    // Each variable's own mistakes are named by it: the client ids and the callback path
    // are checked here, the endpoints and provider ids by AuthorizeProvider::new.
    for (_, id) in &ids {
        check_client_id(id).map_err(|e| invalid(AUTHORIZE_CLIENT_IDS, e))?;
    }
    let callback_path = raw.auth_authorize_callback_path.as_deref().map(str::trim);
    if let Some(p) = callback_path {
        CallbackPath::parse(p).map_err(|e| invalid(AUTHORIZE_CALLBACK_PATH, e))?;
    }
    let mut authorize = Authorize::new();
    for (provider, endpoint) in endpoints {
        let client_ids: Vec<&str> = ids
            .iter()
            .filter(|(p, _)| *p == provider)
            .map(|(_, id)| *id)
            .collect();
        if client_ids.is_empty() {
            return Err(invalid(
                AUTHORIZE_CLIENT_IDS,
                format!(
                    "lists no client id for provider `{}`: add {0}=<client id>",
                    authrelay_client::one_line(provider, 64)
                ),
            ));
        }
        let settings = AuthorizeProvider::new(provider, endpoint, &client_ids, callback_path)
            .map_err(|e| invalid(AUTHORIZE_ENDPOINTS, e))?;
        if authorize.insert(provider.to_owned(), settings).is_some() {
            return Err(invalid(
                AUTHORIZE_ENDPOINTS,
                format!("names provider `{provider}` twice"),
            ));
        }
    }
    Ok(authorize)
}

/// Reads the secret variables only, for commands that need no more (`sign`, `inspect`).
pub fn secrets_from_env() -> Result<Secrets, ConfigError> {
    secrets_from_iter(process_env()?)
}

/// [`secrets_from_env`] over any set of variables.
pub fn secrets_from_iter(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Secrets, ConfigError> {
    parse_secrets(&RawEnv::read(vars)?)
}

/// `AUTH_SECRET` and its rotation slots, newest first (the order Auth.js encrypts with).
fn parse_secrets(raw: &RawEnv) -> Result<Secrets, ConfigError> {
    if raw.auth_secret.is_none() {
        return Err(ConfigError::Missing {
            name: "AUTH_SECRET",
            hint: "set it to a random string of at least 32 characters (make one with `authrelay secret`), or try `authrelay serve --dev`",
        });
    }
    let mut gathered = Gathered::default();
    for var in VARS.iter().rev().filter(|v| v.kind == VarKind::Secret) {
        let Some(value) = (var.text)(raw) else {
            continue;
        };
        gathered
            .push(var.name, value)
            .map_err(|refused| match refused {
                Refused::SameAs(other) => ConfigError::DuplicateSecret(other, var.name),
                Refused::Edges => invalid(var.name, EDGES_PROBLEM),
                Refused::Secret(source) => ConfigError::Secret {
                    name: var.name,
                    source,
                },
            })?;
    }
    Ok(gathered.into())
}

/// The settings of the commands that help an operator without a whole configuration
/// (`sign`, `inspect`, `healthcheck`). A value they cannot use counts as unset: these
/// commands only help, and the relay itself refuses such a value when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSettings {
    /// `AUTH_STATE_MAX_AGE` in seconds as set (not checked against the range the relay
    /// accepts), else [`DEFAULT_STATE_MAX_AGE`].
    pub state_max_age: u64,
    /// `PORT` as written, else [`DEFAULT_PORT`].
    pub port: String,
}

impl CommandSettings {
    /// Reads the process environment; a value that is not UTF-8 counts as unset.
    pub fn from_env() -> Self {
        Self::from_vars(
            process_vars().filter_map(|(name, value)| Some((name.to_owned(), value.ok()?))),
        )
    }

    /// Reads any set of variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        // Every field of `RawEnv` is optional text, which any set of variables fills.
        let raw = RawEnv::read(vars).unwrap_or_default();
        Self {
            state_max_age: raw
                .auth_state_max_age
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(DEFAULT_STATE_MAX_AGE),
            port: raw.port.unwrap_or_else(|| DEFAULT_PORT.to_string()),
        }
    }
}

fn parse_bool(name: &'static str, v: Option<&str>) -> Result<bool, ConfigError> {
    match v.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(invalid(name, "must be true or false")),
    }
}

fn parse_public_url(v: Option<&str>) -> Result<(Url, String), ConfigError> {
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
    if url.scheme() == "http" && !super::is_loopback_host(host) {
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

fn parse_number<T: std::str::FromStr>(
    name: &'static str,
    v: &str,
    what: &str,
) -> Result<T, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| invalid(name, format!("must be {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn each_variable_of_the_table_fills_its_own_field_and_no_other() {
        for var in VARS {
            let raw = RawEnv::read(vars(&[(var.name, "text")])).unwrap();
            for other in VARS {
                let want = (other.name == var.name).then_some("text");
                assert_eq!(
                    (other.text)(&raw),
                    want,
                    "{} set, {} read",
                    var.name,
                    other.name
                );
            }
        }
    }

    fn authorize_config(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let mut all = vec![
            ("AUTH_SECRET", "a-secret-a-secret-a-secret-a-secret-00"),
            ("AUTH_URL", "https://auth.example.com"),
            (
                "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                "https://*.preview.example.com",
            ),
        ];
        all.extend_from_slice(pairs);
        single_app(vars(&all)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_authorize_route_is_read_from_the_environment() {
        let c = authorize_config(&[
            (
                "AUTH_AUTHORIZE_ENDPOINTS",
                "github=https://github.com/login/oauth/authorize, google=https://accounts.google.com/o/oauth2/v2/auth",
            ),
            (
                "AUTH_AUTHORIZE_CLIENT_IDS",
                "github=Iv1.a,github=Iv1.b,google=123-x.apps.googleusercontent.com",
            ),
            ("AUTH_AUTHORIZE_CALLBACK_PATH", "/auth/{provider}/callback"),
        ])
        .unwrap();
        let github = &c.authorize["github"];
        assert_eq!(github.client_ids, ["Iv1.a", "Iv1.b"]);
        assert_eq!(
            github.endpoint.as_str(),
            "https://github.com/login/oauth/authorize"
        );
        assert!(github
            .callback_path
            .matches("/auth/github/callback", "github"));
        assert_eq!(c.authorize["google"].client_ids.len(), 1);
        assert!(authorize_config(&[]).unwrap().authorize.is_empty());
        for (pairs, want) in [
            (
                vec![("AUTH_AUTHORIZE_CLIENT_IDS", "github=x")],
                "AUTH_AUTHORIZE_CLIENT_IDS is set, but AUTH_AUTHORIZE_ENDPOINTS is not",
            ),
            (
                vec![("AUTH_AUTHORIZE_ENDPOINTS", "github=https://g.example/a")],
                "AUTH_AUTHORIZE_CLIENT_IDS lists no client id for provider `github`",
            ),
            (
                vec![
                    ("AUTH_AUTHORIZE_ENDPOINTS", "github=http://g.example/a"),
                    ("AUTH_AUTHORIZE_CLIENT_IDS", "github=x"),
                ],
                "must be https",
            ),
            (
                vec![
                    ("AUTH_AUTHORIZE_ENDPOINTS", "github=https://g.example/a"),
                    ("AUTH_AUTHORIZE_CLIENT_IDS", "gitlab=x"),
                ],
                "names provider `gitlab`",
            ),
            (
                vec![
                    ("AUTH_AUTHORIZE_ENDPOINTS", "https://g.example/a"),
                    ("AUTH_AUTHORIZE_CLIENT_IDS", "github=x"),
                ],
                "provider=value pairs",
            ),
            (
                vec![
                    ("AUTH_AUTHORIZE_ENDPOINTS", "github=https://g.example/a"),
                    ("AUTH_AUTHORIZE_CLIENT_IDS", "github=x"),
                    ("AUTH_AUTHORIZE_CALLBACK_PATH", "auth/callback"),
                ],
                "must start with '/'",
            ),
        ] {
            let err = authorize_config(&pairs).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn the_table_says_which_variables_a_config_file_replaces() {
        let single: Vec<&str> = VARS
            .iter()
            .filter(|v| v.kind.single_app())
            .map(|v| v.name)
            .collect();
        assert_eq!(
            single,
            [
                "AUTH_SECRET",
                "AUTH_SECRET_1",
                "AUTH_SECRET_2",
                "AUTH_SECRET_3",
                "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                "AUTH_AUTHORIZE_ENDPOINTS",
                "AUTH_AUTHORIZE_CLIENT_IDS",
                "AUTH_AUTHORIZE_CALLBACK_PATH",
            ]
        );
        let set: HashMap<String, String> = vars(&[("PORT", "1"), ("AUTH_SECRET_2", "x")])
            .into_iter()
            .collect();
        assert_eq!(single_app_var_set(&set), Some("AUTH_SECRET_2"));
    }

    #[test]
    fn a_blank_variable_is_refused_but_an_empty_config_file_name_means_none() {
        let raw = RawEnv::read(vars(&[(CONFIG_VAR, ""), ("PORT", " ")])).unwrap();
        assert_eq!(
            raw.refuse_blank().unwrap_err().to_string(),
            "PORT is set but empty: give it a value or unset it"
        );
        let raw = RawEnv::read(vars(&[(CONFIG_VAR, "")])).unwrap();
        assert!(raw.refuse_blank().is_ok());
    }

    #[test]
    fn secrets_are_newest_first_in_authjs_order() {
        let s = secrets_from_iter(vars(&[
            ("AUTH_SECRET", "s0-s0-s0-s0-s0-s0-s0-s0-s0-s0-s0-s0"),
            ("AUTH_SECRET_1", "s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1"),
            ("AUTH_SECRET_3", "s3-s3-s3-s3-s3-s3-s3-s3-s3-s3-s3-s3"),
        ]))
        .unwrap();
        assert_eq!(s.names(), ["AUTH_SECRET_3", "AUTH_SECRET_1", "AUTH_SECRET"]);
        assert!(s.signing().expose_secret().starts_with("s3"));
        assert!(!format!("{s:?}").contains("s3-s3"));
    }

    #[test]
    fn commands_fall_back_to_the_defaults_for_values_they_cannot_use() {
        let unset = CommandSettings::from_vars(Vec::new());
        assert_eq!(
            unset,
            CommandSettings {
                state_max_age: DEFAULT_STATE_MAX_AGE,
                port: DEFAULT_PORT.to_string(),
            }
        );
        let garbage = CommandSettings::from_vars(vars(&[("AUTH_STATE_MAX_AGE", "15m")]));
        assert_eq!(garbage.state_max_age, DEFAULT_STATE_MAX_AGE);
        let set =
            CommandSettings::from_vars(vars(&[("AUTH_STATE_MAX_AGE", " 5 "), ("PORT", " 8080 ")]));
        assert_eq!(
            set,
            CommandSettings {
                state_max_age: 5,
                port: " 8080 ".to_owned(),
            }
        );
    }
}
