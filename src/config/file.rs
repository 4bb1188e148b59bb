//! Where the configuration comes from, and the config file of several apps.
//!
//! Without a config file the relay serves one app (`default`) from the environment.
//! With one (`AUTHRELAY_CONFIG` or `serve --config FILE`) it serves one app per
//! `[[apps]]` table, each with its own base path, secrets and allowlist.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use authrelay_client::pattern::Allowlist;
use serde::Deserialize;

use super::env::single_app_var_set;
use super::secrets::{Gathered, Refused, EDGES_PROBLEM};
use super::{
    check_state_max_age, process_env, AuthorizeProvider, Config, ConfigError, Secrets, Settings,
};
use crate::apps::Apps;

/// The variable that names a config file.
pub const CONFIG_VAR: &str = "AUTHRELAY_CONFIG";

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The environment alone: one app.
    Env,
    /// A TOML file plus the secret variables it names.
    File(PathBuf),
}

impl Source {
    /// `--config FILE` wins over `AUTHRELAY_CONFIG`; with neither, the environment.
    pub fn choose(flag: Option<PathBuf>) -> Self {
        match flag.or_else(|| {
            std::env::var_os(CONFIG_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        }) {
            Some(p) => Source::File(p),
            None => Source::Env,
        }
    }

    /// Reads the apps from this source and the process environment.
    pub fn load(&self) -> Result<Apps, ConfigError> {
        match self {
            Source::Env => Ok(Apps::single(Config::from_env()?)),
            Source::File(path) => {
                let env = process_env()?;
                let text = std::fs::read_to_string(path)
                    .map_err(|e| file_error(path, format!("cannot be read: {e}")))?;
                let lookup = |name: &str| -> Result<Option<String>, ConfigError> {
                    match std::env::var_os(name) {
                        None => Ok(None),
                        Some(v) => v.into_string().map(Some).map_err(|_| ConfigError::Invalid {
                            name: "secret_env",
                            problem: format!("variable {name} is not valid UTF-8"),
                        }),
                    }
                };
                apps_from_file(path, &text, env, &lookup)
            }
        }
    }
}

fn file_error(path: &Path, problem: impl Into<String>) -> ConfigError {
    ConfigError::File {
        path: authrelay_client::one_line(&path.display().to_string(), 200),
        problem: authrelay_client::one_line(&problem.into(), usize::MAX),
    }
}

/// The file's shape. Unknown keys are errors: a misspelt key must not silently fall back
/// to a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    apps: Vec<AppTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppTable {
    name: String,
    base_path: String,
    secret_env: Vec<String>,
    allowed_origins: Vec<String>,
    state_max_age: Option<u64>,
    /// The authorize route, by provider id.
    #[serde(default)]
    authorize: std::collections::BTreeMap<String, AuthorizeTable>,
}

/// One provider's `[apps.authorize.<provider>]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeTable {
    authorization_endpoint: String,
    client_ids: Vec<String>,
    callback_path: Option<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn valid_base_path(p: &str) -> bool {
    p.starts_with('/')
        && p.len() > 1
        && !p.ends_with('/')
        && p[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        })
}

/// Whether one base path is the other or lies under it, so that a request path could
/// belong to both.
fn overlaps(a: &str, b: &str) -> bool {
    let under =
        |x: &str, y: &str| x == y || x.strip_prefix(y).is_some_and(|rest| rest.starts_with('/'));
    under(a, b) || under(b, a)
}

/// Secrets read from the variables a `secret_env` list names, newest first. `lookup`
/// returns a variable's value.
fn secrets_from_names(
    names: &[String],
    lookup: &dyn Fn(&str) -> Result<Option<String>, ConfigError>,
) -> Result<Secrets, String> {
    let mut gathered = Gathered::default();
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
        gathered
            .push(name.as_str(), &value)
            .map_err(|refused| match refused {
                Refused::SameAs(other) => format!("{other} and {name} hold the same secret"),
                Refused::Edges => format!("secret variable {name} {EDGES_PROBLEM}"),
                Refused::Secret(e) => format!("secret variable {name} {e}"),
            })?;
    }
    Ok(gathered.into())
}

