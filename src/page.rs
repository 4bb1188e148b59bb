//! The pages the relay shows: the form that re-posts a `form_post` callback, the refusal
//! page, and the page of a deployment whose configuration is invalid. Each is
//! self-contained (no external resources) and runs under a CSP that allows only its own
//! inline script or style, by hash.

use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::relay::Refusal;

/// Submits the form. A posted field becomes a named control of the form, and a control
/// named `submit` (or `action`, `elements`…) shadows the form element's own property of
/// that name, so the script reads no property of the form: it finds the form by id on
/// the document (inputs never shadow `document`'s properties) and calls the prototype's
/// `submit` on it.
const AUTO_SUBMIT_SCRIPT: &str =
    "HTMLFormElement.prototype.submit.call(document.getElementById(\"relay\"));";
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}code{background:#f0f1f3;padding:.1rem .3rem;border-radius:4px}button{font:inherit;padding:.4rem 1rem}";

fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

static SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| csp_hash(AUTO_SUBMIT_SCRIPT));
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| csp_hash(STYLE));

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rendered page and the CSP it must be served with.
pub struct Page {
    /// The HTML.
    pub html: String,
    /// The `Content-Security-Policy` header value.
    pub csp: String,
}

/// The auto-submitting form for a `form_post` callback. `action_origin` is the only
/// place the form may post to.
pub fn form_post(action: &str, action_origin: &str, fields: &[(String, String)]) -> Page {
    let mut inputs = String::new();
    for (k, v) in fields {
        let _ = write!(
            inputs,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape_html(k),
            escape_html(v)
        );
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>Continuing sign-in</title><style>{STYLE}</style></head><body>\
<form id=\"relay\" method=\"post\" action=\"{action}\">{inputs}\
<p>Continuing your sign-in&hellip;</p><button type=\"submit\">Continue</button></form>\
<script>{AUTO_SUBMIT_SCRIPT}</script></body></html>",
        action = escape_html(action),
    );
    // form-action must name the target's origin; CSP source expressions cannot carry
    // quotes or spaces, and a Target's origin never has them.
    let csp = format!(
        "default-src 'none'; script-src {}; style-src {}; form-action {action_origin}; base-uri 'none'; frame-ancestors 'none'",
        *SCRIPT_HASH, *STYLE_HASH
    );
    Page { html, csp }
}

/// The refusal page. It shows the reason code and a fixed sentence, nothing from the
/// request.
pub fn refusal(refusal: Refusal, app: Option<&str>) -> Page {
    refusal_with_advice(refusal, app, None)
}

/// The refusal page with `advice`, a fixed sentence that names the fix when the decision
/// knows it ([`StateFormat::advice`](authrelay_client::keyring::StateFormat::advice)):
/// static text, never anything from the request.
pub fn refusal_with_advice(
    refusal: Refusal,
    app: Option<&str>,
    advice: Option<&'static str>,
) -> Page {
    let advice_line = advice.map_or_else(String::new, |a| {
        format!("<p id=\"advice\">{}</p>", escape_html(a))
    });
    // The app name comes from the operator's configuration, never from the request.
    let app_line = match app {
        Some(name) if name != crate::config::DEFAULT_APP => {
            format!("<p>App: <code id=\"app\">{}</code></p>", escape_html(name))
        }
        _ => String::new(),
    };
    stopped(
        "Sign-in stopped",
        refusal.message(),
        &advice_line,
        refusal.code(),
        &app_line,
        "Go back to the app and start the sign-in again. If this keeps happening, give the reason above to the app's operators.",
    )
}

/// The page of a deployment whose configuration is invalid (a Worker or a Vercel
/// function has no start-up to stop at): fixed text, nothing of the configuration.
pub fn configuration_error() -> Page {
    stopped(
        "Sign-in unavailable",
        "This relay cannot take sign-ins: its configuration is invalid.",
        "",
        "configuration_error",
        "",
        "Its operators' log names the problem. Try again once they have fixed it.",
    )
}

