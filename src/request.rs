//! The request path: one HTTP request in, one [`Answer`] out, the same for every adapter.
//!
//! An adapter (actix-web in [`crate::actix`], the Vercel function in `deploy/vercel`)
//! only translates its framework's request into a [`Request`] and a way to read the body,
//! and the [`Answer`] back into its framework's response. Everything between is here:
//! route lookup, method mapping, the body's limit and deadline and what a broken body
//! gets, the decision ([`crate::relay`]), the metrics and the one log line per callback.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use web_time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::answer::{self, Answer};
use crate::apps::Apps;
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;
use crate::relay::{self, CallbackMethod, CallbackRequest, Outcome, Refusal};

/// The largest callback body read, in bytes.
pub const MAX_BODY: usize = relay::MAX_PARAMS_LEN;

/// How long a callback body may take to arrive once the request head is in. Without this
/// deadline a client that announces a body and then trickles or stops holds its
/// connection for ever.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The request method, as far as the relay tells methods apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: answered as `GET` (the server sends no body).
    Head,
    /// `POST`.
    Post,
    /// Any other method.
    Other,
}

impl Method {
    /// The method of this name (methods are case-sensitive).
    pub fn from_name(name: &str) -> Self {
        match name {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            _ => Self::Other,
        }
    }
}

/// Which of the relay's listeners a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Listener {
    /// `PORT`: callbacks, health and (without `METRICS_PORT`) metrics.
    #[default]
    Main,
    /// `METRICS_PORT`: `/metrics` and health only.
    Metrics,
}

/// The request headers the relay reads, as text (a header that is not valid text is
/// absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `Host`.
    pub host: Option<&'a str>,
    /// `X-Forwarded-Host`, believed only with `AUTH_TRUST_HOST`.
    pub forwarded_host: Option<&'a str>,
    /// `Accept`: JSON refusals for `application/json`.
    pub accept: Option<&'a str>,
    /// `Content-Type` of a form post.
    pub content_type: Option<&'a str>,
    /// `Content-Length`: a body announced over the limit is refused unread.
    pub content_length: Option<&'a str>,
}

/// A request, as the adapter hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The path, as received (not decoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The headers the relay reads.
    pub headers: Headers<'a>,
    /// The listener it arrived on.
    pub listener: Listener,
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More than the limit.
    TooLarge,
    /// The body's framing was broken (a bad chunk size, a connection cut mid-body).
    Malformed,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsRoute {
    /// On the main listener, beside the callbacks (no `METRICS_PORT`).
    Main,
    /// Only on the metrics listener (`METRICS_PORT`). A deployment without one, such as
    /// a Vercel function, whose every route is public, serves metrics nowhere.
    OwnListener,
}

/// Where a request goes.
enum Route<'a> {
    Healthz,
    Readyz,
    Metrics,
    /// The app and the raw `{provider}` segment.
    Callback(&'a Config, &'a str),
    /// An authorize path of an app that offers the route: the app and the raw
    /// `{provider}` segment.
    Authorize(&'a Config, &'a str),
    NotFound,
}

/// The running relay: the loaded apps (swapped whole on reload), the metrics, and the
/// settings fixed at start.
pub struct Relay {
    apps: ArcSwap<Apps>,
    generation: AtomicU64,
    metrics: Metrics,
    trust_host: bool,
    metrics_route: MetricsRoute,
}

impl Relay {
    /// A relay serving `apps` (generation 1), with `/metrics` where `metrics_route` says.
    pub fn new(apps: Apps, metrics_route: MetricsRoute) -> Self {
        let metrics = Metrics::new();
        metrics.reloaded(true, 1);
        Self {
            trust_host: apps.first().trust_host,
            apps: ArcSwap::from_pointee(apps),
            generation: AtomicU64::new(1),
            metrics,
            metrics_route,
        }
    }

