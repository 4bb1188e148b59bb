//! An app's authorize route (`{base}/authorize/{provider}`): per provider, the real
//! authorization endpoint, the client ids that may use it, and the callback-path pattern
//! a return target's path must match.

use std::collections::BTreeMap;

use authrelay_client::target::is_valid_provider_id;
use url::Url;

use super::is_loopback_host;

/// The parameter of an authorize request that names where the browser returns to. The
/// relay consumes it: the provider never sees it.
pub const RETURN_PARAM: &str = "return_to";

/// The default callback-path pattern: any path ending in `/callback/{provider}`, the
/// Auth.js callback route and the one native states are held to.
pub const DEFAULT_CALLBACK_PATH: &str = "*/callback/{provider}";

/// Parameters of an authorize request the relay checks, sets, consumes or refuses: a
/// configured authorization endpoint's own query must not carry them, and a request may
/// write them only exactly so (see `relay::authorize`).
pub const GUARDED_PARAMS: [&str; 7] = [
    "state",
    "client_id",
    "redirect_uri",
    "response_type",
    RETURN_PARAM,
    REQUEST_OBJECT_PARAMS[0],
    REQUEST_OBJECT_PARAMS[1],
];

/// The parameters of a request object (OpenID Connect, RFC 9101 JAR, RFC 9126 PAR),
/// whose own `redirect_uri`, `state` and `response_type` a provider takes over the
/// query's: the relay cannot check them, so an authorize request carrying either is
/// refused.
pub const REQUEST_OBJECT_PARAMS: [&str; 2] = ["request", "request_uri"];

/// A callback-path pattern: a path in which `{provider}` stands for the provider id,
/// optionally starting with `*`, which stands for any path before the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackPath {
    pattern: String,
}

impl CallbackPath {
    /// Parses a pattern: `/…` or `*/…`, plain path characters only, each `{` the start
    /// of `{provider}`.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let path = pattern.strip_prefix('*').unwrap_or(pattern);
        if !path.starts_with('/') {
            return Err(format!(
                "callback path `{}` must start with '/' or '*/'",
                authrelay_client::one_line(pattern, 80)
            ));
        }
        let plain = path.replace("{provider}", "");
        let ok = plain.split('/').all(|seg| seg != "." && seg != "..")
            && plain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b))
            && !path.contains("//");
        if !ok {
            return Err(format!(
                "callback path `{}` may hold only '/', letters, digits, '-', '.', '_', '~' and {{provider}}, with no empty, '.' or '..' segments",
                authrelay_client::one_line(pattern, 80)
            ));
        }
        Ok(Self {
            pattern: pattern.to_owned(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether a target's path is this pattern's path for `provider`.
    pub fn matches(&self, path: &str, provider: &str) -> bool {
        let (any_prefix, pattern) = match self.pattern.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, self.pattern.as_str()),
        };
        let want = pattern.replace("{provider}", provider);
        if any_prefix {
            // The rest starts with '/', so the match ends on a segment boundary.
            path.ends_with(&want)
        } else {
            path == want
        }
    }
}

impl Default for CallbackPath {
    fn default() -> Self {
        Self {
            pattern: DEFAULT_CALLBACK_PATH.to_owned(),
        }
    }
}

/// One provider's authorize settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeProvider {
    /// The provider's real authorization endpoint.
    pub endpoint: Url,
    /// The client ids a request may carry.
    pub client_ids: Vec<String>,
    /// The pattern a return target's path must match.
    pub callback_path: CallbackPath,
}

impl AuthorizeProvider {
    /// One provider's settings from their text (the config file's table or the
    /// environment's lists): `provider` is the key they were given under.
    pub fn new(
        provider: &str,
        endpoint: &str,
        client_ids: &[&str],
        callback_path: Option<&str>,
    ) -> Result<Self, String> {
        check_provider(provider)?;
        let in_provider = |e: String| format!("provider `{provider}`: {e}");
        let endpoint = parse_endpoint(endpoint).map_err(in_provider)?;
        if client_ids.is_empty() {
            return Err(in_provider(
                "no client id: list the OAuth client ids the previews use".into(),
            ));
        }
        for id in client_ids {
            check_client_id(id).map_err(in_provider)?;
        }
        let callback_path = match callback_path {
            Some(p) => CallbackPath::parse(p).map_err(in_provider)?,
            None => CallbackPath::default(),
        };
        Ok(Self {
            endpoint,
            client_ids: client_ids.iter().map(|s| (*s).to_owned()).collect(),
            callback_path,
        })
    }
}

