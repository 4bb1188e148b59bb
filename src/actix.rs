//! The actix-web adapter: an actix request becomes a [`Request`] for the request path
//! ([`Relay::handle`]), and its [`Answer`] becomes an actix response. Nothing else.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;

use crate::answer::{self, Answer};
use crate::relay::Refusal;
use crate::request::{BodyError, Headers, Listener, Method, Relay, Request};

/// The port of the metrics-only listener, when there is one.
#[derive(Debug, Clone, Copy)]
pub struct MetricsPort(pub Option<u16>);

/// Every request: translated, answered by the request path, translated back.
pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    relay: web::Data<Arc<Relay>>,
    metrics_port: web::Data<MetricsPort>,
) -> HttpResponse {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let listener = match metrics_port.0 {
        Some(p) if req.app_config().local_addr().port() == p => Listener::Metrics,
        _ => Listener::Main,
    };
    let request = Request {
        method: Method::from_name(req.method().as_str()),
        path: req.path(),
        query: req.query_string(),
        headers: Headers {
            host: header(header::HOST),
            forwarded_host: header(header::HeaderName::from_static("x-forwarded-host")),
            accept: header(header::ACCEPT),
            content_type: header(header::CONTENT_TYPE),
            content_length: header(header::CONTENT_LENGTH),
        },
        listener,
    };
    to_response(
        relay
            .handle(request, |limit| read_body(payload, limit))
            .await,
    )
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

/// Turns an [`Answer`] into an actix response.
pub fn to_response(a: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = HttpResponse::build(status);
    for (name, value) in a.headers {
        // No value is copied: a fixed one is shared, an owned one (a Location) handed over.
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
