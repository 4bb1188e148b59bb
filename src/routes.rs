//! HTTP adapters over [`crate::relay::decide`].

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;

use crate::answer::{self, Answer};
use crate::metrics::Metrics;
use crate::relay::{CallbackMethod, CallbackRequest, Outcome, Refusal};
use crate::service::{self, Apps, Route};

/// The largest callback body read, in bytes.
pub const MAX_BODY: usize = crate::relay::MAX_PARAMS_LEN;

/// How long a callback body may take to arrive once the request head is in. The head has
/// its own deadline (`client_request_timeout`); without this one a client that announces a
/// body and then trickles or stops holds its connection for ever.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Shared state of the running service.
pub struct AppState {
    /// The apps, swapped whole on reload.
    pub apps: ArcSwap<Apps>,
    /// The loaded configuration's generation: 1 at start, +1 per successful reload.
    pub generation: AtomicU64,
    /// The metrics.
    pub metrics: Metrics,
    /// `AUTH_TRUST_HOST`, fixed at start.
    pub trust_host: bool,
    /// The bound metrics port, when `/metrics` has a listener of its own.
    pub metrics_port: Option<u16>,
}

/// Whether a request arrived on the metrics-only listener.
fn on_metrics_port(req: &HttpRequest, state: &AppState) -> bool {
    state
        .metrics_port
        .is_some_and(|p| req.app_config().local_addr().port() == p)
}

fn wants_json(req: &HttpRequest) -> bool {
    answer::wants_json(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Turns a framework-neutral [`Answer`] into an actix response.
pub fn to_response(a: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = HttpResponse::build(status);
    for (name, value) in a.headers {
        // Every value is checked, and none is copied: a fixed one is shared, an owned one
        // (a Location) handed over.
        let bytes = match value {
            Cow::Borrowed(v) => Bytes::from_static(v.as_bytes()),
            Cow::Owned(v) => Bytes::from(v),
        };
        let value = HeaderValue::from_maybe_shared(bytes).ok();
        match (header_name(name), value) {
            (Some(name), Some(v)) => {
                r.insert_header((name, v));
            }
            // Never send a redirect (or anything else) whose header could not be carried
            // faithfully.
            _ => return to_response(answer::refusal(Refusal::TargetInvalid, false)),
        }
    }
    r.body(a.body)
}

/// The header names answers use, without parsing them again for every response.
fn header_name(name: &str) -> Option<header::HeaderName> {
    Some(match name {
        "location" => header::LOCATION,
        "cache-control" => header::CACHE_CONTROL,
        "referrer-policy" => header::REFERRER_POLICY,
        "content-type" => header::CONTENT_TYPE,
        "content-security-policy" => header::CONTENT_SECURITY_POLICY,
        "x-content-type-options" => header::X_CONTENT_TYPE_OPTIONS,
        "x-frame-options" => header::X_FRAME_OPTIONS,
        other => return header::HeaderName::from_bytes(other.as_bytes()).ok(),
    })
}

/// The refusal response: JSON for `Accept: application/json`, else the HTML page.
pub fn refusal_response(refusal: Refusal, json: bool) -> HttpResponse {
    to_response(answer::refusal(refusal, json))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why a body could not be read.
enum BodyError {
    /// More than the limit.
    TooLarge,
    /// The body's framing was broken (a bad chunk size, a connection cut mid-body).
    Malformed,
}

/// Reads at most `limit` bytes of body.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            // actix reports a body over its own payload limit as an overflow.
            Err(actix_web::error::PayloadError::Overflow) => return Err(BodyError::TooLarge),
            Err(_) => return Err(BodyError::Malformed),
        };
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn request_host(req: &HttpRequest, trust_host: bool) -> Option<&str> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    crate::relay::request_host(
        header(header::HOST),
        header(header::HeaderName::from_static("x-forwarded-host")),
        trust_host,
    )
}

/// Every path but the fixed routes: a callback of one of the loaded apps, or a 404.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<Arc<AppState>>,
) -> HttpResponse {
    let started = Instant::now();
    let json = wants_json(&req);
    if on_metrics_port(&req, &state) {
        return refusal_response(Refusal::NotFound, json);
    }
    // One snapshot for the whole request: a reload meanwhile does not affect it.
    let apps = state.apps.load_full();
    let Route::Callback(app, provider) = apps.route(req.path()) else {
        return refusal_response(Refusal::NotFound, json);
    };
    let method = match *req.method() {
        Method::GET | Method::HEAD => CallbackMethod::Get,
        Method::POST => CallbackMethod::Post,
        _ => {
            let mut r = refusal_response(Refusal::MethodNotAllowed, json);
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
            return r;
        }
    };
    let body = match method {
        CallbackMethod::Post => {
            // A body announced over the limit is refused before any of it is read.
            let announced = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let read = if announced.is_some_and(|n| n > MAX_BODY as u64) {
                Ok(Err(BodyError::TooLarge))
            } else {
                tokio::time::timeout(BODY_TIMEOUT, read_body(payload, MAX_BODY)).await
            };
            let checked = match read {
                Ok(Ok(b)) => Ok(b),
                Ok(Err(BodyError::Malformed)) => {
                    Err((Refusal::ParamsMalformed, Some("body_malformed")))
                }
                Ok(Err(BodyError::TooLarge)) => Err((Refusal::BodyTooLarge, None)),
                Err(_elapsed) => Err((Refusal::ParamsMalformed, Some("body_timeout"))),
            };
            match checked {
                Ok(b) => b,
                Err((refusal, detail)) => {
                    let outcome = Outcome {
                        app: Some(app.name.clone()),
                        detail,
                        ..Outcome::refused(refusal)
                    };
                    return finish(&state, started, outcome, json);
                }
            }
        }
        CallbackMethod::Get => Vec::new(),
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let callback = CallbackRequest {
        method,
        provider,
        query: req.query_string(),
        body: &body,
        content_type,
        request_host: request_host(&req, state.trust_host),
    };
    let outcome = service::decide(&apps, app, &callback, now());
    finish(&state, started, outcome, json)
}

fn finish(state: &AppState, started: Instant, outcome: Outcome, json: bool) -> HttpResponse {
    let response = to_response(answer::answer(&outcome, json));
    let elapsed = started.elapsed();
    state.metrics.observe(&outcome, elapsed.as_secs_f64());
    outcome.log(elapsed);
    response
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// `GET /readyz`: a configuration is loaded and the relay can serve callbacks.
pub async fn readyz(state: web::Data<Arc<AppState>>) -> HttpResponse {
    let generation = state.generation.load(Ordering::SeqCst);
    HttpResponse::Ok().json(state.apps.load().readiness(generation))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(req: HttpRequest, state: web::Data<Arc<AppState>>) -> HttpResponse {
    // With a metrics listener of its own, the public port does not serve metrics.
    if state.metrics_port.is_some() && !on_metrics_port(&req, &state) {
        return refusal_response(Refusal::NotFound, wants_json(&req));
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
