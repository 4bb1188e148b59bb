//! Building and running the HTTP service: binds the main listener (and the
//! `METRICS_PORT` one), runs an actix-web server whose one service is
//! [`crate::actix::handle`] over a shared [`Relay`], and swaps in a new configuration
//! while it runs ([`Reloader`]).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer};

use crate::actix::{self, MetricsPort};
use crate::answer::COMMON_HEADERS;
use crate::apps::Apps;
use crate::config::{Config, ConfigError, Source};
use crate::request::{MetricsRoute, Relay};

/// Seconds that in-flight requests get to finish after SIGTERM or SIGINT.
pub const SHUTDOWN_GRACE_SECS: u64 = 10;

/// Seconds a client has to send its request head, counted from the accepted connection;
/// then 408 and the connection is closed. Every connection carries one request (see
/// [`KEEP_ALIVE`]), so this bounds every request head the relay reads.
pub const REQUEST_HEAD_SECS: u64 = 5;

/// Seconds a connection may linger while the relay closes it (the client still sending a
/// body the relay will not read); then it is dropped.
pub const DISCONNECT_SECS: u64 = 1;

/// Connections are not kept alive: each one carries one request and is closed after its
/// answer (`Connection: close`). actix-web's deadline for a request head covers only the
/// first request on a connection, and a byte of a later head stops the keep-alive timer,
/// so a kept-alive connection could trickle a second head for ever, holding its file
/// descriptor. A callback relay serves one request per sign-in; reusing a connection buys
/// it nothing that matters.
pub const KEEP_ALIVE: KeepAlive = KeepAlive::Disabled;

/// A relay bound to its port, not yet running.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    relay: Arc<Relay>,
}

/// Swaps in a new configuration while the relay runs.
#[derive(Clone)]
pub struct Reloader {
    relay: Arc<Relay>,
}

impl Reloader {
    /// Reads `source` again and, when it is valid, swaps it in whole; requests already
    /// under way finish on the configuration they started with. An invalid source keeps
    /// the old configuration. Returns the new generation.
    pub fn reload(&self, source: &Source) -> Result<u64, ConfigError> {
        self.swap(source.load())
    }

    /// Swaps in already-loaded apps (or records the failure to load them).
    pub fn swap(&self, loaded: Result<Apps, ConfigError>) -> Result<u64, ConfigError> {
        self.relay.swap(loaded)
    }
}

impl Application {
    /// Binds `config.host:config.port` (port 0 picks a free one) and prepares the server
    /// for one app. With `METRICS_PORT` set it binds that port too, for `/metrics` alone.
    pub fn build(config: Config) -> std::io::Result<Self> {
        Self::build_apps(Apps::single(config))
    }

    /// The same for a set of apps; the listening settings are those every app shares.
    pub fn build_apps(apps: Apps) -> std::io::Result<Self> {
        let first = apps.first();
        let listener = TcpListener::bind((first.host, first.port))?;
        let metrics_listener = match first.metrics_port {
            Some(p) => Some(TcpListener::bind((first.host, p))?),
            None => None,
        };
        Self::with_listeners(apps, listener, metrics_listener)
    }

    /// Prepares the server on already-bound listeners.
    pub fn with_listeners(
        apps: Apps,
        listener: TcpListener,
        metrics_listener: Option<TcpListener>,
    ) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let metrics_port = match &metrics_listener {
            Some(l) => Some(l.local_addr()?.port()),
            None => None,
        };
        let metrics_route = match metrics_port {
            Some(_) => MetricsRoute::OwnListener,
            None => MetricsRoute::Main,
        };
        let relay = Arc::new(Relay::new(apps, metrics_route));
        let data = web::Data::new(relay.clone());
        let port_data = web::Data::new(MetricsPort(metrics_port));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(port_data.clone())
                // Every answer of the request path carries these already; the middleware
                // adds them to anything actix answers by itself.
                .wrap(
                    COMMON_HEADERS
                        .iter()
                        .fold(DefaultHeaders::new(), |h, &pair| h.add(pair)),
                )
                .default_service(web::to(actix::handle))
        })
        .listen(listener)?;
        let server = match metrics_listener {
            Some(l) => server.listen(l)?,
            None => server,
        };
        let server = server
            .keep_alive(KEEP_ALIVE)
            .client_request_timeout(Duration::from_secs(REQUEST_HEAD_SECS))
            .client_disconnect_timeout(Duration::from_secs(DISCONNECT_SECS))
            .shutdown_timeout(SHUTDOWN_GRACE_SECS)
            .run();
        Ok(Self {
            port,
            metrics_port,
            server,
            relay,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound metrics port, when `METRICS_PORT` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// A handle that swaps in new configurations.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            relay: self.relay.clone(),
        }
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
