//! One relay, several apps: isolation by base path, secret and allowlist; SIGHUP reload.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authrelay::config::apps_from_file;
use authrelay::config::ConfigError;
use authrelay::service::Apps;
use authrelay::startup::Application;

use crate::helpers::*;

const WEB_NEW: &str = "web-secret-new-0123456789abcdef012345";
const WEB_OLD: &str = "web-secret-old-0123456789abcdef012345";
const ADMIN: &str = "admin-secret-0123456789abcdef01234567";
const DOCS: &str = "docs-secret-0123456789abcdef012345678";

const WEB_TARGET: &str = "https://web-pr-1.preview.example.com/web/api/auth/callback/github";
const ADMIN_TARGET: &str = "https://admin-pr-1.preview.example.com/admin/auth/callback/github";
const DOCS_TARGET: &str = "https://docs-pr-1.preview.example.com/docs/auth/callback/github";

fn web_and_admin() -> String {
    r#"
[[apps]]
name = "web"
base_path = "/web/api/auth"
secret_env = ["WEB_SECRET_NEW", "WEB_SECRET_OLD"]
allowed_origins = ["https://web-*.preview.example.com"]

[[apps]]
name = "admin"
base_path = "/admin/auth"
secret_env = ["ADMIN_SECRET"]
allowed_origins = ["https://admin-*.preview.example.com"]
"#
    .to_owned()
}

fn web_and_docs() -> String {
    web_and_admin()
        .replace("\"admin\"", "\"docs\"")
        .replace("/admin/auth", "/docs/auth")
        .replace("ADMIN_SECRET", "DOCS_SECRET")
        .replace("admin-*", "docs-*")
}

fn secret_vars() -> [(&'static str, &'static str); 4] {
    [
        ("WEB_SECRET_NEW", WEB_NEW),
        ("WEB_SECRET_OLD", WEB_OLD),
        ("ADMIN_SECRET", ADMIN),
        ("DOCS_SECRET", DOCS),
    ]
}

fn load(text: &str) -> Apps {
    let env: HashMap<String, String> = [
        ("AUTH_URL", "https://auth.example.test"),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let lookup = |name: &str| -> Result<Option<String>, ConfigError> {
        Ok(secret_vars()
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned()))
    };
    apps_from_file(Path::new("apps.toml"), text, env, &lookup).expect("valid apps")
}

async fn spawn(text: &str) -> (TestApp, authrelay::startup::Reloader) {
    let app = Application::build_apps(load(text)).unwrap();
    let port = app.port();
    let reloader = app.reloader();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port: None,
            client,
        },
        reloader,
    )
}

