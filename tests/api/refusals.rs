use crate::helpers::*;

const MARKER: &str = "zzmarker";

/// Each refusal: (what the test sends, expected status, expected code).
#[tokio::test]
async fn each_refusal_reason_gives_its_status_and_code() {
    let app = spawn_app().await;
    let t = PREVIEW_CALLBACK;
    let n = now();
    let cases: Vec<(&str, String, String, u16, &str)> = vec![
        (
            "no state",
            "github".into(),
            format!("code={MARKER}"),
            400,
            "state_missing",
        ),
        (
            "empty state",
            "github".into(),
            "code=x&state=".into(),
            400,
            "state_missing",
        ),
        (
            "two states",
            "github".into(),
            format!("state={0}&state={0}", native_state(t)),
            400,
            "state_duplicated",
        ),
        (
            "garbage state",
            "github".into(),
            format!("state={MARKER}%21"),
            400,
            "state_malformed",
        ),
        (
            "bad escape",
            "github".into(),
            "state=%zz".into(),
            400,
            "params_malformed",
        ),
        (
            "invalid utf-8",
            "github".into(),
            "state=%ff%fe".into(),
            400,
            "params_malformed",
        ),
        (
            "too many params",
            "github".into(),
            "a=1&".repeat(100),
            400,
            "params_malformed",
        ),
        (
            "bad provider",
            "git%20hub".into(),
            format!("state={}", native_state(t)),
            400,
            "provider_invalid",
        ),
        (
            "unknown secret",
            "github".into(),
            format!(
                "state={}",
                native_state_with("another-secret-another-secret-00", t, n, 600)
            ),
            403,
            "state_invalid",
        ),
        (
            "expired",
            "github".into(),
            format!("state={}", native_state_with(SECRET, t, n - 700, 600)),
            403,
            "state_expired",
        ),
        (
            "not allowed",
            "github".into(),
            format!(
                "state={}",
                native_state("https://evil.example.net/api/auth/callback/github")
            ),
            403,
            "target_not_allowed",
        ),
        (
            "relay itself",
            "github".into(),
            format!(
                "state={}",
                native_state("https://auth.example.test/api/auth/callback/github")
            ),
            403,
            "target_is_relay",
        ),
        (
            "other provider",
            "google".into(),
            format!("state={}", native_state(t)),
            403,
            "provider_mismatch",
        ),
        (
            "bad target in authjs",
            "github".into(),
            format!(
                "state={}",
                enc(&authjs_state("javascript:alert(1)//callback/github"))
            ),
            403,
            "target_invalid",
        ),
    ];
    for (name, provider, query, status, code) in cases {
        let r = app.get_callback_json(&provider, &query).await;
        assert_eq!(r.status().as_u16(), status, "{name}");
        assert!(r.headers().get("location").is_none(), "{name}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{name}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], code, "{name}");

        let page = app.get_callback(&provider, &query).await;
        assert_eq!(page.status().as_u16(), status, "{name}");
        assert!(page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("<code id=\"reason\">{code}</code>")),
            "{name}: {html}"
        );
        assert!(!html.contains(MARKER), "{name}: input reflected");
    }
}

#[tokio::test]
async fn a_target_on_the_request_host_is_refused_as_the_relay_itself() {
    let app = spawn_app_with(env_with(&[(
        "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
        "http://127.0.0.1:*",
    )]))
    .await;
    let target = format!("http://127.0.0.1:{}/api/auth/callback/github", app.port);
    let r = app
        .get_callback_json("github", &format!("state={}", native_state(&target)))
        .await;
    assert_refused_json(r, 403, "target_is_relay").await;
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused_cleanly() {
    let app = spawn_app().await;
    let r = app.get("/nope").await;
    assert_eq!(r.status().as_u16(), 404);
    let r = app
        .client
        .put(app.callback_url("github"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST");
}

/// A target that merely shares a host with what a client claims in forwarding headers.
const PREVIEW_HOST: &str = "pr-42.preview.example.com";

/// A callback with `state` asking for JSON, from a client that claims `X-Forwarded-Host`.
async fn forwarded_json(app: &TestApp, state: &str, host: &str) -> reqwest::Response {
    send(
        app.callback_get("github", &format!("code=x&state={state}"))
            .header("Accept", "application/json")
            .header("X-Forwarded-Host", host),
    )
    .await
}

#[tokio::test]
async fn a_spoofed_forwarded_host_changes_nothing_without_auth_trust_host() {
    let app = spawn_app().await;
    let state = native_state(PREVIEW_CALLBACK);
    let r = send(
        app.callback_get("github", &format!("code=x&state={state}"))
            .header("X-Forwarded-Host", PREVIEW_HOST)
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", format!("host={PREVIEW_HOST};proto=https")),
    )
    .await;
    assert_eq!(r.status().as_u16(), 302, "the header is ignored");
    assert!(location(&r).starts_with(PREVIEW_CALLBACK));

    // A spoofed host can never make an off-list target look like the relay's own origin
    // and so pass: it can only ever add refusals.
    let evil = native_state("https://evil.example.net/api/auth/callback/github");
    let r = forwarded_json(&app, &evil, "evil.example.net").await;
    assert_refused_json(r, 403, "target_not_allowed").await;
}

#[tokio::test]
async fn with_auth_trust_host_the_forwarded_host_is_the_relay_itself() {
    let app = spawn_app_with(env_with(&[("AUTH_TRUST_HOST", "true")])).await;
    let r = forwarded_json(&app, &native_state(PREVIEW_CALLBACK), PREVIEW_HOST).await;
    assert_refused_json(r, 403, "target_is_relay").await;
}
