//! The invariants every answer of the relay keeps, checked on one answer at a time:
//! never a 5xx; a 3xx only with a `Location` of printable ASCII whose origin a model of
//! the allowlist accepts; a form-post page only for an allowed action; a refusal byte for
//! byte the fixed page (or JSON) for its reason code, so nothing of the request is
//! reflected.

use authrelay::relay::{Hint, Refusal};

use crate::helpers::*;

/// Goes into inputs wherever it can, and must never come back in a refusal.
pub const MARKER: &str = "qqmarkerqq";

/// A model of an allowlist, by hand: whether a bounce may go to a URL.
pub type Model = fn(&url::Url) -> bool;

/// The refusal named by a page or JSON body.
fn refusal_by_code(code: &str) -> Refusal {
    *Refusal::ALL
        .iter()
        .find(|r| r.code() == code)
        .unwrap_or_else(|| panic!("unknown reason code {code:?}"))
}

/// The fixed advice lines a refusal may carry: none, or one chosen by a typed value
/// ([`Hint`], a state format the relay never accepts).
fn fixed_advice() -> Vec<Option<&'static str>> {
    use authrelay_client::keyring::StateFormat;
    vec![
        None,
        Some(Hint::LoopbackTarget.advice()),
        StateFormat::AuthJsLegacy.advice(),
    ]
}

/// Checks a refusal body is exactly the fixed page (or JSON) for its code, with one of the
/// fixed advice lines.
fn assert_fixed_refusal(status: u16, content_type: &str, body: &str, what: &str) {
    assert!(
        !body.contains(MARKER),
        "{what}: input reflected in the refusal"
    );
    if content_type.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON refusal");
        let r = refusal_by_code(v["error"].as_str().unwrap());
        assert_eq!(status, r.status(), "{what}");
        let fixed = fixed_advice().into_iter().map(|advice| {
            let mut want = serde_json::json!({"error": r.code(), "message": r.message()});
            if let Some(advice) = advice {
                want["advice"] = serde_json::Value::String(advice.to_owned());
            }
            want
        });
        assert!(fixed.into_iter().any(|want| v == want), "{what}: {v}");
    } else {
        let start = body.find("<code id=\"reason\">").expect("a refusal page") + 18;
        let end = start + body[start..].find('<').unwrap();
        let r = refusal_by_code(&body[start..end]);
        assert_eq!(status, r.status(), "{what}");
        assert!(
            fixed_advice()
                .into_iter()
                .any(|advice| body == authrelay::page::refusal_with_advice(r, None, advice).html),
            "{what}: {body}"
        );
    }
}

/// What an answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Bounced(String),
    Posted(String),
    Refused(u16),
}

/// Checks the invariants on one reqwest answer and says what it did.
pub async fn check(r: reqwest::Response, allowed: Model, what: &str) -> Seen {
    let status = r.status().as_u16();
    assert!(status < 500, "{what}: answered {status}");
    let location = r.headers().get("location").map(|v| v.as_bytes().to_vec());
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.text().await.unwrap_or_default();
    check_parts(status, location, &content_type, &body, allowed, what)
}

pub fn check_parts(
    status: u16,
    location: Option<Vec<u8>>,
    content_type: &str,
    body: &str,
    allowed: Model,
    what: &str,
) -> Seen {
    assert!(status < 500, "{what}: answered {status}");
    if (300..400).contains(&status) {
        let loc = location.unwrap_or_else(|| panic!("{what}: a {status} without Location"));
        assert!(printable(&loc), "{what}: Location {loc:?}");
        let loc = String::from_utf8(loc).unwrap();
        let url = url::Url::parse(&loc).unwrap_or_else(|e| panic!("{what}: {loc:?}: {e}"));
        assert!(allowed(&url), "{what}: bounced to {loc}");
        assert_eq!(status, 302, "{what}");
        return Seen::Bounced(loc);
    }
    assert!(location.is_none(), "{what}: Location on a {status}");
    if status == 200 {
        let action = form_action(body);
        let url = url::Url::parse(&action).unwrap();
        assert!(allowed(&url), "{what}: form posts to {action}");
        return Seen::Posted(action);
    }
    assert!((400..500).contains(&status), "{what}: status {status}");
    if body.is_empty() && content_type.is_empty() {
        // Refused by the HTTP layer before the relay saw the request (a request line or
        // header that is not HTTP): nothing to reflect.
        return Seen::Refused(status);
    }
    assert_fixed_refusal(status, content_type, body, what);
    Seen::Refused(status)
}
