use url::Url;

use crate::helpers::*;

fn pairs(url: &str) -> Vec<(String, String)> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn a_native_state_bounces_a_get_to_its_target_with_every_parameter_intact() {
    let app = spawn_app().await;
    let state = native_state(PREVIEW_CALLBACK);
    let query = format!(
        "code=a%2Fb%2Bc+d&state={state}&scope=read&scope=write&note=hello%20world&plus=%2B&slash=%2F&uni=%E2%9C%93%C3%A9&iss=https%3A%2F%2Fidp.example.com&empty="
    );
    let r = app.get_callback("github", &query).await;
    assert_eq!(r.status().as_u16(), 302);
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{PREVIEW_CALLBACK}?")), "{loc}");
    let expected: Vec<(String, String)> = [
        ("code", "a/b+c d"),
        ("state", state.as_str()),
        ("scope", "read"),
        ("scope", "write"),
        ("note", "hello world"),
        ("plus", "+"),
        ("slash", "/"),
        ("uni", "✓é"),
        ("iss", "https://idp.example.com"),
        ("empty", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(pairs(&loc), expected);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn a_provider_error_is_forwarded_to_the_preview() {
    let app = spawn_app().await;
    let state = native_state(PREVIEW_CALLBACK);
    let r = app
        .get_callback(
            "github",
            &format!("error=access_denied&error_description=The+user+said+no&state={state}"),
        )
        .await;
    assert_eq!(r.status().as_u16(), 302);
    let got = pairs(&location(&r));
    assert_eq!(got[0], ("error".to_owned(), "access_denied".to_owned()));
    assert_eq!(got[1].1, "The user said no");
}

#[tokio::test]
async fn a_state_signed_with_the_older_secret_still_bounces_during_rotation() {
    let app = spawn_app().await;
    let state = native_state_by(OLD_SECRET, PREVIEW_CALLBACK);
    let r = app
        .get_callback("github", &format!("code=x&state={state}"))
        .await;
    assert_eq!(r.status().as_u16(), 302);
}

#[tokio::test]
async fn an_authjs_state_bounces_and_a_target_query_is_kept() {
    let app = spawn_app().await;
    let origin = "https://app.example.com/api/auth/callback/github?tenant=acme";
    let state = authjs_state(origin);
    let r = app
        .get_callback("github", &format!("code=c1&state={}", enc(&state)))
        .await;
    assert_eq!(r.status().as_u16(), 302);
    let loc = location(&r);
    assert!(
        loc.starts_with(
            "https://app.example.com/api/auth/callback/github?tenant=acme&code=c1&state="
        ),
        "{loc}"
    );
    assert_eq!(pairs(&loc)[2].1, state);
}

#[tokio::test]
async fn the_location_header_never_carries_control_characters() {
    let app = spawn_app().await;
    let state = native_state(PREVIEW_CALLBACK);
    let r = app
        .get_callback(
            "github",
            &format!("code=%0D%0ASet-Cookie:%20x=1%00&state={state}"),
        )
        .await;
    assert_eq!(r.status().as_u16(), 302);
    let loc = location(&r);
    assert!(!loc.bytes().any(|b| b < 0x20 || b == 0x7f), "{loc:?}");
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(pairs(&loc)[0].1, "\r\nSet-Cookie: x=1\0");
}

#[tokio::test]
async fn the_query_is_forwarded_byte_for_byte() {
    let app = spawn_app().await;
    let state = native_state(PREVIEW_CALLBACK);
    let query = format!("code=a%2Bb+c&flag&&scope=read%20user&x=%7E&state={state}&y=%c3%a9");
    let r = app.get_callback("github", &query).await;
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(location(&r), format!("{PREVIEW_CALLBACK}?{query}"));
}
