//! The test app: the real relay on a real socket (port 0), and one method per endpoint.

use std::collections::HashMap;
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

use authrelay::config::{Config, LogFormat};
use authrelay::startup::Application;
use authrelay::telemetry;
use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SECRET: &str = "api-test-secret-0123456789abcdef0123";
pub const OLD_SECRET: &str = "api-test-old-secret-0123456789abcdef";
pub const PUBLIC_URL: &str = "https://auth.example.test/api/auth";
pub const ALLOWED: &str =
    "https://*.preview.example.com,https://app.example.com,http://localhost:*";
pub const PREVIEW_CALLBACK: &str = "https://pr-42.preview.example.com/api/auth/callback/github";

static TRACING: Once = Once::new();

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

pub fn default_env() -> HashMap<String, String> {
    [
        ("AUTH_SECRET", SECRET),
        ("AUTH_SECRET_1", OLD_SECRET),
        ("AUTH_URL", PUBLIC_URL),
        ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", ALLOWED),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(default_env()).await
}

pub async fn spawn_app_with(env: HashMap<String, String>) -> TestApp {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            telemetry::init(LogFormat::Pretty);
        }
    });
    let config = Config::from_vars(env).expect("test configuration is valid");
    let app = Application::build(config).expect("the relay binds port 0");
    let port = app.port();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap(),
    }
}

pub fn secret(s: &str) -> Secret {
    Secret::new(s).unwrap()
}

/// A native state made by the client library with the relay's newest secret.
pub fn native_state(target: &str) -> String {
    native_state_with(SECRET, target, now(), 600)
}

pub fn native_state_with(secret_value: &str, target: &str, iat: u64, ttl: u64) -> String {
    let key = NativeKey::derive(&secret(secret_value));
    native::sign(&key, &Target::parse(target).unwrap(), iat, ttl, [9; 16]).unwrap()
}

/// An Auth.js state with any origin, valid or not: Auth.js itself puts no rule on it.
pub fn authjs_state(origin: &str) -> String {
    authjs_state_with(SECRET, origin, now(), 900)
}

pub fn authjs_state_with(secret_value: &str, origin: &str, iat: u64, ttl: u64) -> String {
    let key = AuthJsKey::derive(&secret(secret_value));
    authjs::encrypt(&key, &authjs::new_claims(origin, iat, ttl))
}

/// A native state around arbitrary target bytes, signed by hand from the format spec,
/// so that targets the client refuses to sign can still reach the relay validly signed.
pub fn raw_native_state(target: &str) -> String {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"authrelay"), SECRET.as_bytes());
    let mut mac_key = [0u8; 32];
    let mut kid = [0u8; 4];
    hk.expand(b"authrelay native state v1 mac key", &mut mac_key)
        .unwrap();
    hk.expand(b"authrelay native state v1 key id", &mut kid)
        .unwrap();
    let iat = now();
    let mut body = vec![1u8];
    body.extend_from_slice(&kid);
    body.extend_from_slice(&iat.to_be_bytes());
    body.extend_from_slice(&(iat + 600).to_be_bytes());
    body.extend_from_slice(&[3u8; 16]);
    body.extend_from_slice(target.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key).unwrap();
    mac.update(b"authrelay-state-v1\0");
    mac.update(&body);
    body.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(body)
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl TestApp {
    pub fn callback_url(&self, provider: &str) -> String {
        format!("{}/api/auth/callback/{provider}", self.address)
    }

    pub async fn get_callback(&self, provider: &str, query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}?{query}", self.callback_url(provider)))
            .send()
            .await
            .expect("the relay answers")
    }

    pub async fn get_callback_json(&self, provider: &str, query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}?{query}", self.callback_url(provider)))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("the relay answers")
    }

    pub async fn post_callback(&self, provider: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.callback_url(provider))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("the relay answers")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the relay answers")
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

/// Asserts the refusal's status and JSON reason code.
pub async fn assert_refused_json(r: reqwest::Response, status: u16, code: &str) {
    assert_eq!(r.status().as_u16(), status, "status for {code}");
    assert!(r.headers().get("location").is_none());
    let body: serde_json::Value = r.json().await.expect("a JSON refusal");
    assert_eq!(body["error"], code);
}
