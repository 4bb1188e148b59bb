//! authrelay on Cloudflare Workers: a thin adapter from a Worker's request to the relay's
//! request path ([`authrelay::request::Relay::handle`]) and back. It translates types and
//! nothing else, so it answers as the actix service does: the same routes and methods
//! (`HEAD` included), the same body limit and body errors, the same refusals, redirects and
//! pages (`tests/parity.test.mjs` sends one table of requests to both and compares them).
//! Every path of a Worker is public, so it serves `/metrics` nowhere, as a binary with
//! `METRICS_PORT` does not on its public port; the JSON log line per callback is what
//! operators read (Workers Logs, Logpush).
//!
//! Configuration is the binary's: the same variable names, parsed and checked by
//! `authrelay::config`, from the Worker's bindings (`[vars]` and secrets) instead of the
//! process environment, once per isolate. Several apps come from [`CONFIG_TOML_VAR`],
//! the text of a config file. A Worker has no start-up to fail, so an invalid
//! configuration is logged in one line and every request answers 503 `configuration_error`
//! (the page, or `{"error":"configuration_error"}` for `Accept: application/json`), except
//! `/healthz`, which still answers: the isolate is alive, it is not ready.
//!
//! The clock is the Worker's (`Date.now()`, through `web-time` in the library), randomness
//! is Web Crypto's (getrandom's `wasm_js` backend).

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use authrelay::answer::{self, Answer};
use authrelay::apps::Apps;
use authrelay::config::{self, Config, ConfigError, LogFormat};
use authrelay::relay::Refusal;
use authrelay::request::{self, BodyError, Headers, Listener, Method, MetricsRoute};
use futures_util::StreamExt as _;
use worker::js_sys::{Array, Object};
use worker::wasm_bindgen::JsCast as _;
use worker::{event, Context, Env, Request, Response, ResponseBuilder};

/// The `[vars]` entry that holds the text of a config file of several apps (a Worker has
/// no file system for `AUTHRELAY_CONFIG` to name a file on). Each app's `secret_env`
/// names Worker secrets.
pub const CONFIG_TOML_VAR: &str = "AUTHRELAY_CONFIG_TOML";

/// The relay for the life of an isolate, or why there is none.
pub struct Relay {
    relay: Result<request::Relay, String>,
}

thread_local! {
    /// Read from the bindings at the first request an isolate serves.
    static RELAY: OnceCell<Rc<Relay>> = const { OnceCell::new() };
}

impl Relay {
    /// The relay of these bindings (`[vars]` and secrets, by name). Installs logging and
    /// logs a configuration error in one line.
    pub fn from_vars(vars: HashMap<String, String>) -> Self {
        let loaded = load(&vars);
        let format = match &loaded {
            Ok(apps) => apps.first().log_format,
            Err(_) => LogFormat::Json,
        };
        init_logging(format);
        let relay = loaded
            // A Worker has no private listener: metrics are served nowhere.
            .map(|apps| request::Relay::new(apps, MetricsRoute::OwnListener))
            .map_err(|e| {
                let e = e.to_string();
                // The line `authrelay serve` prints before it refuses to start.
                worker::console_error!("authrelay: configuration error: {e}");
                e
            });
        Self { relay }
    }

    /// Why the configuration is invalid, in one line without any secret.
    pub fn config_error(&self) -> Option<&str> {
        self.relay.as_ref().err().map(String::as_str)
    }
}

/// One app from the variables, or one per `[[apps]]` of [`CONFIG_TOML_VAR`], with the
/// binary's rules and messages.
fn load(vars: &HashMap<String, String>) -> Result<Apps, ConfigError> {
    match vars.get(CONFIG_TOML_VAR) {
        Some(text) => {
            let lookup = |name: &str| Ok(vars.get(name).cloned());
            config::apps_from_file(Path::new(CONFIG_TOML_VAR), text, vars.clone(), &lookup)
        }
        None => Config::from_vars(vars.clone()).map(Apps::single),
    }
}

