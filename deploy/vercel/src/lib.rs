//! authrelay on Vercel: a thin adapter from a Vercel Rust function's HTTP request to the
//! relay's request path ([`authrelay::request::Relay::handle`]) and back. It translates
//! types and nothing else, so it answers every request as the actix service does: the
//! same routes and methods (`HEAD` included), the same body limit, deadline and body
//! errors, the same refusals, redirects and pages (`tests/adapter.rs` compares the two).
//! Every path of a function is public, so it serves `/metrics` nowhere, as a binary with
//! `METRICS_PORT` does not on its public port.
//!
//! Routing. `vercel.json` rewrites `/api/auth/callback/:provider`,
//! `/api/auth/authorize/:provider`, `/healthz` and `/readyz` to the one function and adds [`PATH_PARAM`] (the original path) to the query, because
//! a rewritten request may reach the function under the function's own path. The adapter
//! takes the request path when it is one of the relay's routes, else [`PATH_PARAM`], and
//! always removes [`PATH_PARAM`] from the query, so that it is never forwarded to a
//! preview.
//!
//! Configuration is read once per cold start ([`Relay::from_env`]). A deployment whose
//! configuration is invalid is not a bad request: every route answers 503 with
//! `{"error":"configuration_error"}`, and the one-line reason is logged at start.

use authrelay::answer::{self, Answer};
use authrelay::apps::Apps;
use authrelay::config::{Config, LogFormat};
use authrelay::relay::Refusal;
use authrelay::request::{self, BodyError, Headers, Listener, Method, MetricsRoute};
use http_body_util::{BodyExt as _, LengthLimitError};
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

pub use authrelay::request::MAX_BODY;

/// The query parameter the rewrites in `vercel.json` use to carry the original path.
pub const PATH_PARAM: &str = "__authrelay_path";

/// The relay for the life of a function instance (one app, from the environment), or
/// why there is none.
pub struct Relay {
    relay: Result<request::Relay, String>,
    log_format: Option<LogFormat>,
}

impl Relay {
    /// Reads the configuration from the process environment (once per cold start).
    pub fn from_env() -> Self {
        // `std::env::vars` panics on a non-UTF-8 value; this reads only the relay's
        // variables and turns a bad one into a configuration error.
        match authrelay::config::process_env() {
            Ok(vars) => Self::from_vars(vars),
            Err(e) => Self::from_result(Err(e.to_string())),
        }
    }

    /// Reads the configuration from any set of variables (tests pass a map).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self::from_result(Config::from_vars(vars).map_err(|e| e.to_string()))
    }

    /// A relay over an already-parsed configuration.
    pub fn from_config(config: Config) -> Self {
        Self::from_result(Ok(config))
    }

    fn from_result(config: Result<Config, String>) -> Self {
        let log_format = config.as_ref().ok().map(|c| c.log_format);
        Self {
            // A function has no private listener: metrics are served nowhere.
            relay: config.map(|c| request::Relay::new(Apps::single(c), MetricsRoute::OwnListener)),
            log_format,
        }
    }

    /// Why the configuration is invalid, in one line without any secret.
    pub fn config_error(&self) -> Option<&str> {
        self.relay.as_ref().err().map(String::as_str)
    }

    /// Installs logging (`LOG_FORMAT`, `RUST_LOG`, on standard error, as the service does)
    /// and logs the configuration error, if there is one.
    pub fn init_logging(&self) {
        let format = self.log_format.unwrap_or_else(|| {
            match std::env::var("LOG_FORMAT").as_deref().map(str::trim) {
                Ok("json") => LogFormat::Json,
                _ => LogFormat::Pretty,
            }
        });
        authrelay::telemetry::init(format);
        if let Some(e) = self.config_error() {
            // The same line `authrelay serve` prints before it refuses to start.
            eprintln!("authrelay: configuration error: {e}");
            tracing::error!(error = %e, "configuration error: every request answers 503");
        }
    }
}

/// Splits the query into the original path carried by [`PATH_PARAM`] (first occurrence)
/// and the query without any [`PATH_PARAM`] pair, other pairs byte for
/// byte and in order.
fn split_query(query: &str) -> (Option<String>, String) {
    let mut carried = None;
    let mut rest: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        let key = pair.split('=').next().unwrap_or("");
        if key == PATH_PARAM {
            if carried.is_none() {
                // Taken as written, like a request path: `vercel.json` writes it with
                // plain slashes, and a provider segment is never decoded.
                carried = Some(pair.split_once('=').map_or("", |(_, v)| v).to_owned());
            }
        } else {
            rest.push(pair);
        }
    }
    (carried, rest.join("&"))
}

/// Turns an [`Answer`] into a response.
pub fn to_response(a: Answer) -> Response<String> {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = Response::new(a.body);
    *r.status_mut() = status;
    for (name, value) in a.headers {
        match HeaderValue::from_str(value.as_ref()) {
            Ok(v) => {
                r.headers_mut().insert(name, v);
            }
            // Never send a redirect (or anything else) whose header could not be carried
            // faithfully.
            Err(_) => return to_response(answer::refusal(Refusal::TargetInvalid, false)),
        }
    }
    r
}

/// Handles one request. Generic over the body so that tests can call it in-process; the
/// function passes `vercel_runtime::Request`.
pub async fn handle<B>(relay: &Relay, req: Request<B>) -> Response<String>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let relay = match &relay.relay {
        Ok(relay) => relay,
        Err(_) => {
            let accept = req.headers().get("accept").and_then(|v| v.to_str().ok());
            return to_response(answer::configuration_error(answer::wants_json(accept)));
        }
    };
    let (parts, body) = req.into_parts();
    let (carried, query) = split_query(parts.uri.query().unwrap_or(""));
    let path = match carried {
        Some(carried) if !relay.is_route(parts.uri.path()) => carried,
        _ => parts.uri.path().to_owned(),
    };
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let request = request::Request {
        method: Method::from_name(parts.method.as_str()),
        path: &path,
        query: &query,
        headers: Headers {
            host: header(header::HOST.as_str()),
            forwarded_host: header("x-forwarded-host"),
            accept: header(header::ACCEPT.as_str()),
            content_type: header(header::CONTENT_TYPE.as_str()),
            content_length: header(header::CONTENT_LENGTH.as_str()),
        },
        listener: Listener::Main,
    };
    let read_body = |limit| async move {
        match http_body_util::Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes().to_vec()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
            Err(_) => Err(BodyError::Malformed),
        }
    };
    to_response(relay.handle(request, read_body).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carried_path_is_removed_and_the_rest_kept_byte_for_byte() {
        let (p, q) = split_query(
            "code=a%2Bb&__authrelay_path=/api/auth/callback/github&state=x+y&&e&__authrelay_path=/x",
        );
        assert_eq!(p.as_deref(), Some("/api/auth/callback/github"));
        assert_eq!(q, "code=a%2Bb&state=x+y&&e");
        let (p, q) = split_query("__authrelay_path=/healthz");
        assert_eq!(p.as_deref(), Some("/healthz"));
        assert_eq!(q, "");
        let (p, q) = split_query("");
        assert_eq!(p, None);
        assert_eq!(q, "");
        // Only the exact key is ours.
        let (p, q) = split_query("__authrelay_paths=1&x__authrelay_path=2");
        assert_eq!(p, None);
        assert_eq!(q, "__authrelay_paths=1&x__authrelay_path=2");
    }
}