async fn call(app: &TestApp, base: &str, state: &str) -> reqwest::Response {
    app.client
        .get(format!(
            "{}{base}/callback/github?code=c&state={}",
            app.address,
            enc(state)
        ))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_apps_previews_bounce_through_their_own_base_path() {
    let (app, _) = spawn(&web_and_admin()).await;
    let r = call(
        &app,
        "/web/api/auth",
        &native_state_with(WEB_NEW, WEB_TARGET, now(), 600),
    )
    .await;
    assert_eq!(r.status().as_u16(), 302);
    assert!(location(&r).starts_with(WEB_TARGET));
    let r = call(
        &app,
        "/admin/auth",
        &authjs_state_with(ADMIN, ADMIN_TARGET, now(), 900),
    )
    .await;
    assert_eq!(r.status().as_u16(), 302);
    assert!(location(&r).starts_with(ADMIN_TARGET));
    // The environment-only base path is not served by a file configuration.
    let r = call(
        &app,
        "/api/auth",
        &native_state_with(WEB_NEW, WEB_TARGET, now(), 600),
    )
    .await;
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn one_apps_state_or_target_is_refused_on_another_apps_path() {
    let (app, _) = spawn(&web_and_admin()).await;
    // Minted with web's secret, sent to admin's callback.
    let admin_target_web_secret = native_state_with(
        WEB_NEW,
        ADMIN_TARGET
            .replace("/admin/auth", "/web/api/auth")
            .as_str(),
        now(),
        600,
    );
    let r = call(&app, "/admin/auth", &admin_target_web_secret).await;
    assert_refused_json(r, 403, "state_other_app").await;
    let r = call(
        &app,
        "/admin/auth",
        &authjs_state_with(WEB_OLD, ADMIN_TARGET, now(), 900),
    )
    .await;
    assert_refused_json(r, 403, "state_other_app").await;
    // Admin's own secret, but a target on web's allowlist.
    let r = call(
        &app,
        "/admin/auth",
        &authjs_state_with(ADMIN, WEB_TARGET, now(), 900),
    )
    .await;
    assert_refused_json(r, 403, "target_not_allowed").await;
    // A secret no app has is still plain state_invalid.
    let r = call(
        &app,
        "/admin/auth",
        &native_state_with(DOCS, ADMIN_TARGET, now(), 600),
    )
    .await;
    assert_refused_json(r, 403, "state_invalid").await;
    // The refusal page names the app it was for.
    let html = app
        .client
        .get(format!(
            "{}/admin/auth/callback/github?state={}",
            app.address,
            enc(&admin_target_web_secret)
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<code id=\"app\">admin</code>"), "{html}");
}

#[tokio::test]
async fn each_app_rotates_its_own_secrets() {
    let (app, _) = spawn(&web_and_admin()).await;
    for secret in [WEB_NEW, WEB_OLD] {
        let r = call(
            &app,
            "/web/api/auth",
            &native_state_with(secret, WEB_TARGET, now(), 600),
        )
        .await;
        assert_eq!(r.status().as_u16(), 302);
    }
    // web's old secret is not admin's.
    let target = ADMIN_TARGET;
    let r = call(
        &app,
        "/admin/auth",
        &authjs_state_with(WEB_OLD, target, now(), 900),
    )
    .await;
    assert_refused_json(r, 403, "state_other_app").await;
}

#[tokio::test]
async fn a_reload_under_concurrent_requests_fails_none_of_them() {
    let (app, reloader) = spawn(&web_and_admin()).await;
    let app = Arc::new(app);
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let state = native_state_with(WEB_NEW, WEB_TARGET, now(), 600);
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (app, failures, done, state) =
            (app.clone(), failures.clone(), done.clone(), state.clone());
        workers.push(tokio::spawn(async move {
            for _ in 0..150 {
                let r = call(&app, "/web/api/auth", &state).await;
                if r.status().as_u16() != 302 {
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
    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["generation"], 11);
}

fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    // An atomic rename, as config management tools do.
    std::fs::rename(&tmp, path).unwrap();
}

async fn generation(client: &reqwest::Client, base: &str) -> u64 {
    let r = client.get(format!("{base}/readyz")).send().await.unwrap();
    r.json::<serde_json::Value>().await.unwrap()["generation"]
        .as_u64()
        .unwrap()
}

async fn wait_generation(client: &reqwest::Client, base: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while generation(client, base).await != want {
        assert!(Instant::now() < deadline, "generation {want} not reached");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
        .envs([
            ("AUTH_URL", "https://auth.example.test"),
            ("HOST", "127.0.0.1"),
            ("PORT", &port.to_string()),
            ("LOG_FORMAT", "json"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the relay did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = TestApp {
        address: base.clone(),
        port,
        metrics_port: None,
        client: client.clone(),
    };
    let hup = || {
        let ok = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    let web_state = native_state_with(WEB_NEW, WEB_TARGET, now(), 600);
    let docs_state = native_state_with(DOCS, DOCS_TARGET, now(), 600);
    let admin_state = native_state_with(ADMIN, ADMIN_TARGET, now(), 600);

    // Requests keep flowing to web during both reloads.
    let flowing = {
        let app = TestApp {
            address: base.clone(),
            port,
            metrics_port: None,
            client: client.clone(),
        };
        let web_state = web_state.clone();
        tokio::spawn(async move {
            let mut bad = 0;
            for _ in 0..300 {
                if call(&app, "/web/api/auth", &web_state)
                    .await
                    .status()
                    .as_u16()
                    != 302
                {
                    bad += 1;
                }
            }
            bad
        })
    };

    assert_eq!(
        call(&app, "/admin/auth", &admin_state)
            .await
            .status()
            .as_u16(),
        302
    );
    assert_eq!(
        call(&app, "/docs/auth", &docs_state)
            .await
            .status()
            .as_u16(),
        404
    );
    write(&file, &web_and_docs());
    hup();
    wait_generation(&client, &base, 2).await;
    assert_eq!(
        call(&app, "/docs/auth", &docs_state)
            .await
            .status()
            .as_u16(),
        302
    );
    assert_eq!(
        call(&app, "/admin/auth", &admin_state)
            .await
            .status()
            .as_u16(),
        404
    );

    write(
        &file,
        "[[apps]]\nname = \"web\"\nbase_path = \"/web\"\nsecret_env = [\"NOPE\"]\n",
    );
    hup();
    let metrics_deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(r#"authrelay_config_reloads_total{result="error"} 1"#) {
            break;
        }
        assert!(
            Instant::now() < metrics_deadline,
            "the failed reload was not counted: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(generation(&client, &base).await, 2);
    assert_eq!(
        call(&app, "/docs/auth", &docs_state)
            .await
            .status()
            .as_u16(),
        302
    );

    let bad = flowing.await.unwrap();
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(bad, 0, "requests failed during reloads");
}
