//! Hostile targets, each put into a validly signed state of both formats, sent as GET and
//! as form_post: the relay never sends a browser off the allowlist and never answers 5xx.

use crate::helpers::*;
use crate::invariants::check;

/// (category, target). Each is signed as-is; none may be bounced to.
pub const HOSTILE: &[(&str, &str)] = &[
    (
        "userinfo",
        "https://app.example.com@evil.example.net/api/auth/callback/github",
    ),
    (
        "userinfo",
        "https://user:pass@app.example.com/api/auth/callback/github",
    ),
    (
        "userinfo",
        "https://evil.example.net\\@app.example.com/api/auth/callback/github",
    ),
    (
        "userinfo",
        "https://app.example.com%40evil.example.net/api/auth/callback/github",
    ),
    (
        "userinfo",
        "https://:@app.example.com/api/auth/callback/github",
    ),
    (
        "userinfo",
        "https://app.example.com:443@evil.example.net/api/auth/callback/github",
    ),
    (
        "backslash",
        "https:\\\\evil.example.net/api/auth/callback/github",
    ),
    (
        "backslash",
        "https://app.example.com\\evil.example.net/api/auth/callback/github",
    ),
    (
        "backslash",
        "https:/\\evil.example.net/api/auth/callback/github",
    ),
    (
        "backslash",
        "https://app.example.com/api\\auth/callback/github",
    ),
    ("backslash", "\\\\evil.example.net/api/auth/callback/github"),
    (
        "protocol-relative",
        "//evil.example.net/api/auth/callback/github",
    ),
    (
        "protocol-relative",
        "///evil.example.net/api/auth/callback/github",
    ),
    (
        "protocol-relative",
        "/\\evil.example.net/api/auth/callback/github",
    ),
    ("protocol-relative", "/api/auth/callback/github"),
    (
        "protocol-relative",
        "https:evil.example.net/api/auth/callback/github",
    ),
    (
        "protocol-relative",
        "https:/evil.example.net/api/auth/callback/github",
    ),
    (
        "encoded",
        "https://app.example.com/api%2fauth/callback/github",
    ),
    (
        "encoded",
        "https://app.example.com/api%2Fauth/callback/github",
    ),
    (
        "encoded",
        "https://app.example.com/api/auth/%2e%2e/callback/github",
    ),
    (
        "encoded",
        "https://app.example.com/api/auth/%2E/callback/github",
    ),
    (
        "encoded",
        "https://app.example.com/api%5cauth/callback/github",
    ),
    (
        "encoded",
        "https://app.example.com/api/auth/callback/github%00",
    ),
    (
        "encoded",
        "https://app.example.com/api/%252e%252e/callback/github",
    ),
    (
        "encoded",
        "https%3A%2F%2Fevil.example.net%2Fapi%2Fauth%2Fcallback%2Fgithub",
    ),
    (
        "encoded",
        "https://evil%2eexample%2enet/api/auth/callback/github",
    ),
    (
        "dots",
        "https://app.example.com/api/auth/../callback/github",
    ),
    ("dots", "https://app.example.com/api/./auth/callback/github"),
    ("dots", "https://app.example.com//api/auth/callback/github"),
    (
        "control",
        "https://app.example.com/api/auth/callback/github\r\nLocation: https://evil.example.net",
    ),
    (
        "control",
        "https://app.example.com/api/auth/callback/git\nhub",
    ),
    (
        "control",
        "https://app.exa\tmple.com/api/auth/callback/github",
    ),
    (
        "control",
        "https://app.example.com/api/auth/callback/github\0",
    ),
    (
        "control",
        " https://app.example.com/api/auth/callback/github",
    ),
    (
        "control",
        "https://app.example.com/api/auth/callback/github ",
    ),
    (
        "control",
        "https://app.example.com/api/auth/callback/\u{7f}github",
    ),
    (
        "scheme",
        "javascript:alert(1)//app.example.com/api/auth/callback/github",
    ),
    (
        "scheme",
        "javascript://app.example.com/%0aalert(1)//callback/github",
    ),
    ("scheme", "JaVaScRiPt:alert(1)"),
    (
        "scheme",
        "data:text/html,<script>alert(1)</script>/callback/github",
    ),
    ("scheme", "vbscript:msgbox(1)"),
    ("scheme", "ftp://app.example.com/api/auth/callback/github"),
    ("scheme", "http://app.example.com/api/auth/callback/github"),
    ("scheme", "file:///etc/passwd/callback/github"),
    ("scheme", "blob:https://app.example.com/callback/github"),
    ("idna", "https://аpp.example.com/api/auth/callback/github"),
    (
        "idna",
        "https://xn--pp-7kc.example.com/api/auth/callback/github",
    ),
    ("idna", "https://app.exаmple.com/api/auth/callback/github"),
    (
        "idna",
        "https://ａｐｐ.example.com/api/auth/callback/github",
    ),
    (
        "idna",
        "https://app.example.com。evil.example.net/api/auth/callback/github",
    ),
    (
        "idna",
        "https://pr-1.preview.examplе.com/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://evil-preview.example.com/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://preview.example.com/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://a.b.preview.example.com/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://pr-1.preview.example.com.evil.example.net/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://evilpreview.example.com/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://.preview.example.com/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://app.example.com.evil.example.net/api/auth/callback/github",
    ),
    (
        "wildcard",
        "https://evilapp.example.com/api/auth/callback/github",
    ),
    (
        "trailing-dot",
        "https://app.example.com./api/auth/callback/github",
    ),
    (
        "trailing-dot",
        "https://pr-1.preview.example.com./api/auth/callback/github",
    ),
    (
        "port",
        "https://app.example.com:8443/api/auth/callback/github",
    ),
    (
        "port",
        "https://app.example.com:443/api/auth/callback/github",
    ),
    ("port", "https://app.example.com:0/api/auth/callback/github"),
    (
        "port",
        "https://app.example.com:65536/api/auth/callback/github",
    ),
    ("port", "https://app.example.com:/api/auth/callback/github"),
    ("port", "http://localhost:99999/api/auth/callback/github"),
    ("ip", "https://127.0.0.1/api/auth/callback/github"),
    ("ip", "http://0x7f.1/api/auth/callback/github"),
    ("ip", "http://2130706433/api/auth/callback/github"),
    ("ip", "http://0177.0.0.1/api/auth/callback/github"),
    ("ip", "http://[::1%25eth0]/api/auth/callback/github"),
    ("ip", "http://127.1/api/auth/callback/github"),
    ("case", "HTTPS://APP.EXAMPLE.COM/api/auth/callback/github"),
    ("case", "https://App.Example.Com/api/auth/callback/github"),
    (
        "relay",
        "https://auth.example.test/api/auth/callback/github",
    ),
    (
        "relay",
        "https://auth.example.test:443/api/auth/callback/github",
    ),
    (
        "fragment",
        "https://app.example.com/api/auth/callback/github#@evil.example.net",
    ),
    (
        "fragment",
        "https://app.example.com/api/auth/callback/github#",
    ),
    ("path", "https://app.example.com/api/auth/callback/google"),
    ("path", "https://app.example.com/api/auth/callback/github/"),
    ("path", "https://app.example.com/evil"),
    (
        "path",
        "https://app.example.com/api/auth/callback/github/../../../evil",
    ),
];

