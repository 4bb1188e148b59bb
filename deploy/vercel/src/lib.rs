//! authrelay on Vercel: a thin adapter from a Vercel Rust function's HTTP request to the
//! relay's decision ([`authrelay::service::decide`] over [`authrelay::relay::decide`]) and
//! back through [`authrelay::answer`].
//!
//! It builds the [`CallbackRequest`] exactly as the actix service does (`src/routes.rs`):
//! the `{provider}` path segment as received, the raw query string, the body of a POST read up to
//! [`MAX_BODY`] bytes (more, or a broken body, is `body_too_large`), `Content-Type`, the
//! `Host` header (or the first `X-Forwarded-Host` value when `AUTH_TRUST_HOST` is set),
//! and `Accept` for JSON refusals. So both answer the same request with the same bytes.
//!
//! Routing. `vercel.json` rewrites `/api/auth/callback/:provider`, `/healthz` and `/readyz`
//! to the one function and adds [`PATH_PARAM`] (the original path) to the query, because a
//! rewritten request may reach the function under the function's own path. The adapter
//! routes on the request path when it is one of the relay's routes, else on
//! [`PATH_PARAM`], and always removes [`PATH_PARAM`] from the query before the decision,
//! so that it is never forwarded to a preview.
//!
//! Configuration is read once per cold start ([`Relay::from_env`]). A deployment whose
//! configuration is invalid is not a bad request: every route answers 503 with
//! `{"error":"configuration_error"}`, and the one-line reason is logged at start.

use std::borrow::Cow;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use authrelay::answer::{self, Answer, COMMON_HEADERS};
use authrelay::config::{Config, LogFormat};
use authrelay::relay::{CallbackMethod, CallbackRequest, Outcome, Refusal};
use authrelay::service::{self, Apps};
use http_body_util::BodyExt as _;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

pub use authrelay::routes::MAX_BODY;

/// The query parameter the rewrites in `vercel.json` use to carry the original path.
pub const PATH_PARAM: &str = "__authrelay_path";

/// The relay's state for the life of a function instance: the app it serves (one, from
/// the environment), or why there is none.
pub struct Relay {
    apps: Result<Apps, String>,
}

impl Relay {
    /// Reads the configuration from the process environment (once per cold start).
    pub fn from_env() -> Self {
        // `std::env::vars` panics on a non-UTF-8 value; this reads only the relay's
        // variables and turns a bad one into a configuration error.
        match authrelay::config::process_env() {
            Ok(vars) => Self::from_vars(vars),
            Err(e) => Self {
                apps: Err(e.to_string()),
            },
        }
    }

    /// Reads the configuration from any set of variables (tests pass a map).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            apps: Config::from_vars(vars)
                .map(Apps::single)
                .map_err(|e| e.to_string()),
        }
    }

    /// A relay over an already-parsed configuration.
    pub fn from_config(config: Config) -> Self {
        Self {
            apps: Ok(Apps::single(config)),
        }
    }

    /// The configuration, when it is valid.
    pub fn config(&self) -> Option<&Config> {
        self.apps.as_ref().ok().map(Apps::first)
    }

    /// Why the configuration is invalid, in one line without any secret.
    pub fn config_error(&self) -> Option<&str> {
        self.apps.as_ref().err().map(String::as_str)
    }

    /// Installs logging (`LOG_FORMAT`, `RUST_LOG`, on standard error, as the service does)
    /// and logs the configuration error, if there is one.
    pub fn init_logging(&self) {
        let format = match self.config() {
            Some(c) => c.log_format,
            None => match std::env::var("LOG_FORMAT").as_deref().map(str::trim) {
                Ok("json") => LogFormat::Json,
                _ => LogFormat::Pretty,
            },
        };
        authrelay::telemetry::init(format);
        if let Some(e) = self.config_error() {
            // The same line `authrelay serve` prints before it refuses to start.
            eprintln!("authrelay: configuration error: {e}");
            tracing::error!(error = %e, "configuration error: every request answers 503");
        }
    }
}

/// A route of the relay.
enum Route<'a> {
    Healthz,
    Readyz,
    /// The app and the raw `{provider}` segment.
    Callback(&'a Config, &'a str),
    NotFound,
}