/// The layout of the pages that stop a sign-in: a heading, one sentence, optional advice,
/// the reason code, an optional app line and what to do next. `message` is escaped here;
/// the other arguments are fixed text or already escaped.
fn stopped(
    title: &str,
    message: &str,
    advice_line: &str,
    code: &str,
    app_line: &str,
    next: &str,
) -> Page {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title}</title><style>{STYLE}</style></head><body>\
<h1>{title}</h1><p>{message}</p>{advice_line}\
<p>Reason: <code id=\"reason\">{code}</code></p>{app_line}\
<p>{next}</p>\
</body></html>",
        message = escape_html(message),
    );
    let csp = format!(
        "default-src 'none'; style-src {}; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        *STYLE_HASH
    );
    Page { html, csp }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_escaped() {
        let fields = vec![(
            "state".to_owned(),
            "\"><script>alert(1)</script>".to_owned(),
        )];
        let p = form_post(
            "https://a.example.com/cb?x=1&y=2",
            "https://a.example.com",
            &fields,
        );
        assert!(!p.html.contains("<script>alert"));
        assert!(p.html.contains("&quot;&gt;&lt;script&gt;"));
        assert!(p
            .html
            .contains("action=\"https://a.example.com/cb?x=1&amp;y=2\""));
        assert!(p.csp.contains("form-action https://a.example.com;"));
    }

    /// The one inline script of a page: what is between `<script>` and `</script>`.
    fn inline_script(html: &str) -> &str {
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        let start = html.find("<script>").expect("a script without attributes") + 8;
        let end = html.find("</script>").unwrap();
        &html[start..end]
    }

    #[test]
    fn the_csp_hash_matches_the_inline_script() {
        let p = form_post("https://a.example.com/cb", "https://a.example.com", &[]);
        let script = inline_script(&p.html);
        assert_eq!(script, AUTO_SUBMIT_SCRIPT);
        // Computed here from the page's bytes, and once outside Rust (`printf %s SCRIPT |
        // openssl dgst -sha256 -binary | base64`): a changed script needs this updated.
        let hash = format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(script.as_bytes()))
        );
        assert_eq!(
            hash,
            "'sha256-RlQUZCFuKPziresC1rlxwD1xq2SQQLA8PJCKJucUmig='"
        );
        let script_src = p
            .csp
            .split("; ")
            .find_map(|d| d.strip_prefix("script-src "))
            .expect("a script-src directive");
        assert_eq!(script_src, hash, "the script is allowed by its hash alone");
        assert!(!p.csp.contains("unsafe"), "{}", p.csp);
        assert!(p.csp.starts_with("default-src 'none'; "), "{}", p.csp);
    }

    #[test]
    fn a_posted_field_named_submit_does_not_stop_the_form() {
        // A field named `submit` used to shadow `form.submit`: the script threw and the
        // browser stayed on the page (the browser test shows it in Chromium). The script
        // reads no property of the form element, and field names never reach it.
        let names: Vec<String> =
            serde_json::from_str(include_str!("../tests/fixtures/form-field-names.json"))
                .expect("a JSON array of field names");
        let fields: Vec<(String, String)> =
            names.iter().map(|n| (n.clone(), format!("v{n}"))).collect();
        let p = form_post("https://a.example.com/cb", "https://a.example.com", &fields);
        assert_eq!(inline_script(&p.html), AUTO_SUBMIT_SCRIPT);
        assert!(AUTO_SUBMIT_SCRIPT.starts_with("HTMLFormElement.prototype.submit.call("));
        assert!(!AUTO_SUBMIT_SCRIPT.contains(").submit("));
        assert_eq!(p.html.matches("<input ").count(), names.len());
        assert!(p
            .html
            .contains("<input type=\"hidden\" name=\"submit\" value=\"vsubmit\">"));
        assert!(p.html.contains(
            "name=\"&lt;script&gt;x&lt;/script&gt;\" value=\"v&lt;script&gt;x&lt;/script&gt;\""
        ));
        assert!(p.html.contains(
            "name=\"&quot;&gt;&lt;img src=x&gt;\" value=\"v&quot;&gt;&lt;img src=x&gt;\""
        ));
        assert!(!p.html.contains("<img"));
        // The no-script fallback: a visible button that submits the form.
        assert!(p
            .html
            .contains("<button type=\"submit\">Continue</button></form>"));
    }
}
