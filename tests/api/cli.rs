//! The binary itself: start-up refusals, `sign` → `inspect`, `check`, `secret`, and the
//! development quick start.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

fn authrelay(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_authrelay"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const ORIGINS: &str = "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS";

const GOOD: [(&str, &str); 4] = [
    ("AUTH_SECRET", SECRET),
    ("AUTH_URL", PUBLIC_URL),
    (ORIGINS, ALLOWED),
    ("PORT", "0"),
];

fn with(
    overrides: &[(&'static str, &'static str)],
    drop: &[&str],
) -> Vec<(&'static str, &'static str)> {
    let mut env: Vec<_> = GOOD
        .iter()
        .copied()
        .filter(|(k, _)| !drop.contains(k))
        .collect();
    for (k, v) in overrides {
        env.retain(|(key, _)| key != k);
        env.push((k, v));
    }
    env
}

#[test]
fn bad_configuration_stops_start_up_with_one_clear_line() {
    // Each case sets one variable of GOOD to a value, or unsets it (None).
    let cases: [(&str, Option<&str>, &str); 18] = [
        ("AUTH_SECRET", None, "AUTH_SECRET is not set"),
        (
            "AUTH_SECRET",
            Some("short-and-secret"),
            "AUTH_SECRET is 16 characters long",
        ),
        ("AUTH_SECRET", Some(""), "AUTH_SECRET is set but empty"),
        (
            "AUTH_SECRET_2",
            Some("tiny-rotation-secret"),
            "AUTH_SECRET_2 is 20 characters",
        ),
        ("AUTH_SECRET_1", Some(SECRET), "hold the same secret"),
        ("AUTH_URL", None, "AUTH_URL is not set"),
        (
            "AUTH_URL",
            Some("not a url"),
            "AUTH_URL is not an absolute URL",
        ),
        (
            "AUTH_URL",
            Some("https://auth.example.com/api/auth?x=1"),
            "AUTH_URL must not have a query",
        ),
        (
            ORIGINS,
            None,
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS is not set",
        ),
        (
            ORIGINS,
            Some("https://*.vercel.app"),
            "myapp-*-yourteam.vercel.app",
        ),
        (ORIGINS, Some("https://*.com"), "*.yourcompany.com"),
        (ORIGINS, Some("http://*.example.com"), ORIGINS),
        (ORIGINS, Some("*"), ORIGINS),
        ("PORT", Some("70000"), "PORT must be a port number"),
        ("HOST", Some("example.com"), "HOST must be an IP address"),
        (
            "AUTH_STATE_MAX_AGE",
            Some("5"),
            "AUTH_STATE_MAX_AGE must be between 30 and 3600",
        ),
        (
            "AUTH_TRUST_HOST",
            Some("maybe"),
            "AUTH_TRUST_HOST must be true or false",
        ),
        (
            "LOG_FORMAT",
            Some("xml"),
            "LOG_FORMAT must be pretty or json",
        ),
    ];
    for (var, value, expected) in cases {
        let env = match value {
            Some(v) => with(&[(var, v)], &[]),
            None => with(&[], &[var]),
        };
        let out = authrelay(&["serve"], &env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{expected}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{expected}: one line, got {stderr:?}"
        );
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(
            !stderr.contains(SECRET) && !stderr.contains("short-and-secret"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn sign_then_inspect_explains_the_state_in_both_formats() {
    let env = with(&[("AUTH_SECRET_1", OLD_SECRET)], &[]);
    for format in ["native", "authjs"] {
        let out = authrelay(
            &[
                "sign",
                "--target",
                PREVIEW_CALLBACK,
                "--provider",
                "github",
                "--format",
                format,
            ],
            &env,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let state = text(&out.stdout).trim().to_owned();
        assert!(state.len() > 20);

        let out = authrelay(&["inspect", &state], &env);
        let report = text(&out.stdout);
        assert!(out.status.success(), "{report}");
        assert!(
            report.contains("verifies: yes, with secret #1 (AUTH_SECRET_1)"),
            "{report}"
        );
        assert!(
            report.contains(&format!("target:   {PREVIEW_CALLBACK}")),
            "{report}"
        );
        assert!(!report.contains(OLD_SECRET) && !report.contains(SECRET));

        let other = [("AUTH_SECRET", "a-completely-different-secret-0000")];
        let out = authrelay(&["inspect", &state], &other);
        let report = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{report}");
        assert!(report.contains("verifies: no — state_invalid"), "{report}");
    }
}

#[test]
fn sign_refuses_a_target_that_is_not_the_providers_callback() {
    let out = authrelay(
        &["sign", "--target", PREVIEW_CALLBACK, "--provider", "google"],
        &GOOD,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/callback/google"));
}

#[test]
fn check_prints_the_callback_urls_to_register_and_warns_about_risky_patterns() {
    let env = with(
        &[(
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
            "https://*.preview.example.com,https://myapp-*-acme.vercel.app",
        )],
        &[],
    );
    let out = authrelay(&["check"], &env);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    for p in ["github", "google", "discord", "apple"] {
        assert!(
            report.contains(&format!("{PUBLIC_URL}/callback/{p}")),
            "{report}"
        );
    }
    assert!(
        report.contains("warning:") && report.contains("vercel.app"),
        "{report}"
    );
}

#[test]
fn check_says_what_the_authorize_route_needs_at_the_provider_and_in_the_library() {
    let env = with(
        &[
            (
                "AUTH_AUTHORIZE_ENDPOINTS",
                "github=https://github.com/login/oauth/authorize",
            ),
            ("AUTH_AUTHORIZE_CLIENT_IDS", "github=Iv1.one,github=Iv1.two"),
            ("AUTH_AUTHORIZE_CALLBACK_PATH", "/auth/{provider}/callback"),
        ],
        &[],
    );
    let out = authrelay(&["check"], &env);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    for line in [
        format!("redirect URI        {PUBLIC_URL}/callback/github"),
        "client ids          Iv1.one, Iv1.two".to_owned(),
        "forwarded to        https://github.com/login/oauth/authorize".to_owned(),
        format!("authorization URL   {PUBLIC_URL}/authorize/github?return_to=<the preview's callback URL, URL-encoded>"),
        format!("redirect_uri        {PUBLIC_URL}/callback/github"),
        "must match  /auth/github/callback".to_owned(),
    ] {
        assert!(report.contains(&line), "{line}\n{report}");
    }
    // An envelope made by the route is explained by inspect, its inner state by length only.
    let keyring = authrelay_client::Keyring::new(&[secret(SECRET)]);
    let target = authrelay_client::target::Target::parse(
        "https://pr-1.preview.example.com/auth/github/callback",
    )
    .unwrap();
    let envelope = authrelay_client::envelope::seal(
        &keyring.envelope_keys()[0],
        "github",
        &target,
        "qqlibrarystateqq",
        now() + 600,
    )
    .unwrap();
    let out = authrelay(&["inspect", &envelope], &GOOD);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    assert!(
        report.contains("verifies: yes, with secret #1 (AUTH_SECRET)"),
        "{report}"
    );
    assert!(
        report.contains("inner state: 16 bytes (not shown)"),
        "{report}"
    );
    assert!(!report.contains("qqlibrarystateqq"), "{report}");
}

#[test]
fn secret_prints_a_fresh_secret_each_time() {
    let a = text(&authrelay(&["secret"], &[]).stdout);
    let b = text(&authrelay(&["secret"], &[]).stdout);
    assert_eq!(a.trim().len(), 43);
    assert_ne!(a, b);
}

#[tokio::test]
async fn the_dev_quick_start_prints_a_bounce_that_works() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authrelay"))
        .args(["serve", "--dev"])
        .env_clear()
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut url = None;
    while Instant::now() < deadline && url.is_none() {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.trim().strip_prefix("curl -i '") {
                url = Some(rest.trim_end_matches('\'').to_owned());
            }
        }
    }
    let url = url.expect("the banner prints a curl command");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(&url).send().await.unwrap();
    child.kill().ok();
    child.wait().ok();
    assert_eq!(r.status().as_u16(), 302);
    assert!(location(&r)
        .starts_with("http://localhost:8080/api/auth/callback/github?code=test-code&state="));
}