/// The Worker's text bindings (`[vars]` and secrets), by name. A `[vars]` number or
/// boolean (`AUTH_STATE_MAX_AGE = 600`, `AUTH_TRUST_HOST = true` in wrangler.toml) is
/// taken as its text, as the environment would carry it, so that it is checked like any
/// other value instead of silently falling back to the default. Other bindings (KV,
/// objects) are not configuration and are left out.
fn bindings(env: &Env) -> HashMap<String, String> {
    Object::entries(env.unchecked_ref::<Object>())
        .iter()
        .filter_map(|entry| {
            let pair: Array = entry.unchecked_into();
            let value = pair.get(1);
            let text = value
                .as_string()
                .or_else(|| value.as_bool().map(|b| b.to_string()))
                .or_else(|| value.as_f64().map(|n| n.to_string()))?;
            Some((pair.get(0).as_string()?, text))
        })
        .collect()
}

/// Log lines go to the console, which Workers Logs and Logpush collect: one line a
/// callback, as the binary writes them minus the timestamp the platform adds.
fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(|| ConsoleLine(Vec::new()))
        .with_ansi(false)
        .without_time()
        .with_max_level(tracing::Level::INFO);
    // A second call (never made: once per isolate) would find a subscriber set.
    let _ = match format {
        LogFormat::Json => {
            tracing::subscriber::set_global_default(builder.json().flatten_event(true).finish())
        }
        LogFormat::Pretty => tracing::subscriber::set_global_default(builder.finish()),
    };
}

/// One log line, written to the console when the event is done.
struct ConsoleLine(Vec<u8>);

impl std::io::Write for ConsoleLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ConsoleLine {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.0);
        let line = line.trim_end();
        if !line.is_empty() {
            worker::console_log!("{line}");
        }
    }
}

/// Reads the body, at most `limit` bytes (one byte more is enough to refuse it).
async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, BodyError> {
    // A request without a body has none to read.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Malformed)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Turns an [`Answer`] into a response.
pub fn to_response(a: Answer) -> Response {
    let headers = worker::Headers::new();
    for (name, value) in &a.headers {
        // Never send a redirect (or anything else) whose header could not be carried
        // faithfully.
        if headers.set(name, value).is_err() {
            return to_response(answer::refusal(Refusal::TargetInvalid, false));
        }
    }
    ResponseBuilder::new()
        .with_status(a.status)
        .with_headers(headers)
        .fixed(a.body.into_bytes())
}

/// Answers one request.
pub async fn handle(relay: &Relay, mut req: Request) -> Response {
    let url = match req.url() {
        Ok(url) => url,
        Err(_) => return to_response(answer::refusal(Refusal::NotFound, false)),
    };
    let method = Method::from_name(req.method().as_ref());
    let relay = match &relay.relay {
        Ok(relay) => relay,
        // Alive but not ready: /healthz answers, everything else (/readyz included) 503.
        Err(_) if url.path() == "/healthz" && matches!(method, Method::Get | Method::Head) => {
            return to_response(answer::healthz())
        }
        Err(_) => {
            let accept = req.headers().get("accept").ok().flatten();
            return to_response(answer::configuration_error(answer::wants_json(
                accept.as_deref(),
            )));
        }
    };
    let header = |name| req.headers().get(name).ok().flatten();
    let (host, forwarded_host, accept, content_type, content_length) = (
        header("host"),
        header("x-forwarded-host"),
        header("accept"),
        header("content-type"),
        header("content-length"),
    );
    let request = request::Request {
        method,
        path: url.path(),
        query: url.query().unwrap_or(""),
        headers: Headers {
            host: host.as_deref(),
            forwarded_host: forwarded_host.as_deref(),
            accept: accept.as_deref(),
            content_type: content_type.as_deref(),
            content_length: content_length.as_deref(),
        },
        listener: Listener::Main,
    };
    let answer = relay
        .handle(request, |limit| read_body(&mut req, limit))
        .await;
    to_response(answer)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let relay = RELAY.with(|r| {
        r.get_or_init(|| Rc::new(Relay::from_vars(bindings(&env))))
            .clone()
    });
    Ok(handle(&relay, req).await)
}