/// Sends `state` to the callback as a GET and as a form post and checks both answers keep
/// the invariants: above all, that neither bounces nor posts off the allowlist.
async fn assert_never_off_allowlist(app: &TestApp, state: &str, what: &str) {
    let query = format!("code=c&state={}", enc(state));
    let get = app.get_callback("github", &query).await;
    check(get, allowed, &format!("GET {what}")).await;
    let post = app.post_callback("github", &query).await;
    check(post, allowed, &format!("POST {what}")).await;
}

#[tokio::test]
async fn hostile_targets_in_valid_states_never_leave_the_allowlist() {
    assert!(HOSTILE.len() >= 60, "{} cases", HOSTILE.len());
    let app = spawn_app().await;
    for (category, target) in HOSTILE {
        let what = format!("{category}: {target:?}");
        for (format, state) in [
            ("native", raw_native_state(target)),
            ("authjs", authjs_state(target)),
        ] {
            let what = format!("{what} [{format}]");
            assert_never_off_allowlist(&app, &state, &what).await;
            let r = app
                .get_callback_json("github", &format!("code=c&state={}", enc(&state)))
                .await;
            assert!(
                r.status().is_client_error(),
                "{what}: every case in this table is refused, got {}",
                r.status()
            );
        }
    }
}

/// The open-redirect corpus as targets: each payload as it is and percent-decoded, bare,
/// after an allowed origin and after an allowed callback URL; at most 1000 bytes each.
pub fn open_redirect_targets() -> Vec<String> {
    let corpus = include_str!("../fixtures/openredirects.txt");
    let mut targets = Vec::new();
    for line in corpus.lines() {
        let decoded = percent_encoding::percent_decode_str(line)
            .decode_utf8_lossy()
            .into_owned();
        for raw in [line.to_owned(), decoded] {
            for target in [
                raw.clone(),
                format!("https://app.example.com{raw}"),
                format!("https://app.example.com/api/auth/callback/github{raw}"),
            ] {
                if target.len() <= 1000 {
                    targets.push(target);
                }
            }
        }
    }
    assert!(targets.len() > 3000, "{} cases", targets.len());
    targets
}