    /// Swaps in already-loaded apps, or records the failure to load them; requests
    /// already under way finish on the apps they started with. Returns the new
    /// generation.
    pub fn swap(&self, loaded: Result<Apps, ConfigError>) -> Result<u64, ConfigError> {
        match loaded {
            Ok(apps) => {
                self.apps.store(Arc::new(apps));
                let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
                self.metrics.reloaded(true, generation);
                Ok(generation)
            }
            Err(e) => {
                self.metrics
                    .reloaded(false, self.generation.load(Ordering::SeqCst));
                Err(e)
            }
        }
    }

    /// Whether `path` is one of the relay's routes (for any method).
    pub fn is_route(&self, path: &str) -> bool {
        let apps = self.apps.load();
        matches!(path, "/healthz" | "/readyz" | "/metrics")
            || apps.callback(path).is_some()
            || apps.authorize(path).is_some()
    }

    fn route<'a>(&self, apps: &'a Apps, req: &Request<'a>) -> Route<'a> {
        let get_or_head = get_or_head(req.method);
        match req.path {
            // HEAD too: uptime checkers use it.
            "/healthz" if get_or_head => Route::Healthz,
            "/readyz" if get_or_head => Route::Readyz,
            "/metrics" if req.method == Method::Get => match (self.metrics_route, req.listener) {
                (MetricsRoute::OwnListener, Listener::Main) => Route::NotFound,
                _ => Route::Metrics,
            },
            _ if req.listener == Listener::Metrics => Route::NotFound,
            path => match (apps.callback(path), apps.authorize(path)) {
                (Some((app, provider)), _) => Route::Callback(app, provider),
                (None, Some((app, provider))) => Route::Authorize(app, provider),
                (None, None) => Route::NotFound,
            },
        }
    }

    /// Answers one request. `read_body(limit)` reads the body of a POST callback, at most
    /// `limit` bytes; it is called only when the body is needed, within
    /// [`BODY_TIMEOUT`].
    pub async fn handle<F>(&self, req: Request<'_>, read_body: impl FnOnce(usize) -> F) -> Answer
    where
        F: Future<Output = Result<Vec<u8>, BodyError>>,
    {
        let started = Instant::now();
        let json = answer::wants_json(req.headers.accept);
        // One snapshot for the whole request: a reload meanwhile does not affect it.
        let apps = self.apps.load_full();
        match self.route(&apps, &req) {
            Route::Healthz => answer::healthz(),
            Route::Readyz => answer::readyz(&apps, self.generation.load(Ordering::SeqCst)),
            Route::Metrics => answer::metrics(self.metrics.render()),
            Route::NotFound => answer::refusal(Refusal::NotFound, json),
            Route::Callback(app, provider) => {
                let outcome = self.callback(&apps, app, provider, &req, read_body).await;
                let Some(outcome) = outcome else {
                    return answer::method_not_allowed(json, "GET, POST");
                };
                self.answer(&outcome, json, started)
            }
            // GET only (and HEAD, answered as GET): a library sends the browser here.
            Route::Authorize(app, provider) if get_or_head(req.method) => {
                let authorize = relay::AuthorizeRequest {
                    provider,
                    query: req.query,
                    request_host: self.request_host(&req),
                };
                let outcome = relay::authorize(&authorize, app, now());
                self.answer(&outcome, json, started)
            }
            Route::Authorize(..) => answer::method_not_allowed(json, "GET, HEAD"),
        }
    }

    /// The host the request was addressed to ([`relay::request_host`], with this relay's
    /// `AUTH_TRUST_HOST`).
    fn request_host<'r>(&self, req: &Request<'r>) -> Option<&'r str> {
        relay::request_host(
            req.headers.host,
            req.headers.forwarded_host,
            self.trust_host,
        )
    }

    /// The answer for a decided outcome, counted in the metrics and logged.
    fn answer(&self, outcome: &Outcome, json: bool, started: Instant) -> Answer {
        let answer = answer::answer(outcome, json);
        let elapsed = started.elapsed();
        self.metrics.observe(outcome, elapsed.as_secs_f64());
        log_outcome(outcome, elapsed);
        answer
    }

    /// The outcome of a callback, or `None` for a method a callback does not take.
    async fn callback<F>(
        &self,
        apps: &Apps,
        app: &Config,
        provider: &str,
        req: &Request<'_>,
        read_body: impl FnOnce(usize) -> F,
    ) -> Option<Outcome>
    where
        F: Future<Output = Result<Vec<u8>, BodyError>>,
    {
        let method = match req.method {
            Method::Get | Method::Head => CallbackMethod::Get,
            Method::Post => CallbackMethod::Post,
            Method::Other => return None,
        };
        let body = match method {
            CallbackMethod::Post => match read_limited(req.headers.content_length, read_body).await
            {
                Ok(body) => body,
                Err((refusal, detail)) => {
                    return Some(Outcome {
                        app: Some(app.name.clone()),
                        detail,
                        ..Outcome::refused(refusal)
                    })
                }
            },
            CallbackMethod::Get => Vec::new(),
        };
        let callback = CallbackRequest {
            method,
            provider,
            query: req.query,
            body: &body,
            content_type: req.headers.content_type,
            request_host: self.request_host(req),
        };
        Some(relay::decide_among(&callback, app, apps.apps(), now()))
    }
}

