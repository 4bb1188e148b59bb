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

const GOOD: [(&str, &str); 4] = [
    ("AUTH_SECRET", SECRET),
    ("AUTH_URL", PUBLIC_URL),
    ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", ALLOWED),
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
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with(&[], &["AUTH_SECRET"]), "AUTH_SECRET is not set"),
        (
            with(&[("AUTH_SECRET", "short-and-secret")], &[]),
            "AUTH_SECRET is 16 characters long",
        ),
        (
            with(&[("AUTH_SECRET", "")], &[]),
            "AUTH_SECRET is set but empty",
        ),
        (
            with(&[("AUTH_SECRET_2", "tiny-rotation-secret")], &[]),
            "AUTH_SECRET_2 is 20 characters",
        ),
        (
            with(&[("AUTH_SECRET_1", SECRET)], &[]),
            "hold the same secret",
        ),
        (with(&[], &["AUTH_URL"]), "AUTH_URL is not set"),
        (
            with(&[("AUTH_URL", "not a url")], &[]),
            "AUTH_URL is not an absolute URL",
        ),
        (
            with(
                &[("AUTH_URL", "https://auth.example.com/api/auth?x=1")],
                &[],
            ),
            "AUTH_URL must not have a query",
        ),
        (
            with(&[], &["AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS"]),
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS is not set",
        ),
        (
            with(
                &[(
                    "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                    "https://*.vercel.app",
                )],
                &[],
            ),
            "myapp-*-yourteam.vercel.app",
        ),
        (
            with(
                &[("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", "https://*.com")],
                &[],
            ),
            "*.yourcompany.com",
        ),
        (
            with(
                &[(
                    "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                    "http://*.example.com",
                )],
                &[],
            ),
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
        ),
        (
            with(&[("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", "*")], &[]),
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
        ),
        (
            with(&[("PORT", "70000")], &[]),
            "PORT must be a port number",
        ),
        (
            with(&[("HOST", "example.com")], &[]),
            "HOST must be an IP address",
        ),
        (
            with(&[("AUTH_STATE_MAX_AGE", "5")], &[]),
            "AUTH_STATE_MAX_AGE must be between 30 and 3600",
        ),
        (
            with(&[("AUTH_TRUST_HOST", "maybe")], &[]),
            "AUTH_TRUST_HOST must be true or false",
        ),
        (
            with(&[("LOG_FORMAT", "xml")], &[]),
            "LOG_FORMAT must be pretty or json",
        ),
    ];
    for (env, expected) in cases {
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
