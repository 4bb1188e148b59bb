//! The test app: the real relay on a real socket (port 0), serving one app from the
//! environment or several from an apps file, and one method per endpoint.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Once;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authrelay::apps::Apps;
use authrelay::config::{Config, LogFormat};
use authrelay::startup::{Application, Reloader};
use authrelay::telemetry;
use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::Secret;
/// The allowlist [`default_env`] configures, its model by hand, and the `Location` check,
/// shared with the fuzz targets.
pub use authrelay_test_support::{allowed, printable, ALLOWED};

pub const SECRET: &str = "api-test-secret-0123456789abcdef0123";
pub const OLD_SECRET: &str = "api-test-old-secret-0123456789abcdef";
pub const PUBLIC_URL: &str = "https://auth.example.test/api/auth";
pub const PREVIEW_CALLBACK: &str = "https://pr-42.preview.example.com/api/auth/callback/github";

static TRACING: Once = Once::new();

#[derive(Clone)]
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub metrics_port: Option<u16>,
    pub client: reqwest::Client,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Environment variables from name-value pairs.
pub fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn default_env() -> HashMap<String, String> {
    vars(&[
        ("AUTH_SECRET", SECRET),
        ("AUTH_SECRET_1", OLD_SECRET),
        ("AUTH_URL", PUBLIC_URL),
        ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", ALLOWED),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ])
}

/// [`default_env`] with `changes` set on top.
pub fn env_with(changes: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = default_env();
    env.extend(vars(changes));
    env
}

/// The relay on [`default_env`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(default_env()).await
}

/// The relay serving the one app that `env` configures.
pub async fn spawn_app_with(env: HashMap<String, String>) -> TestApp {
    let config = Config::from_vars(env).expect("test configuration is valid");
    spawn_apps(Apps::single(config)).await.0
}

/// The relay serving `apps`, and the handle that swaps in new ones while it runs.
pub async fn spawn_apps(apps: Apps) -> (TestApp, Reloader) {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            telemetry::init(LogFormat::Pretty);
        }
    });
    let app = Application::build_apps(apps).expect("the relay binds port 0");
    let test_app = TestApp::at(app.port(), app.metrics_port());
    let reloader = app.reloader();
    tokio::spawn(app.run_until_stopped());
    (test_app, reloader)
}

pub fn secret(s: &str) -> Secret {
    Secret::new(s).unwrap()
}

/// A native state made by the client library with the relay's newest secret.
pub fn native_state(target: &str) -> String {
    native_state_by(SECRET, target)
}

/// A native state made by the client library now with `secret_value`, valid for 10 minutes.
pub fn native_state_by(secret_value: &str, target: &str) -> String {
    native_state_with(secret_value, target, now(), 600)
}

pub fn native_state_with(secret_value: &str, target: &str, iat: u64, ttl: u64) -> String {
    let key = NativeKey::derive(&secret(secret_value));
    native::sign(&key, &Target::parse(target).unwrap(), iat, ttl, [9; 16]).unwrap()
}

/// An Auth.js state with any origin, valid or not: Auth.js itself puts no rule on it.
pub fn authjs_state(origin: &str) -> String {
    authjs_state_by(SECRET, origin)
}

/// An Auth.js state made now with `secret_value`, valid for 15 minutes.
pub fn authjs_state_by(secret_value: &str, origin: &str) -> String {
    authjs_state_with(secret_value, origin, now(), 900)
}

pub fn authjs_state_with(secret_value: &str, origin: &str, iat: u64, ttl: u64) -> String {
    let key = AuthJsKey::derive(&secret(secret_value));
    authjs::encrypt(&key, &authjs::new_claims(origin, iat, ttl))
}

/// A native state around arbitrary target text, signed by hand from the format spec with
/// the relay's newest secret, so that targets the client refuses to sign can still reach
/// the relay validly signed.
pub fn raw_native_state(target: &str) -> String {
    authrelay_test_support::sign_native_raw(SECRET, target.as_bytes(), now(), 600)
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Sends a request to the relay; every test request expects an answer.
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("the relay answers")
}

impl TestApp {
    /// A relay listening on `port` of the loopback address, with a client that does not
    /// follow redirects (the tests look at them).
    pub fn at(port: u16, metrics_port: Option<u16>) -> Self {
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    pub fn callback_url(&self, provider: &str) -> String {
        format!("{}/api/auth/callback/{provider}", self.address)
    }

    /// A GET of the callback with `query`, for a test to add headers to.
    pub fn callback_get(&self, provider: &str, query: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}?{query}", self.callback_url(provider)))
    }

    /// A form POST of `body` to `url`, for a test to add headers to.
    pub fn post_form_to(
        &self,
        url: String,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// A form POST of `body` to the callback, for a test to add headers to.
    pub fn callback_post(
        &self,
        provider: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        self.post_form_to(self.callback_url(provider), body)
    }

    pub async fn get_callback(&self, provider: &str, query: &str) -> reqwest::Response {
        send(self.callback_get(provider, query)).await
    }

    pub async fn get_callback_json(&self, provider: &str, query: &str) -> reqwest::Response {
        send(
            self.callback_get(provider, query)
                .header("Accept", "application/json"),
        )
        .await
    }

    pub async fn post_callback(&self, provider: &str, body: &str) -> reqwest::Response {
        send(self.callback_post(provider, body.to_owned())).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        send(self.client.get(format!("{}{path}", self.address))).await
    }

    /// A GET of any path (a callback under any app's base path, say) asking for JSON.
    pub async fn get_json(&self, path: &str) -> reqwest::Response {
        send(
            self.client
                .get(format!("{}{path}", self.address))
                .header("Accept", "application/json"),
        )
        .await
    }
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `action` of a form-post page, unescaped.
pub fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + 8;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

/// Asserts the refusal's status and JSON reason code.
pub async fn assert_refused_json(r: reqwest::Response, status: u16, code: &str) {
    assert_eq!(r.status().as_u16(), status, "status for {code}");
    assert!(r.headers().get("location").is_none());
    let body: serde_json::Value = r.json().await.expect("a JSON refusal");
    assert_eq!(body["error"], code);
}

/// Checks `done` every 50 ms until it holds, and fails with `what` and its last answer
/// once `limit` has passed.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        let last = match done().await {
            Ok(()) => return,
            Err(last) => last,
        };
        assert!(Instant::now() < deadline, "{what}: {last}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads from `stream` until `done` holds for the bytes so far, the peer ends the stream
/// or `limit` has passed, and returns what arrived with the read error that stopped it,
/// if one did.
pub async fn read_raw_until(
    stream: &tokio::net::TcpStream,
    limit: Duration,
    done: impl Fn(&[u8]) -> bool,
) -> (Vec<u8>, Option<std::io::Error>) {
    let started = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while started.elapsed() < limit && !done(&buf) {
        if let Ok(Ok(())) =
            tokio::time::timeout(Duration::from_millis(200), stream.readable()).await
        {
            match stream.try_read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return (buf, Some(e)),
            }
        }
    }
    (buf, None)
}