/// Whether a method is GET or HEAD, which the relay answers alike.
fn get_or_head(method: Method) -> bool {
    matches!(method, Method::Get | Method::Head)
}

/// Reads a callback body within [`MAX_BODY`] and [`BODY_TIMEOUT`], or says which
/// refusal (and log detail) it gets.
async fn read_limited<F>(
    content_length: Option<&str>,
    read_body: impl FnOnce(usize) -> F,
) -> Result<Vec<u8>, (Refusal, Option<&'static str>)>
where
    F: Future<Output = Result<Vec<u8>, BodyError>>,
{
    // A body announced over the limit is refused before any of it is read.
    let announced = content_length.and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return Err((Refusal::BodyTooLarge, None));
    }
    #[cfg(feature = "server")]
    let read = tokio::time::timeout(BODY_TIMEOUT, read_body(MAX_BODY)).await;
    // Without tokio (a Worker) the platform's edge, not the relay, bounds how long a body
    // may take to arrive.
    #[cfg(not(feature = "server"))]
    let read: Result<_, std::convert::Infallible> = Ok(read_body(MAX_BODY).await);
    match read {
        Ok(Ok(body)) if body.len() <= MAX_BODY => Ok(body),
        Ok(Ok(_)) | Ok(Err(BodyError::TooLarge)) => Err((Refusal::BodyTooLarge, None)),
        Ok(Err(BodyError::Malformed)) => Err((Refusal::ParamsMalformed, Some("body_malformed"))),
        Err(_elapsed) => Err((Refusal::ParamsMalformed, Some("body_timeout"))),
    }
}

/// The clock in Unix seconds: read once per callback and handed to the decision, and by
/// the commands that make or inspect a state. `web_time` is std's clock on the host and
/// JavaScript's `Date.now()` on wasm32, where std's clocks panic.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The one log event per callback or authorize request (the event's message says
/// which). Never code, state or secrets: only what the outcome holds.
fn log_outcome(outcome: &Outcome, elapsed: Duration) {
    let route = if outcome.authorize {
        "authorize"
    } else {
        "callback"
    };
    tracing::info!(
        app = outcome.app.as_deref().unwrap_or(""),
        outcome = outcome.outcome_label(),
        reason = outcome.reason_label(),
        detail = outcome.detail.unwrap_or(""),
        provider = outcome
            .provider
            .as_deref()
            .or(outcome.path_provider.as_deref())
            .unwrap_or("unknown"),
        target_host = outcome.target_host.as_deref().unwrap_or(""),
        format = outcome.format.map_or("none", |f| f.as_str()),
        secret = outcome.secret.as_deref().unwrap_or(""),
        latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "{route}"
    );
    if let Some(other) = &outcome.other_app {
        tracing::debug!(other_app = %other, "state belongs to another app");
    }
}
