//! The authorize route (`{base}/authorize/{provider}`) on real sockets: the redirect to
//! the provider, the callback that gives the library its own state back, each refusal
//! before the provider or the preview is reached, and the hostile-target table and the
//! open-redirect corpus as return targets.

use authrelay_client::keyring::{Keyring, StateFormat};

use crate::helpers::*;
use crate::hostile_targets::{open_redirect_targets, HOSTILE};
use crate::invariants::{check, check_parts};

const ENDPOINT: &str = "https://provider.example.net/oauth/authorize";
const CLIENT_ID: &str = "preview-client";
const RETURN: &str = "https://pr-42.preview.example.com/auth/github/callback";
const LIB_STATE: &str = "library-state-0123456789";

/// The default test relay with the authorize route for `github`, whose callback path is
/// `callback_path`.
async fn spawn_authorize(callback_path: &str) -> TestApp {
    spawn_app_with(env_with(&[
        ("AUTH_AUTHORIZE_ENDPOINTS", &format!("github={ENDPOINT}")),
        (
            "AUTH_AUTHORIZE_CLIENT_IDS",
            &format!("github={CLIENT_ID},github=second-client"),
        ),
        ("AUTH_AUTHORIZE_CALLBACK_PATH", callback_path),
    ]))
    .await
}

/// What the relay's public callback for `provider` is (`AUTH_URL`'s, not the socket's).
fn relay_callback(provider: &str) -> String {
    format!("{PUBLIC_URL}/callback/{provider}")
}

