//! The Vercel adapter answers exactly as the actix service does.
//!
//! Each case sends one request twice: in-process to the adapter's handler, and over a
//! real socket (loopback, port 0) to `authrelay::startup::Application` built from the same
//! configuration. Status, the headers that matter and the body must be equal.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authrelay::config::Config;
use authrelay::startup::Application;
use authrelay_client::authjs::{self, AuthJsKey};
use authrelay_client::native::{self, NativeKey};
use authrelay_client::target::Target;
use authrelay_client::Secret;
use authrelay_vercel::{handle, Relay, PATH_PARAM};
use http_body_util::Full;
use hyper::body::{Bytes, Frame};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SECRET: &str = "vercel-test-secret-0123456789abcdef0";
const OLD_SECRET: &str = "vercel-test-old-secret-0123456789abc";
const PREVIEW: &str = "https://pr-7.preview.example.com/api/auth/callback/github";
const APPLE_PREVIEW: &str = "https://pr-7.preview.example.com/api/auth/callback/apple";

/// Headers compared between the two; anything else (date, content-length) may differ.
const COMPARED: [&str; 8] = [
    "location",
    "content-type",
    "cache-control",
    "referrer-policy",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "allow",
];

fn env() -> HashMap<String, String> {
    [
        ("AUTH_SECRET", SECRET),
        ("AUTH_SECRET_1", OLD_SECRET),
        ("AUTH_URL", "https://auth.example.test/api/auth"),
        (
            "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
            "https://*.preview.example.com,http://localhost:*",
        ),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        // Metrics on a port of their own, as a function has none that is private.
        ("METRICS_PORT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn native_state(secret: &str, target: &str) -> String {
    let key = NativeKey::derive(&Secret::new(secret).unwrap());
    native::sign(&key, &Target::parse(target).unwrap(), now(), 600, [7; 16]).unwrap()
}

fn authjs_state(origin: &str) -> String {
    let key = AuthJsKey::derive(&Secret::new(SECRET).unwrap());
    authjs::encrypt(&key, &authjs::new_claims(origin, now(), 900))
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The [`COMPARED`] headers of a response (both clients use the `http` crate's map).
fn compared(headers: &hyper::HeaderMap) -> Vec<(&'static str, Option<String>)> {
    COMPARED
        .iter()
        .map(|&n| (n, headers.get(n).map(|v| v.to_str().unwrap().to_owned())))
        .collect()
}

/// What a response said, as far as the comparison goes.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: u16,
    headers: Vec<(&'static str, Option<String>)>,
    body: String,
}

/// One request, in a form both clients can send.
struct Req<'a> {
    method: &'a str,
    /// Path and query.
    target: String,
    headers: Vec<(&'a str, String)>,
    body: String,
}

impl<'a> Req<'a> {
    fn get(target: String) -> Self {
        Self {
            method: "GET",
            target,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    fn post_form(target: String, body: String) -> Self {
        Self {
            method: "POST",
            target,
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            )],
            body,
        }
    }

    fn header(mut self, name: &'a str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

struct Both {
    relay: Relay,
    port: u16,
    client: reqwest::Client,
}

impl Both {
    async fn start() -> Self {
        Self::start_with(env()).await
    }

    async fn start_with(env: HashMap<String, String>) -> Self {
        let config = Config::from_vars(env).expect("the test configuration is valid");
        let app = Application::build(config.clone()).expect("the relay binds port 0");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        Self {
            relay: Relay::from_config(config),
            port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    async fn adapter(&self, req: &Req<'_>) -> Seen {
        self.adapter_with(&self.relay, req).await
    }

    async fn adapter_with(&self, relay: &Relay, req: &Req<'_>) -> Seen {
        let body = Full::new(Bytes::from(req.body.clone()));
        self.adapter_body(relay, req, body).await
    }

    /// The adapter's answer to `req` with `body` in place of `req.body`.
    async fn adapter_body<B>(&self, relay: &Relay, req: &Req<'_>, body: B) -> Seen
    where
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut b = hyper::Request::builder()
            .method(req.method)
            .uri(req.target.as_str());
        if !req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("host"))
        {
            b = b.header("host", self.host());
        }
        for (k, v) in &req.headers {
            b = b.header(*k, v.as_str());
        }
        let r = handle(relay, b.body(body).unwrap()).await;
        Seen {
            status: r.status().as_u16(),
            headers: compared(r.headers()),
            // The HTTP server sends no body in answer to HEAD.
            body: if req.method == "HEAD" {
                String::new()
            } else {
                r.into_body()
            },
        }
    }

    async fn service(&self, req: &Req<'_>) -> Seen {
        let url = format!("http://{}{}", self.host(), req.target);
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut b = self.client.request(method, url);
        for (k, v) in &req.headers {
            b = b.header(*k, v.as_str());
        }
        let r = b
            .body(req.body.clone())
            .send()
            .await
            .expect("the relay answers");
        Seen {
            status: r.status().as_u16(),
            headers: compared(r.headers()),
            body: r.text().await.unwrap(),
        }
    }

    /// Sends the request to both and asserts they answered alike; returns the answer.
    async fn same(&self, req: Req<'_>) -> Seen {
        let a = self.adapter(&req).await;
        let s = self.service(&req).await;
        assert_eq!(
            a, s,
            "adapter and service differ for {} {}",
            req.method, req.target
        );
        a
    }
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers
        .iter()
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.as_deref())
}

/// Sends a GET for `target` to both, asserts they redirect alike, and returns the answer.
async fn redirects_alike(both: &Both, target: String) -> Seen {
    let seen = both.same(Req::get(target)).await;
    assert_eq!(seen.status, 302, "{seen:?}");
    assert_eq!(header(&seen, "cache-control"), Some("no-store"));
    seen
}

#[tokio::test]
async fn a_valid_native_state_redirects_to_the_same_location() {
    let both = Both::start().await;
    let state = native_state(SECRET, PREVIEW);
    let seen = redirects_alike(
        &both,
        format!(
            "/api/auth/callback/github?code=abc%2B1&state={state}&iss=https%3A%2F%2Fgithub.com"
        ),
    )
    .await;
    let location = header(&seen, "location").unwrap();
    assert!(location.starts_with(PREVIEW), "{location}");
    assert!(location.contains("code=abc%2B1"), "{location}");
}

#[tokio::test]
async fn an_older_secret_and_an_authjs_state_redirect_alike() {
    let both = Both::start().await;
    let old = native_state(OLD_SECRET, PREVIEW);
    redirects_alike(
        &both,
        format!("/api/auth/callback/github?code=c&state={old}"),
    )
    .await;
    let authjs = enc(&authjs_state(PREVIEW));
    redirects_alike(
        &both,
        format!("/api/auth/callback/github?state={authjs}&code=c"),
    )
    .await;
}

#[tokio::test]
async fn refusals_have_the_same_status_and_json() {
    let both = Both::start().await;
    let outside = native_state(SECRET, "https://evil.example.net/api/auth/callback/github");
    let forged = native_state(
        "someone-elses-secret-0123456789abcdef",
        "https://pr-7.preview.example.com/api/auth/callback/github",
    );
    let cases = [
        (
            format!("/api/auth/callback/github?code=c&state={outside}"),
            403,
            "target_not_allowed",
        ),
        (
            format!("/api/auth/callback/github?code=c&state={forged}"),
            403,
            "state_invalid",
        ),
        (
            "/api/auth/callback/github?code=c".to_owned(),
            400,
            "state_missing",
        ),
        (
            "/api/auth/callback/git%20hub?state=x".to_owned(),
            400,
            "provider_invalid",
        ),
        // The segment is not decoded: an encoded provider id is not a provider id.
        (
            format!(
                "/api/auth/callback/git%68ub?code=c&state={}",
                native_state(SECRET, PREVIEW)
            ),
            400,
            "provider_invalid",
        ),
        (
            "/api/auth/callback/github?state=%zz".to_owned(),
            400,
            "params_malformed",
        ),
        ("/nowhere".to_owned(), 404, "not_found"),
    ];
    for (target, status, code) in cases {
        let seen = both
            .same(Req::get(target).header("accept", "application/json"))
            .await;
        assert_eq!(seen.status, status, "{code}");
        let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
        assert_eq!(body["error"], code);
        assert!(header(&seen, "location").is_none());
    }
    // And the HTML page, for a browser.
    let seen = both
        .same(Req::get(format!(
            "/api/auth/callback/github?code=c&state={outside}"
        )))
        .await;
    assert!(header(&seen, "content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(header(&seen, "content-security-policy").is_some());
}

#[tokio::test]
async fn the_relay_itself_is_refused_alike_by_host() {
    let both = Both::start().await;
    // A preview whose host is the host the request was addressed to is the relay.
    let state = native_state(SECRET, PREVIEW);
    let seen = both
        .same(
            Req::get(format!("/api/auth/callback/github?code=c&state={state}"))
                .header("host", "pr-7.preview.example.com")
                .header("accept", "application/json"),
        )
        .await;
    let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(body["error"], "target_is_relay", "{seen:?}");
}

#[tokio::test]
async fn form_post_gives_the_same_page() {
    let both = Both::start().await;
    let state = native_state(SECRET, APPLE_PREVIEW);
    let body = format!(
        "code=c1&state={state}&user={}",
        enc(r#"{"name":{"firstName":"A"}}"#)
    );
    let seen = both
        .same(Req::post_form("/api/auth/callback/apple".to_owned(), body))
        .await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.contains(APPLE_PREVIEW), "{}", seen.body);
    assert!(header(&seen, "content-security-policy").is_some());
    // Too large, and not a form.
    let huge = format!(
        "state={state}&pad={}",
        "a".repeat(authrelay_vercel::MAX_BODY)
    );
    let seen = both
        .same(
            Req::post_form("/api/auth/callback/apple".to_owned(), huge)
                .header("accept", "application/json"),
        )
        .await;
    assert!(seen.body.contains("body_too_large"), "{}", seen.body);
    let mut not_form = Req::post_form("/api/auth/callback/apple".to_owned(), "{}".to_owned());
    not_form.headers = vec![("content-type", "application/json".to_owned())];
    let seen = both.same(not_form).await;
    assert_eq!(seen.status, 415);
}

#[tokio::test]
async fn other_methods_and_health_answer_alike() {
    let both = Both::start().await;
    let mut put = Req::get("/api/auth/callback/github".to_owned());
    put.method = "PUT";
    let seen = both.same(put).await;
    assert_eq!(seen.status, 405);
    assert_eq!(header(&seen, "allow"), Some("GET, POST"));
    let mut head = Req::get("/api/auth/callback/github?code=c".to_owned());
    head.method = "HEAD";
    let seen = both.same(head).await;
    assert_eq!(seen.status, 400);
    let mut post_health = Req::get("/healthz".to_owned());
    post_health.method = "POST";
    let seen = both.same(post_health).await;
    assert_eq!(seen.status, 404);
    let seen = both.same(Req::get("/healthz".to_owned())).await;
    assert_eq!((seen.status, seen.body.as_str()), (200, "ok\n"));
    let seen = both.same(Req::get("/readyz".to_owned())).await;
    assert_eq!(seen.status, 200);
}

#[tokio::test]
async fn a_rewritten_request_is_routed_by_the_carried_path_which_is_never_forwarded() {
    let both = Both::start().await;
    let state = native_state(SECRET, PREVIEW);
    let original = format!("/api/auth/callback/github?code=c&state={state}");
    let expected = both.service(&Req::get(original)).await;
    assert_eq!(expected.status, 302);
    // What the function may see behind `vercel.json`'s rewrite.
    let rewritten =
        format!("/api/authrelay?code=c&state={state}&{PATH_PARAM}=/api/auth/callback/github");
    let seen = both.adapter(&Req::get(rewritten)).await;
    assert_eq!(seen, expected);
    assert!(!header(&seen, "location").unwrap().contains(PATH_PARAM));
    // The same for a form post, whose query must otherwise be empty.
    let state = native_state(SECRET, APPLE_PREVIEW);
    let form = format!("code=c1&state={state}");
    let expected = both
        .service(&Req::post_form(
            "/api/auth/callback/apple".to_owned(),
            form.clone(),
        ))
        .await;
    let rewritten = format!("/api/authrelay?{PATH_PARAM}=/api/auth/callback/apple");
    let seen = both.adapter(&Req::post_form(rewritten, form)).await;
    assert_eq!(seen, expected);
    // And health behind its rewrite.
    let seen = both
        .adapter(&Req::get(format!("/api/authrelay?{PATH_PARAM}=/healthz")))
        .await;
    assert_eq!((seen.status, seen.body.as_str()), (200, "ok\n"));
}

#[tokio::test]
async fn a_misconfigured_deployment_answers_503_configuration_error() {
    let both = Both::start().await;
    let mut bad = env();
    bad.insert("AUTH_SECRET".into(), "too-short".into());
    let relay = Relay::from_vars(bad);
    let reason = relay.config_error().expect("the configuration is refused");
    assert!(reason.contains("AUTH_SECRET"), "{reason}");
    assert!(
        !reason.contains("too-short"),
        "the reason never shows the value"
    );
    for target in [
        "/api/auth/callback/github?code=c&state=x",
        "/healthz",
        "/readyz",
    ] {
        let json = Req::get(target.to_owned()).header("accept", "application/json");
        let seen = both.adapter_with(&relay, &json).await;
        assert_eq!(seen.status, 503, "{target}");
        assert_eq!(seen.body, r#"{"error":"configuration_error"}"#);
        assert_eq!(header(&seen, "content-type"), Some("application/json"));
        assert_eq!(header(&seen, "cache-control"), Some("no-store"));

        let html = Req::get(target.to_owned()).header("accept", "text/html");
        let seen = both.adapter_with(&relay, &html).await;
        assert_eq!(seen.status, 503, "{target}");
        assert_eq!(
            header(&seen, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            seen.body
                .contains(r#"<code id="reason">configuration_error</code>"#),
            "{}",
            seen.body
        );
        assert!(!seen.body.contains("AUTH_SECRET") && !seen.body.contains("too-short"));
        assert!(header(&seen, "content-security-policy")
            .is_some_and(|c| c.contains("default-src 'none'")));
    }
}

/// A body whose framing breaks: the connection is cut mid-body.
struct Broken;

impl hyper::body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other("connection cut mid-body"))))
    }
}

/// A body that sends its first bytes and then nothing more.
struct Stalled {
    sent: bool,
}

impl hyper::body::Body for Stalled {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.sent {
            return Poll::Pending;
        }
        self.sent = true;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"state=")))))
    }
}

