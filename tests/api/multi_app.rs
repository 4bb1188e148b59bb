//! One relay, several apps: isolation by base path, secret and allowlist; SIGHUP reload.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use authrelay::apps::Apps;
use authrelay::config::apps_from_file;
use authrelay::config::ConfigError;

use crate::helpers::*;

const WEB_NEW: &str = "web-secret-new-0123456789abcdef012345";
const WEB_OLD: &str = "web-secret-old-0123456789abcdef012345";
const ADMIN: &str = "admin-secret-0123456789abcdef01234567";
const DOCS: &str = "docs-secret-0123456789abcdef012345678";

const WEB_TARGET: &str = "https://web-pr-1.preview.example.com/web/api/auth/callback/github";
const ADMIN_TARGET: &str = "https://admin-pr-1.preview.example.com/admin/auth/callback/github";
const DOCS_TARGET: &str = "https://docs-pr-1.preview.example.com/docs/auth/callback/github";

/// One `[[apps]]` table: the app `name` under `base_path`, its secrets in the variables
/// `secret_env` (newest first), its previews at `https://{name}-*.preview.example.com`.
fn app_table(name: &str, base_path: &str, secret_env: &[&str]) -> String {
    format!(
        "[[apps]]\nname = \"{name}\"\nbase_path = \"{base_path}\"\nsecret_env = {secret_env:?}\n\
         allowed_origins = [\"https://{name}-*.preview.example.com\"]\n\n"
    )
}

fn web() -> String {
    app_table(
        "web",
        "/web/api/auth",
        &["WEB_SECRET_NEW", "WEB_SECRET_OLD"],
    )
}

fn web_and_admin() -> String {
    web() + &app_table("admin", "/admin/auth", &["ADMIN_SECRET"])
}

fn web_and_docs() -> String {
    web() + &app_table("docs", "/docs/auth", &["DOCS_SECRET"])
}

fn secret_vars() -> [(&'static str, &'static str); 4] {
    [
        ("WEB_SECRET_NEW", WEB_NEW),
        ("WEB_SECRET_OLD", WEB_OLD),
        ("ADMIN_SECRET", ADMIN),
        ("DOCS_SECRET", DOCS),
    ]
}

/// What every app shares: the relay's public URL and where it listens.
fn listen_vars(port: &str) -> [(&str, &str); 3] {
    [
        ("AUTH_URL", "https://auth.example.test"),
        ("HOST", "127.0.0.1"),
        ("PORT", port),
    ]
}

fn load(text: &str) -> Apps {
    let lookup = |name: &str| -> Result<Option<String>, ConfigError> {
        Ok(secret_vars()
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned()))
    };
    apps_from_file(
        Path::new("apps.toml"),
        text,
        vars(&listen_vars("0")),
        &lookup,
    )
    .expect("valid apps")
}

/// A callback under `base` with `state`, asking for JSON.
async fn call(app: &TestApp, base: &str, state: &str) -> reqwest::Response {
    app.get_json(&format!(
        "{base}/callback/github?code=c&state={}",
        enc(state)
    ))
    .await
}

/// The status of [`call`].
async fn status(app: &TestApp, base: &str, state: &str) -> u16 {
    call(app, base, state).await.status().as_u16()
}