/// An authorize query as passport-oauth2 builds it, with `return_to` set to `target`
/// and `changes` replacing (or, with `None`, removing) parameters.
fn authorize_query(target: &str, changes: &[(&str, Option<&str>)]) -> String {
    let callback = relay_callback("github");
    let mut pairs: Vec<(&str, String)> = vec![
        ("return_to", target.to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", callback),
        ("scope", "read:user".to_owned()),
        ("state", LIB_STATE.to_owned()),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
        ),
        ("code_challenge_method", "S256".to_owned()),
        ("client_id", CLIENT_ID.to_owned()),
    ];
    for (name, value) in changes {
        pairs.retain(|(k, _)| k != name);
        if let Some(v) = value {
            pairs.push((name, (*v).to_owned()));
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn get_authorize(app: &TestApp, provider: &str, query: &str) -> reqwest::Response {
    app.get(&format!("/api/auth/authorize/{provider}?{query}"))
        .await
}

async fn get_authorize_json(app: &TestApp, query: &str) -> reqwest::Response {
    app.get_json(&format!("/api/auth/authorize/github?{query}"))
        .await
}

/// The `state` of a Location's query.
fn state_of(location: &str) -> String {
    let query = location.split_once('?').expect("a query").1;
    query
        .split('&')
        .find_map(|s| s.strip_prefix("state="))
        .expect("a state")
        .to_owned()
}

#[tokio::test]
async fn a_sign_in_goes_to_the_provider_and_comes_back_with_the_library_s_own_state() {
    let app = spawn_authorize("/auth/{provider}/callback").await;
    let q = authorize_query(RETURN, &[]);
    let r = get_authorize(&app, "github", &q).await;
    assert_eq!(r.status().as_u16(), 302);
    let to_provider = location(&r);
    let envelope = state_of(&to_provider);
    // Every parameter but return_to, byte for byte and in order; state replaced.
    let want: Vec<String> = q
        .split('&')
        .filter(|s| !s.starts_with("return_to="))
        .map(|s| match s.starts_with("state=") {
            true => format!("state={envelope}"),
            false => s.to_owned(),
        })
        .collect();
    assert_eq!(to_provider, format!("{ENDPOINT}?{}", want.join("&")));
    assert_eq!(StateFormat::detect(&envelope), StateFormat::Envelope);
    assert!(envelope.len() < 500);
    // HEAD is answered as GET, and counted as one: the metrics below count two.
    let head = send(
        app.client
            .head(format!("{}/api/auth/authorize/github?{q}", app.address)),
    )
    .await;
    assert_eq!(head.status().as_u16(), 302);

    // The provider sends the browser back with the envelope; the preview gets its own.
    let back = app
        .get_callback("github", &format!("code=c0de&state={envelope}&iss=x"))
        .await;
    assert_eq!(back.status().as_u16(), 302);
    assert_eq!(
        location(&back),
        format!("{RETURN}?code=c0de&state={LIB_STATE}&iss=x")
    );
    // form_post: the same fields, state restored.
    let post = app
        .post_callback("github", &format!("code=c0de&state={envelope}"))
        .await;
    assert_eq!(post.status().as_u16(), 200);
    let page = post.text().await.unwrap();
    assert_eq!(form_action(&page), RETURN);
    assert!(page.contains(LIB_STATE), "{page}");
    assert!(!page.contains(&envelope));

    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"authrelay_bounces_total{app="default",outcome="authorize",reason="ok",provider="github",format="envelope"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"authrelay_bounces_total{app="default",outcome="redirect",reason="ok",provider="github",format="envelope"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn each_bad_request_is_refused_before_the_provider_or_the_preview() {
    let app = spawn_authorize("/auth/{provider}/callback").await;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            authorize_query(RETURN, &[("redirect_uri", Some(RETURN))]),
            403,
            "redirect_uri_mismatch",
        ),
        (
            authorize_query(RETURN, &[("redirect_uri", None)]),
            403,
            "redirect_uri_mismatch",
        ),
        (
            authorize_query(RETURN, &[("client_id", Some("someone-else"))]),
            403,
            "client_id_unknown",
        ),
        (
            authorize_query("https://evil.example.net/auth/github/callback", &[]),
            403,
            "target_not_allowed",
        ),
        (
            authorize_query("https://pr-42.preview.example.com/account/settings", &[]),
            403,
            "target_not_callback",
        ),
        (
            authorize_query(
                "https://pr-42.preview.example.com/api/auth/callback/github",
                &[],
            ),
            403,
            "target_not_callback",
        ),
        (
            authorize_query(RETURN, &[("return_to", None)]),
            400,
            "target_missing",
        ),
        (
            authorize_query(RETURN, &[("state", None)]),
            400,
            "state_missing",
        ),
        (
            authorize_query("https://auth.example.test/auth/github/callback", &[]),
            403,
            "target_is_relay",
        ),
        (
            authorize_query("javascript:alert(1)//auth/github/callback", &[]),
            403,
            "target_invalid",
        ),
        (
            authorize_query(RETURN, &[("response_type", Some("token"))]),
            403,
            "response_type_unsupported",
        ),
        (
            format!(
                "{}&Redirect_URI=https%3A%2F%2Fevil.example.net%2Fcb",
                authorize_query(RETURN, &[])
            ),
            400,
            "params_malformed",
        ),
        (
            format!("{}&state%00=forged", authorize_query(RETURN, &[])),
            400,
            "params_malformed",
        ),
    ];
    for (q, status, code) in cases {
        assert_refused_json(get_authorize_json(&app, &q).await, status, code).await;
        // The HTML page too, with the fixed text for the code.
        let r = get_authorize(&app, "github", &q).await;
        let seen = check_parts(
            r.status().as_u16(),
            r.headers().get("location").map(|v| v.as_bytes().to_vec()),
            "text/html",
            &r.text().await.unwrap(),
            allowed,
            code,
        );
        assert_eq!(seen, crate::invariants::Seen::Refused(status), "{code}");
    }
    // A provider without the route, and a method other than GET or HEAD.
    let q = authorize_query(RETURN, &[]);
    assert_refused_json(
        app.get_json(&format!("/api/auth/authorize/google?{q}"))
            .await,
        404,
        "authorize_not_configured",
    )
    .await;
    let post = send(
        app.client
            .post(format!("{}/api/auth/authorize/github?{q}", app.address))
            .header("Accept", "application/json"),
    )
    .await;
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    assert_refused_json(post, 405, "method_not_allowed").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"outcome="refused",reason="client_id_unknown",provider="unknown",format="none"} 2"#
        ),
        "{text}"
    );

    // A tampered envelope never reaches the preview.
    let r = get_authorize(&app, "github", &q).await;
    let envelope = state_of(&location(&r));
    let mut bytes = envelope.clone().into_bytes();
    // A character of the tag: the framing still reads, the signature fails.
    let i = bytes.len() - 10;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let r = app
        .get_callback_json("github", &format!("code=c&state={tampered}"))
        .await;
    assert_refused_json(r, 403, "state_invalid").await;
    // Nor does an envelope brought to another provider's callback.
    let r = app
        .get_callback_json("google", &format!("code=c&state={envelope}"))
        .await;
    assert_refused_json(r, 403, "provider_mismatch").await;
}

#[tokio::test]
async fn without_configuration_there_is_no_authorize_route() {
    let app = spawn_app().await;
    let q = authorize_query(RETURN, &[]);
    assert_refused_json(
        app.get_json(&format!("/api/auth/authorize/github?{q}"))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_envelope_sealed_before_a_rotation_still_opens() {
    let before = spawn_authorize("*/callback/{provider}").await;
    let target = "https://pr-42.preview.example.com/api/auth/callback/github";
    let r = get_authorize(&before, "github", &authorize_query(target, &[])).await;
    let envelope = state_of(&location(&r));
    // The next relay has a new newest secret; the old one is a rotation slot.
    let after = spawn_app_with(env_with(&[
        ("AUTH_SECRET", "api-test-newest-secret-0123456789abcd"),
        ("AUTH_SECRET_1", SECRET),
        ("AUTH_SECRET_2", OLD_SECRET),
        ("AUTH_AUTHORIZE_ENDPOINTS", &format!("github={ENDPOINT}")),
        ("AUTH_AUTHORIZE_CLIENT_IDS", &format!("github={CLIENT_ID}")),
    ]))
    .await;
    let back = after
        .get_callback("github", &format!("code=c&state={envelope}"))
        .await;
    assert_eq!(back.status().as_u16(), 302);
    assert_eq!(
        location(&back),
        format!("{target}?code=c&state={LIB_STATE}")
    );
}

/// Sends `target` as the return target and checks the answer: a refusal keeping the
/// invariants, or a redirect to the provider whose envelope holds an allowed target.
async fn assert_return_target_never_off_allowlist(app: &TestApp, keyring: &Keyring, target: &str) {
    let q = authorize_query(target, &[]);
    let r = get_authorize(app, "github", &q).await;
    if r.status().as_u16() != 302 {
        check(r, allowed, &format!("{target:?}")).await;
        return;
    }
    let loc = location(&r);
    assert!(
        loc.starts_with(&format!("{ENDPOINT}?")),
        "{target:?}: {loc}"
    );
    let v = keyring
        .verify(&state_of(&loc), now(), 900)
        .unwrap_or_else(|e| panic!("{target:?}: {e}"));
    assert!(allowed(v.target.url()), "{target:?}: sealed {}", v.target);
}

fn test_keyring() -> Keyring {
    Keyring::new(&[secret(SECRET), secret(OLD_SECRET)])
}

#[tokio::test]
async fn hostile_return_targets_are_all_refused() {
    let app = spawn_authorize("*/callback/{provider}").await;
    for (category, target) in HOSTILE {
        let q = authorize_query(target, &[]);
        let r = get_authorize_json(&app, &q).await;
        assert!(
            r.status().is_client_error(),
            "{category}: {target:?}: {}",
            r.status()
        );
        assert!(r.headers().get("location").is_none());
        assert_return_target_never_off_allowlist(&app, &test_keyring(), target).await;
    }
}

#[tokio::test]
async fn the_open_redirect_corpus_as_return_targets_never_leaves_the_allowlist() {
    let app = spawn_authorize("*/callback/{provider}").await;
    let keyring = test_keyring();
    for target in open_redirect_targets() {
        assert_return_target_never_off_allowlist(&app, &keyring, &target).await;
    }
}