/// Writes `request` to the service on a raw connection and reads the answer until the
/// service closes the connection; returns the status and the body.
async fn raw_service(port: u16, request: &str, limit: Duration) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the relay accepts");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut answer))
        .await
        .expect("the relay answers and closes within the limit")
        .expect("the connection reads cleanly");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("an HTTP status line");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

#[tokio::test]
async fn every_route_and_method_answers_alike() {
    let both = Both::start().await;
    let state = native_state(SECRET, PREVIEW);
    let paths = [
        format!("/api/auth/callback/github?code=c&state={state}"),
        "/api/auth/callback/github".to_owned(),
        "/api/auth/callback/".to_owned(),
        "/api/auth/callback/github/more".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/metrics".to_owned(),
        "/healthz/".to_owned(),
        "/nowhere".to_owned(),
    ];
    let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    let mut seen = 0;
    for path in &paths {
        for method in methods {
            for accept in ["text/html", "application/json"] {
                let mut req = Req::get(path.clone()).header("accept", accept);
                req.method = method;
                let answer = both.same(req).await;
                if path == "/metrics" {
                    assert_eq!(answer.status, 404, "{method} /metrics");
                }
                seen += 1;
            }
        }
    }
    assert_eq!(seen, paths.len() * methods.len() * 2);
    // HEAD is GET without a body, for health checks too.
    let mut head = Req::get("/healthz".to_owned());
    head.method = "HEAD";
    assert_eq!(both.same(head).await.status, 200);
    let mut head = Req::get("/readyz".to_owned());
    head.method = "HEAD";
    assert_eq!(both.same(head).await.status, 200);
}

