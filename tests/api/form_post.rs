use crate::helpers::*;

/// Sends `request` asking for JSON, and asserts the relay refuses it with `status` and
/// the reason `code`.
async fn assert_refused_as_json(request: reqwest::RequestBuilder, status: u16, code: &str) {
    let r = send(request.header("Accept", "application/json")).await;
    assert_refused_json(r, status, code).await;
}

/// Posts `body` to the apple callback, asserts it is answered 200 and returns the answer's
/// `Content-Security-Policy` with the answer.
async fn post_for_page(app: &TestApp, body: &str) -> (String, reqwest::Response) {
    let r = app.post_callback("apple", body).await;
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    (csp, r)
}

#[tokio::test]
async fn a_form_post_callback_yields_an_auto_submit_page_with_the_same_fields_escaped() {
    let app = spawn_app().await;
    let target = "https://pr-7.preview.example.com/api/auth/callback/apple";
    let state = native_state(target);
    let user = r#"{"name":{"firstName":"<b>Ann</b>"},"email":"a&b@example.com"}"#;
    let body = format!("code=c%22ode&state={state}&user={}", enc(user));
    let (csp, r) = post_for_page(&app, &body).await;
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(
        csp.contains("form-action https://pr-7.preview.example.com;"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{target}\"")), "{html}");
    assert!(
        html.contains("name=\"code\" value=\"c&quot;ode\""),
        "{html}"
    );
    assert!(html.contains(&format!("name=\"state\" value=\"{state}\"")));
    assert!(html.contains("&lt;b&gt;Ann&lt;/b&gt;"), "{html}");
    assert!(html.contains("a&amp;b@example.com"));
    assert!(!html.contains("<b>Ann"));
    assert!(html.contains("<button type=\"submit\">"));
}

#[tokio::test]
async fn a_post_that_is_not_a_form_is_refused_with_415() {
    let app = spawn_app().await;
    let request = app
        .client
        .post(app.callback_url("apple"))
        .header("Content-Type", "application/json")
        .body("{}");
    assert_refused_as_json(request, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let body = format!("state=x&pad={}", "a".repeat(64 * 1024));
    assert_refused_as_json(app.callback_post("apple", body), 413, "body_too_large").await;
}

#[tokio::test]
async fn a_state_in_both_query_and_body_is_refused() {
    let app = spawn_app().await;
    let state = native_state("https://pr-7.preview.example.com/api/auth/callback/apple");
    let request = app.post_form_to(
        format!("{}?state={state}", app.callback_url("apple")),
        format!("code=x&state={state}"),
    );
    assert_refused_as_json(request, 400, "state_duplicated").await;
}

#[tokio::test]
async fn fields_named_like_form_properties_are_all_reposted_under_the_strict_csp() {
    use base64::Engine as _;
    use sha2::Digest as _;

    let app = spawn_app().await;
    let target = "https://pr-7.preview.example.com/api/auth/callback/apple";
    let state = native_state(target);
    let names: Vec<String> =
        serde_json::from_str(include_str!("../fixtures/form-field-names.json"))
            .expect("a JSON array of field names");
    let mut body = format!("code=c&state={state}");
    for name in &names {
        body.push_str(&format!("&{}={}", enc(name), enc(&format!("v-{name}"))));
    }
    let (csp, r) = post_for_page(&app, &body).await;
    let html = r.text().await.unwrap();

    // One input per posted field, in order, each name and value escaped.
    let inputs: Vec<&str> = html.split("<input ").skip(1).collect();
    assert_eq!(inputs.len(), names.len() + 2, "{html}");
    for (input, name) in inputs[2..].iter().zip(&names) {
        let escaped = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        assert!(
            input.starts_with(&format!(
                "type=\"hidden\" name=\"{escaped}\" value=\"v-{escaped}\">"
            )),
            "{input}"
        );
    }
    assert!(!html.contains("<img"), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "{html}");

    // The one script is the one the CSP allows, by hash and nothing else.
    let start = html.find("<script>").unwrap() + "<script>".len();
    let script = &html[start..html.find("</script>").unwrap()];
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert!(
        csp.contains(&format!("; script-src 'sha256-{hash}'; ")),
        "{csp}"
    );
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(
        script.starts_with("HTMLFormElement.prototype.submit.call("),
        "{script}"
    );
    assert!(html.contains("<button type=\"submit\">Continue</button>"));
}