#[tokio::test]
async fn the_open_redirect_corpus_never_leaves_the_allowlist() {
    let app = spawn_app().await;
    for target in open_redirect_targets() {
        let what = format!("openredirects {target:?}");
        assert_never_off_allowlist(&app, &raw_native_state(&target), &what).await;
        assert_never_off_allowlist(&app, &authjs_state(&target), &what).await;
    }
}

#[tokio::test]
async fn overlong_and_deeply_encoded_targets_are_refused() {
    let app = spawn_app().await;
    let long = format!(
        "https://app.example.com/{}/api/auth/callback/github",
        "a".repeat(1100)
    );
    let mut deep = "https://evil.example.net/api/auth/callback/github".to_owned();
    for _ in 0..6 {
        deep = enc(&deep);
    }
    for target in [
        long,
        deep,
        format!("https://app.example.com/{}", "%2e%2e/".repeat(150)),
    ] {
        for state in [raw_native_state(&target), authjs_state(&target)] {
            let r = app
                .get_callback_json("github", &format!("code=c&state={}", enc(&state)))
                .await;
            assert!(r.status().is_client_error(), "{}", r.status());
            assert!(r.headers().get("location").is_none());
        }
    }
}

#[tokio::test]
async fn allowed_targets_still_bounce() {
    let app = spawn_app().await;
    for target in [
        "https://app.example.com/api/auth/callback/github",
        "https://pr-1.preview.example.com/api/auth/callback/github",
        "http://localhost:5173/api/auth/callback/github",
    ] {
        for state in [raw_native_state(target), authjs_state(target)] {
            let r = app
                .get_callback("github", &format!("code=c&state={}", enc(&state)))
                .await;
            assert_eq!(r.status().as_u16(), 302, "{target}");
            assert!(location(&r).starts_with(target));
        }
    }
}

/// A target's own query that some parser (legacy `;` splitting, PHP, Rack, …) reads as
/// holding `code`: a state carrying one is refused, so the preview never sees a `code`
/// ahead of the provider's. Plain queries still bounce, kept ahead of the parameters.
#[tokio::test]
async fn a_target_query_cannot_plant_a_callback_parameter_for_any_parser() {
    let app = spawn_app().await;
    let base = "https://app.example.com/api/auth/callback/github";
    for query in [
        "x=1;code=INJECTED",
        "code[]=INJECTED",
        "code%00=INJECTED",
        "+code=INJECTED",
        "code.=INJECTED",
        "code=INJECTED",
        "x=1&CODE=INJECTED",
        "code%5B%5D=INJECTED",
        "%63ode=INJECTED",
        "code",
        "x=1&",
    ] {
        let origin = format!("{base}?{query}");
        for (format, state) in [
            ("authjs", authjs_state(&origin)),
            ("native", raw_native_state(&origin)),
        ] {
            let q = format!("code=real&state={}", enc(&state));
            let what = format!("{origin} [{format}]");
            let r = app.get_callback_json("github", &q).await;
            assert_eq!(r.status().as_u16(), 403, "{what}");
            assert!(r.headers().get("location").is_none(), "{what}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"], "target_invalid", "{what}");
            let post = app.post_callback("github", &q).await;
            assert_eq!(post.status().as_u16(), 403, "POST {what}");
            assert!(
                !post.text().await.unwrap().contains("INJECTED"),
                "POST {what}"
            );
        }
    }
    for query in ["tenant=acme", "app=1&x=2"] {
        let origin = format!("{base}?{query}");
        let state = authjs_state(&origin);
        let q = format!("code=real&state={}", enc(&state));
        let r = app.get_callback("github", &q).await;
        assert_eq!(r.status().as_u16(), 302, "{origin}");
        assert_eq!(location(&r), format!("{origin}&{q}"));
    }
}