/// The form post to the Apple callback, asking for JSON, with `framing` (the body's
/// headers and as much of it as is sent), written raw to the service; the adapter gets
/// the same request with `body`. Both answers must be the same refusal, `code`.
async fn same_refusal_for_body<B>(
    both: &Both,
    extra_header: Option<(&'static str, &'static str)>,
    body: B,
    framing: &str,
    code: &str,
) -> u16
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut req = Req::post_form("/api/auth/callback/apple".to_owned(), String::new())
        .header("accept", "application/json");
    if let Some((name, value)) = extra_header {
        req = req.header(name, value);
    }
    let raw = format!(
        "POST /api/auth/callback/apple HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n{framing}"
    );
    let limit = authrelay::request::BODY_TIMEOUT + Duration::from_secs(5);
    let (adapter, (status, text)) = tokio::join!(
        both.adapter_body(&both.relay, &req, body),
        raw_service(both.port, &raw, limit)
    );
    assert_eq!(
        (adapter.status, adapter.body.as_str()),
        (status, text.as_str())
    );
    let json: serde_json::Value = serde_json::from_str(&adapter.body).unwrap();
    assert_eq!(json["error"], code);
    adapter.status
}

#[tokio::test]
async fn a_broken_body_is_params_malformed_on_both() {
    let both = Both::start().await;
    let framing = "Transfer-Encoding: chunked\r\n\r\nzz\r\nstate=x\r\n0\r\n\r\n";
    let status = same_refusal_for_body(&both, None, Broken, framing, "params_malformed").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_cut_off_alike() {
    let both = Both::start().await;
    let started = std::time::Instant::now();
    let stalled = Stalled { sent: false };
    let framing = "Content-Length: 100\r\n\r\nstate=";
    let status = same_refusal_for_body(&both, None, stalled, framing, "params_malformed").await;
    assert_eq!(status, 400);
    assert!(started.elapsed() >= authrelay::request::BODY_TIMEOUT - Duration::from_secs(1));
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_unread_alike() {
    let both = Both::start().await;
    // The adapter is handed a body that never arrives: it must not be read.
    let never = Stalled { sent: true };
    let announced = Some(("content-length", "1000000"));
    let framing = "Content-Length: 1000000\r\n\r\n";
    let status = same_refusal_for_body(&both, announced, never, framing, "body_too_large").await;
    assert_eq!(status, 413);
}

/// The shared request table (`tests/fixtures/adapter-requests.json`, which the Cloudflare
/// Worker's parity test sends too), answered alike by the adapter and the service.
#[tokio::test]
async fn the_shared_request_table_is_answered_alike() {
    let text = include_str!("../../../tests/fixtures/adapter-requests.json");
    let table: serde_json::Value = serde_json::from_str(text).unwrap();
    let strings = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    };
    let secrets: HashMap<String, String> = strings(&table["secrets"]).into_iter().collect();
    let mut vars: HashMap<String, String> = strings(&table["vars"]).into_iter().collect();
    vars.extend(secrets.clone());
    // Metrics on a port of their own, as a function has none that is private.
    for (k, v) in [("HOST", "127.0.0.1"), ("PORT", "0"), ("METRICS_PORT", "0")] {
        vars.insert(k.to_owned(), v.to_owned());
    }
    let both = Both::start_with(vars).await;
    let mut states = HashMap::new();
    for (name, spec) in table["states"].as_object().unwrap() {
        let secret = match spec["secret"].as_str() {
            Some(var) => secrets[var].clone(),
            None => "someone-elses-secret-0123456789abcdef".to_owned(),
        };
        let target = spec["target"].as_str().unwrap();
        let state = match spec["format"].as_str().unwrap() {
            "native" => {
                let key = NativeKey::derive(&Secret::new(&secret).unwrap());
                native::sign(&key, &Target::parse(target).unwrap(), now(), 600, [7; 16]).unwrap()
            }
            _ => {
                let key = AuthJsKey::derive(&Secret::new(&secret).unwrap());
                authjs::encrypt(&key, &authjs::new_claims(target, now(), 900))
            }
        };
        states.insert(format!("{{{name}}}"), enc(&state));
    }
    let fill = |text: &str| -> String {
        let mut out = text.to_owned();
        if let Some(start) = out.find("{pad:") {
            let end = start + out[start..].find('}').unwrap();
            let n: usize = out[start + 5..end].parse().unwrap();
            out.replace_range(start..=end, &"a".repeat(n));
        }
        for (placeholder, state) in &states {
            out = out.replace(placeholder, state);
        }
        out
    };
    let mut count = 0;
    for case in table["requests"].as_array().unwrap() {
        let headers: Vec<(String, String)> = strings(&case["headers"]);
        let req = Req {
            method: case["method"].as_str().unwrap_or("GET"),
            target: fill(case["target"].as_str().unwrap()),
            headers: headers.iter().map(|(k, v)| (k.as_str(), fill(v))).collect(),
            body: fill(case["body"].as_str().unwrap_or("")),
        };
        let seen = both.same(req).await;
        assert_eq!(
            u64::from(seen.status),
            case["status"].as_u64().unwrap(),
            "{}",
            case["name"]
        );
        count += 1;
    }
    let matrix = &table["matrix"];
    for path in matrix["paths"].as_array().unwrap() {
        for method in matrix["methods"].as_array().unwrap() {
            for accept in matrix["accepts"].as_array().unwrap() {
                let mut req = Req::get(fill(path.as_str().unwrap()))
                    .header("accept", accept.as_str().unwrap());
                req.method = method.as_str().unwrap();
                both.same(req).await;
                count += 1;
            }
        }
    }
    assert!(count > 100, "{count} requests");
}