async fn generation(app: &TestApp) -> u64 {
    app.get("/readyz")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["generation"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn each_apps_previews_bounce_through_their_own_base_path() {
    let (app, _) = spawn_apps(load(&web_and_admin())).await;
    let r = call(&app, "/web/api/auth", &native_state_by(WEB_NEW, WEB_TARGET)).await;
    assert_eq!(r.status().as_u16(), 302);
    assert!(location(&r).starts_with(WEB_TARGET));
    let r = call(&app, "/admin/auth", &authjs_state_by(ADMIN, ADMIN_TARGET)).await;
    assert_eq!(r.status().as_u16(), 302);
    assert!(location(&r).starts_with(ADMIN_TARGET));
    // The environment-only base path is not served by a file configuration.
    let state = native_state_by(WEB_NEW, WEB_TARGET);
    assert_eq!(status(&app, "/api/auth", &state).await, 404);
}

#[tokio::test]
async fn one_apps_state_or_target_is_refused_on_another_apps_path() {
    let (app, _) = spawn_apps(load(&web_and_admin())).await;
    // Minted with web's secret, sent to admin's callback.
    let admin_target_web_secret = native_state_by(
        WEB_NEW,
        &ADMIN_TARGET.replace("/admin/auth", "/web/api/auth"),
    );
    for (state, code) in [
        (admin_target_web_secret.clone(), "state_other_app"),
        (authjs_state_by(WEB_OLD, ADMIN_TARGET), "state_other_app"),
        // Admin's own secret, but a target on web's allowlist.
        (authjs_state_by(ADMIN, WEB_TARGET), "target_not_allowed"),
        // A secret no app has is still plain state_invalid.
        (native_state_by(DOCS, ADMIN_TARGET), "state_invalid"),
    ] {
        assert_refused_json(call(&app, "/admin/auth", &state).await, 403, code).await;
    }
    // The refusal page names the app it was for.
    let html = app
        .get(&format!(
            "/admin/auth/callback/github?state={}",
            enc(&admin_target_web_secret)
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<code id=\"app\">admin</code>"), "{html}");
}

#[tokio::test]
async fn each_app_rotates_its_own_secrets() {
    let (app, _) = spawn_apps(load(&web_and_admin())).await;
    for secret in [WEB_NEW, WEB_OLD] {
        let state = native_state_by(secret, WEB_TARGET);
        assert_eq!(status(&app, "/web/api/auth", &state).await, 302);
    }
    // web's old secret is not admin's.
    let r = call(&app, "/admin/auth", &authjs_state_by(WEB_OLD, ADMIN_TARGET)).await;
    assert_refused_json(r, 403, "state_other_app").await;
}

#[tokio::test]
async fn a_reload_under_concurrent_requests_fails_none_of_them() {
    let (app, reloader) = spawn_apps(load(&web_and_admin())).await;
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let state = native_state_by(WEB_NEW, WEB_TARGET);
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (app, failures, done, state) =
            (app.clone(), failures.clone(), done.clone(), state.clone());
        workers.push(tokio::spawn(async move {
            for _ in 0..150 {
                if status(&app, "/web/api/auth", &state).await != 302 {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for i in 0..10 {
        let text = if i % 2 == 0 {
            web_and_docs()
        } else {
            web_and_admin()
        };
        reloader.swap(Ok(load(&text))).unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 600);
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    assert_eq!(generation(&app).await, 11);
}

fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    // An atomic rename, as config management tools do.
    std::fs::rename(&tmp, path).unwrap();
}

async fn wait_generation(app: &TestApp, want: u64) {
    wait_until(
        Duration::from_secs(10),
        "generation not reached",
        || async {
            let seen = generation(app).await;
            if seen == want {
                Ok(())
            } else {
                Err(format!("{seen}, not {want}"))
            }
        },
    )
    .await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn sighup_adds_and_removes_apps_and_a_broken_file_keeps_the_old_configuration() {
    let dir = std::env::temp_dir().join(format!("authrelay-sighup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("apps.toml");
    write(&file, &web_and_admin());
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authrelay"))
        .args(["serve", "--config"])
        .arg(&file)
        .env_clear()
        .envs(secret_vars())
        .envs(listen_vars(&port.to_string()))
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let app = TestApp::at(port, None);
    wait_until(
        Duration::from_secs(20),
        "the relay did not start",
        || async {
            app.client
                .get(format!("{}/healthz", app.address))
                .send()
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        },
    )
    .await;
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    let web_state = native_state_by(WEB_NEW, WEB_TARGET);
    let docs_state = native_state_by(DOCS, DOCS_TARGET);
    let admin_state = native_state_by(ADMIN, ADMIN_TARGET);

    // Requests keep flowing to web during both reloads.
    let flowing = {
        let app = app.clone();
        let web_state = web_state.clone();
        tokio::spawn(async move {
            let mut bad = 0;
            for _ in 0..300 {
                if status(&app, "/web/api/auth", &web_state).await != 302 {
                    bad += 1;
                }
            }
            bad
        })
    };

    assert_eq!(status(&app, "/admin/auth", &admin_state).await, 302);
    assert_eq!(status(&app, "/docs/auth", &docs_state).await, 404);
    write(&file, &web_and_docs());
    hup();
    wait_generation(&app, 2).await;
    assert_eq!(status(&app, "/docs/auth", &docs_state).await, 302);
    assert_eq!(status(&app, "/admin/auth", &admin_state).await, 404);

    write(
        &file,
        "[[apps]]\nname = \"web\"\nbase_path = \"/web\"\nsecret_env = [\"NOPE\"]\n",
    );
    hup();
    wait_until(
        Duration::from_secs(10),
        "the failed reload was not counted",
        || async {
            let text = app.get("/metrics").await.text().await.unwrap();
            if text.contains(r#"authrelay_config_reloads_total{result="error"} 1"#) {
                Ok(())
            } else {
                Err(text)
            }
        },
    )
    .await;
    assert_eq!(generation(&app).await, 2);
    assert_eq!(status(&app, "/docs/auth", &docs_state).await, 302);

    let bad = flowing.await.unwrap();
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(bad, 0, "requests failed during reloads");
}
