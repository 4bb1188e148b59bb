//! Framework-neutral HTTP answers: what status, headers and body each route and each
//! decision gets. The request path ([`crate::request`]) builds them; adapters only copy
//! them into their framework's response.

use std::borrow::Cow;

use crate::apps::Apps;
use crate::page;
use crate::relay::{Decision, Outcome, Refusal};

/// Headers every response carries.
pub const COMMON_HEADERS: [(&str, &str); 2] = [
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
];

/// A response, before any framework sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Headers, lowercase names; [`COMMON_HEADERS`] included. Fixed values are borrowed.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// The body.
    pub body: String,
}

impl Answer {
    fn new(status: u16) -> Self {
        Self {
            status,
            headers: COMMON_HEADERS
                .iter()
                .map(|&(k, v)| (k, Cow::Borrowed(v)))
                .collect(),
            body: String::new(),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of a header, for tests.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

fn plain(status: u16, content_type: &'static str, body: String) -> Answer {
    let mut a = Answer::new(status).header("content-type", content_type);
    a.body = body;
    a
}

fn html(status: u16, p: page::Page) -> Answer {
    let mut a = Answer::new(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", p.csp)
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY");
    a.body = p.html;
    a
}

/// Whether an `Accept` header asks for JSON rather than HTML.
pub fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// The refusal answer: JSON when asked for, else the HTML page.
pub fn refusal(refusal: Refusal, json: bool) -> Answer {
    refusal_for(refusal, json, None, None)
}

/// The refusal answer for an app (named on the page and in the JSON), with the fixed
/// advice the decision chose, if any (on the page and as the JSON's `advice`).
pub fn refusal_for(
    refusal: Refusal,
    json: bool,
    app: Option<&str>,
    advice: Option<&'static str>,
) -> Answer {
    if json {
        let mut a = Answer::new(refusal.status())
            .header("content-type", "application/json")
            .header("x-content-type-options", "nosniff");
        let mut body = serde_json::json!({ "error": refusal.code(), "message": refusal.message() });
        if let Some(app) = app.filter(|a| *a != crate::config::DEFAULT_APP) {
            body["app"] = serde_json::Value::String(app.to_owned());
        }
        if let Some(advice) = advice {
            body["advice"] = serde_json::Value::String(advice.to_owned());
        }
        a.body = body.to_string();
        a
    } else {
        html(
            refusal.status(),
            page::refusal_with_advice(refusal, app, advice),
        )
    }
}

/// The answer for a callback's outcome.
pub fn answer(outcome: &Outcome, json: bool) -> Answer {
    match &outcome.decision {
        // The Location is a parsed target and printable-ASCII parameters
        // (`relay::location`), so it is always a valid header value.
        Decision::Redirect(location) => Answer::new(302).header("location", location.clone()),
        Decision::FormPost {
            action,
            action_origin,
            fields,
        } => html(200, page::form_post(action, action_origin, fields)),
        Decision::Refuse(r) => refusal_for(*r, json, outcome.app.as_deref(), outcome.advice()),
    }
}

/// `GET` or `HEAD /healthz`: the process is up.
pub fn healthz() -> Answer {
    plain(200, "text/plain; charset=utf-8", "ok\n".to_owned())
}

/// `GET` or `HEAD /readyz`: the generation of the loaded configuration and its apps.
pub fn readyz(apps: &Apps, generation: u64) -> Answer {
    plain(
        200,
        "application/json",
        apps.readiness(generation).to_string(),
    )
}

/// `GET /metrics`: Prometheus text.
pub fn metrics(text: String) -> Answer {
    plain(
        200,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        text,
    )
}

/// A route asked with a method it does not take; `allow` lists those it does (a
/// callback: `GET, POST`; an authorize path: `GET, HEAD`).
pub fn method_not_allowed(json: bool, allow: &'static str) -> Answer {
    refusal(Refusal::MethodNotAllowed, json).header("allow", allow)
}

/// The answer of a deployment whose configuration is invalid: 503, not a 4xx, since no
/// request could have done better; JSON when asked for, else the HTML page. It says
/// nothing of the configuration.
pub fn configuration_error(json: bool) -> Answer {
    if json {
        plain(
            503,
            "application/json",
            serde_json::json!({ "error": "configuration_error" }).to_string(),
        )
    } else {
        html(503, page::configuration_error())
    }
}