/// Apps from a config file's text. `env` holds the relay's own variables; `lookup` reads
/// the secret variables the file names.
pub fn apps_from_file(
    path: &Path,
    text: &str,
    env: HashMap<String, String>,
    lookup: &dyn Fn(&str) -> Result<Option<String>, ConfigError>,
) -> Result<Apps, ConfigError> {
    if let Some(var) = single_app_var_set(&env) {
        return Err(file_error(
            path,
            format!("is given, so {var} is not used: set each app's secret_env and allowed_origins in the file, and unset {var}"),
        ));
    }
    let settings = Settings::from_vars(env)?;
    if settings.explicit_base_path {
        return Err(ConfigError::Invalid {
            name: "AUTH_URL",
            problem:
                "must be the relay's origin alone when a config file gives each app its base_path"
                    .into(),
        });
    }
    let file: FileConfig = toml::from_str(text).map_err(|e| {
        // toml's message spans lines (it quotes the source); keep one line.
        let msg = e.message().to_owned();
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        match line {
            Some(l) => file_error(path, format!("line {l}: {msg}")),
            None => file_error(path, msg),
        }
    })?;
    if file.apps.is_empty() {
        return Err(file_error(path, "has no [[apps]] table"));
    }
    let mut apps: Vec<Config> = Vec::new();
    for table in file.apps {
        let err = |problem: String| file_error(path, format!("app `{}`: {problem}", table.name));
        if !valid_name(&table.name) {
            return Err(file_error(
                path,
                "an app's name must be 1-64 characters of a-z, 0-9, '-' and '_'",
            ));
        }
        if !valid_base_path(&table.base_path) {
            return Err(err(format!(
                "base_path `{}` must start with '/', have no trailing '/', and only plain segments",
                table.base_path
            )));
        }
        if table.secret_env.is_empty() {
            return Err(err(
                "secret_env lists no variable: each app needs at least one secret".into(),
            ));
        }
        if table.allowed_origins.is_empty() {
            return Err(err("allowed_origins is empty: there is no allow-all".into()));
        }
        let secrets = secrets_from_names(&table.secret_env, lookup).map_err(err)?;
        let allowlist = Allowlist::parse(&table.allowed_origins.join(","))
            .map_err(|e| err(format!("allowed_origins: {e}")))?;
        let max_age = match table.state_max_age {
            Some(n) => check_state_max_age(n).map_err(|e| err(format!("state_max_age {e}")))?,
            None => settings.state_max_age,
        };
        if let Some(other) = apps.iter().find(|a| a.name == table.name) {
            return Err(file_error(
                path,
                format!("two apps are named `{}`", other.name),
            ));
        }
        if let Some(other) = apps
            .iter()
            .find(|a| overlaps(&a.base_path, &table.base_path))
        {
            return Err(err(format!(
                "base_path `{}` overlaps app `{}`'s `{}`",
                table.base_path, other.name, other.base_path
            )));
        }
        if let Some(other) = apps.iter().find(|a| a.secrets.shares_any_with(&secrets)) {
            return Err(err(format!(
                "shares a secret with app `{}`: apps are isolated only if each has its own",
                other.name
            )));
        }
        let mut config = Config::for_app(
            &table.name,
            &settings,
            secrets,
            allowlist,
            &table.base_path,
            max_age,
        );
        for (provider, t) in &table.authorize {
            let ids: Vec<&str> = t.client_ids.iter().map(String::as_str).collect();
            let settings = AuthorizeProvider::new(
                provider,
                &t.authorization_endpoint,
                &ids,
                t.callback_path.as_deref(),
            )
            .map_err(|e| err(format!("authorize: {e}")))?;
            config.authorize.insert(provider.clone(), settings);
        }
        apps.push(config);
    }
    Ok(Apps::from_configs(apps))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "app-a-secret-0123456789abcdef012345";
    const B: &str = "app-b-secret-0123456789abcdef012345";

    fn env() -> HashMap<String, String> {
        [("AUTH_URL", "https://auth.example.com")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn lookup(name: &str) -> Result<Option<String>, ConfigError> {
        Ok(match name {
            "A_SECRET" => Some(A.to_owned()),
            "B_SECRET" => Some(B.to_owned()),
            "A_COPY" => Some(A.to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        })
    }

    fn load(text: &str) -> Result<Apps, String> {
        apps_from_file(Path::new("relay.toml"), text, env(), &lookup).map_err(|e| e.to_string())
    }

    const TWO: &str = r#"
[[apps]]
name = "web"
base_path = "/web/api/auth"
secret_env = ["A_SECRET"]
allowed_origins = ["https://web-*.preview.example.com"]

[[apps]]
name = "admin"
base_path = "/admin/auth"
secret_env = ["B_SECRET"]
allowed_origins = ["https://admin-*.preview.example.com"]
state_max_age = 300
"#;

    #[test]
    fn each_app_configures_its_own_authorize_route() {
        let text = format!(
            "{TWO}\n[apps.authorize.github]\nauthorization_endpoint = \"https://github.com/login/oauth/authorize\"\nclient_ids = [\"Iv1.admin\"]\ncallback_path = \"/auth/{{provider}}/callback\"\n"
        );
        let apps = load(&text).unwrap();
        let (web, admin) = (&apps.apps()[0], &apps.apps()[1]);
        assert!(web.authorize.is_empty());
        assert_eq!(admin.authorize["github"].client_ids, ["Iv1.admin"]);
        assert!(apps.authorize("/admin/auth/authorize/github").is_some());
        assert!(apps.authorize("/web/api/auth/authorize/github").is_none());
        for (table, want) in [
            (
                "[apps.authorize.github]\nauthorization_endpoint = \"https://g.example/a\"\nclient_ids = []\n",
                "app `admin`: authorize: provider `github`: no client id",
            ),
            (
                "[apps.authorize.github]\nauthorization_endpoint = \"https://g.example/a?state=x\"\nclient_ids = [\"x\"]\n",
                "must not set `state`",
            ),
            (
                "[apps.authorize.github]\nauthorization_endpoint = \"https://g.example/a\"\nclient_ids = [\"x\"]\ncalback_path = \"/x\"\n",
                "unknown field",
            ),
            (
                "[apps.authorize.\"bad id\"]\nauthorization_endpoint = \"https://g.example/a\"\nclient_ids = [\"x\"]\n",
                "provider id `bad id`",
            ),
        ] {
            let err = load(&format!("{TWO}\n{table}")).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    #[test]
    fn a_file_gives_each_app_its_base_path_secrets_and_allowlist() {
        let apps = load(TWO).unwrap();
        assert_eq!(apps.apps().len(), 2);
        let web = &apps.apps()[0];
        assert_eq!(
            web.callback_url("github"),
            "https://auth.example.com/web/api/auth/callback/github"
        );
        assert_eq!(apps.apps()[1].state_max_age, 300);
        assert!(
            matches!(apps.callback("/admin/auth/callback/google"), Some((c, "google")) if c.name == "admin")
        );
        assert!(apps.callback("/web/api/auth/callback/x/y").is_none());
        assert!(apps.callback("/api/auth/callback/github").is_none());
    }

    #[test]
    fn bad_files_are_refused_with_one_clear_line() {
        // Each case is TWO with one text replaced, and the error it must give.
        let replaced = [
            ("/admin/auth", "/web/api/auth", "overlaps app `web`"),
            ("/admin/auth", "/web", "overlaps app `web`"),
            ("\"admin\"", "\"web\"", "two apps are named `web`"),
            ("[\"B_SECRET\"]", "[]", "each app needs at least one secret"),
            (
                "B_SECRET",
                "UNSET_SECRET",
                "secret variable UNSET_SECRET is not set",
            ),
            (
                "B_SECRET",
                "EMPTY",
                "secret variable EMPTY is set but empty",
            ),
            ("B_SECRET", "A_COPY", "shares a secret with app `web`"),
            (
                "state_max_age",
                "state_max_agee",
                "unknown field `state_max_agee`",
            ),
            (
                "state_max_age = 300",
                "state_max_age = 5",
                "state_max_age must be between",
            ),
            (
                "https://admin-*.preview.example.com",
                "https://*.vercel.app",
                "allowed_origins",
            ),
            ("/admin/auth", "admin/auth", "must start with '/'"),
            ("/admin/auth", "/admin/auth/", "no trailing '/'"),
            ("/admin/auth", "/admin/../auth", "only plain segments"),
            (
                "allowed_origins = [\"https://admin-*.preview.example.com\"]",
                "allowed_origins = []",
                "no allow-all",
            ),
            (
                "\"B_SECRET\"",
                "\"app-b-secret pasted by mistake\"",
                "secret_env entry 1 is not a variable name",
            ),
        ]
        .map(|(from, to, want)| (TWO.replace(from, to), want));
        let whole = [
            ("apps = []", "has no [[apps]] table"),
            ("[[apps]\nname=", "relay.toml"),
        ]
        .map(|(text, want)| (text.to_owned(), want));
        let cases = replaced.into_iter().chain(whole);
        for (text, want) in cases {
            let err = load(&text).unwrap_err();
            assert!(err.contains(want), "{want}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                !err.contains(A) && !err.contains(B) && !err.contains("pasted"),
                "{err}"
            );
        }
    }

    #[test]
    fn single_app_variables_next_to_a_file_are_refused() {
        for (var, value, want) in [
            ("AUTH_SECRET", A, "AUTH_SECRET is not used"),
            (
                "AUTH_URL",
                "https://auth.example.com/api/auth",
                "AUTH_URL must be the relay's origin alone",
            ),
        ] {
            let mut e = env();
            e.insert(var.into(), value.into());
            let err = apps_from_file(Path::new("f.toml"), TWO, e, &lookup)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