fn route<'a>(apps: &'a Apps, path: &'a str) -> Route<'a> {
    match path {
        "/healthz" => Route::Healthz,
        "/readyz" => Route::Readyz,
        _ => match apps.route(path) {
            service::Route::Callback(app, provider) => Route::Callback(app, provider),
            service::Route::None => Route::NotFound,
        },
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn header_str<B>(req: &Request<B>, name: impl header::AsHeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `Host`, or with `AUTH_TRUST_HOST` the first `X-Forwarded-Host` value: as the service.
fn request_host<B>(req: &Request<B>, trust_host: bool) -> Option<&str> {
    authrelay::relay::request_host(
        header_str(req, header::HOST),
        header_str(req, "x-forwarded-host"),
        trust_host,
    )
}

/// Turns a framework-neutral [`Answer`] into a response, as the service's `to_response`.
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

fn plain(status: u16, content_type: &'static str, body: String) -> Answer {
    let mut headers: Vec<(&'static str, Cow<'static, str>)> = COMMON_HEADERS
        .iter()
        .map(|&(k, v)| (k, Cow::Borrowed(v)))
        .collect();
    headers.push(("content-type", Cow::Borrowed(content_type)));
    Answer {
        status,
        headers,
        body,
    }
}

/// The answer of a deployment whose configuration is invalid: 503, not a 4xx, since no
/// request could have done better.
pub fn configuration_error() -> Answer {
    plain(
        503,
        "application/json",
        serde_json::json!({ "error": "configuration_error" }).to_string(),
    )
}

fn method_not_allowed(json: bool) -> Response<String> {
    let mut r = to_response(answer::refusal(Refusal::MethodNotAllowed, json));
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    r
}

/// Handles one request. Generic over the body so that tests can call it in-process; the
/// function passes `vercel_runtime::Request`.
pub async fn handle<B>(relay: &Relay, req: Request<B>) -> Response<String>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let apps = match &relay.apps {
        Ok(apps) => apps,
        Err(_) => return to_response(configuration_error()),
    };
    let json = answer::wants_json(header_str(&req, header::ACCEPT));
    let (carried, query) = split_query(req.uri().query().unwrap_or(""));
    // Owned: `Apps::route` ties the app it returns to the path's lifetime, and the
    // request is consumed to read its body.
    let path = req.uri().path().to_owned();
    let route = match route(apps, &path) {
        Route::NotFound => carried
            .as_deref()
            .map_or(Route::NotFound, |p| route(apps, p)),
        found => found,
    };
    let (app, provider) = match route {
        // The provider segment as received, not decoded: as the service, which refuses
        // anything but a plain provider id.
        Route::Callback(app, provider) => (app, provider.to_owned()),
        // As the service: another method on a health path is simply not found.
        Route::Healthz | Route::Readyz if req.method() != Method::GET => {
            return to_response(answer::refusal(Refusal::NotFound, json));
        }
        Route::Healthz => {
            return to_response(plain(200, "text/plain; charset=utf-8", "ok\n".to_owned()))
        }
        Route::Readyz => return to_response(readyz(apps)),
        Route::NotFound => return to_response(answer::refusal(Refusal::NotFound, json)),
    };
    let method = match *req.method() {
        Method::GET | Method::HEAD => CallbackMethod::Get,
        Method::POST => CallbackMethod::Post,
        _ => return method_not_allowed(json),
    };
    let content_type = header_str(&req, header::CONTENT_TYPE).map(str::to_owned);
    let host = request_host(&req, app.trust_host).map(str::to_owned);
    let body = match method {
        CallbackMethod::Post => {
            match http_body_util::Limited::new(req.into_body(), MAX_BODY)
                .collect()
                .await
            {
                Ok(collected) => collected.to_bytes().to_vec(),
                Err(_) => {
                    let outcome = Outcome {
                        app: Some(app.name.clone()),
                        ..Outcome::refused(Refusal::BodyTooLarge)
                    };
                    return finish(started, outcome, json);
                }
            }
        }
        CallbackMethod::Get => Vec::new(),
    };
    let callback = CallbackRequest {
        method,
        provider: &provider,
        query: &query,
        body: &body,
        content_type: content_type.as_deref(),
        request_host: host.as_deref(),
    };
    let outcome = service::decide(apps, app, &callback, now());
    finish(started, outcome, json)
}

/// `/readyz`, as the service answers it. A function instance reads its configuration once,
/// so its generation is always 1.
fn readyz(apps: &Apps) -> Answer {
    plain(200, "application/json", apps.readiness(1).to_string())
}

fn finish(started: Instant, outcome: Outcome, json: bool) -> Response<String> {
    let response = to_response(answer::answer(&outcome, json));
    let elapsed = started.elapsed();
    outcome.log(elapsed);
    response
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