/// An app's authorize route, by provider id; empty when the app does not offer it.
pub type Authorize = BTreeMap<String, AuthorizeProvider>;

/// Checks a provider id used as a key of the authorize settings.
pub(super) fn check_provider(id: &str) -> Result<(), String> {
    if is_valid_provider_id(id) {
        Ok(())
    } else {
        Err(format!(
            "provider id `{}` must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'",
            authrelay_client::one_line(id, 80)
        ))
    }
}

/// Parses an authorization endpoint: an absolute `https` URL (`http` on a loopback host
/// only), without user-info or fragment, whose query sets none of the parameters the
/// relay sets or consumes.
pub fn parse_endpoint(raw: &str) -> Result<Url, String> {
    let url =
        Url::parse(raw.trim()).map_err(|e| format!("authorization endpoint is not a URL: {e}"))?;
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        _ => {
            return Err(
                "authorization endpoint must be https (http only on a loopback host)".into(),
            )
        }
    }
    if host.is_empty() || !url.username().is_empty() || url.password().is_some() {
        return Err("authorization endpoint must have a host and no user-info".into());
    }
    if url.fragment().is_some() {
        return Err("authorization endpoint must not have a fragment".into());
    }
    if let Some(name) = url
        .query_pairs()
        .map(|(k, _)| k)
        .find(|k| GUARDED_PARAMS.contains(&k.as_ref()))
    {
        return Err(format!(
            "authorization endpoint's query must not set `{name}`: the preview's library sends it"
        ));
    }
    Ok(url)
}

/// Checks a client id: 1–256 printable ASCII characters without space, `,` or `=`
/// (what the environment's lists can hold).
pub(super) fn check_client_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b',' && b != b'=');
    if ok {
        Ok(())
    } else {
        Err("a client id must be 1-256 printable ASCII characters without space, ',' or '='".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_paths_match_whole_paths_or_whole_suffixes() {
        let d = CallbackPath::default();
        assert!(d.matches("/api/auth/callback/github", "github"));
        assert!(d.matches("/callback/github", "github"));
        assert!(!d.matches("/api/auth/callback/github/x", "github"));
        assert!(!d.matches("/api/auth/xcallback/github", "github"));
        assert!(!d.matches("/api/auth/callback/google", "github"));
        let p = CallbackPath::parse("/auth/{provider}/callback").unwrap();
        assert!(p.matches("/auth/github/callback", "github"));
        assert!(!p.matches("/x/auth/github/callback", "github"));
        assert!(!p.matches("/auth/google/callback", "github"));
        assert!(!p.matches("/", "github"));
        let fixed = CallbackPath::parse("/oauth/done").unwrap();
        assert!(fixed.matches("/oauth/done", "any"));
        for bad in [
            "auth/x", "/a/../b", "/a//b", "/a b", "/a?b", "/a%2fb", "*x", "",
        ] {
            assert!(CallbackPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_are_https_or_loopback_http_and_leave_the_relay_s_parameters_alone() {
        assert!(parse_endpoint("https://github.com/login/oauth/authorize").is_ok());
        assert!(parse_endpoint("https://login.example.com/authorize?prompt=none").is_ok());
        assert!(parse_endpoint("http://127.0.0.1:8080/authorize").is_ok());
        for (bad, want) in [
            ("http://github.com/authorize", "must be https"),
            ("ftp://x.example/authorize", "must be https"),
            ("https://u:p@x.example/authorize", "no user-info"),
            ("https://x.example/authorize#f", "fragment"),
            ("https://x.example/authorize?state=1", "`state`"),
            (
                "https://x.example/authorize?response_type=token",
                "`response_type`",
            ),
            (
                "https://x.example/authorize?request_uri=urn:x",
                "`request_uri`",
            ),
            (
                "https://x.example/authorize?redirect_uri=x",
                "`redirect_uri`",
            ),
            ("not a url", "not a URL"),
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }
}
