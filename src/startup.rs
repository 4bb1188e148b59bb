//! Building and running the HTTP service.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer};

use crate::answer::COMMON_HEADERS;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::routes::{self, AppState};

/// Seconds that in-flight requests get to finish after SIGTERM or SIGINT.
pub const SHUTDOWN_GRACE_SECS: u64 = 10;

/// A relay bound to its port, not yet running.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
}

impl Application {
    /// Binds `config.host:config.port` (port 0 picks a free one) and prepares the server.
    /// With `METRICS_PORT` set it binds that port too, for `/metrics` alone.
    pub fn build(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind((config.host, config.port))?;
        let metrics_listener = match config.metrics_port {
            Some(p) => Some(TcpListener::bind((config.host, p))?),
            None => None,
        };
        Self::with_listeners(config, listener, metrics_listener)
    }

    /// Prepares the server on already-bound listeners.
    pub fn with_listeners(
        config: Config,
        listener: TcpListener,
        metrics_listener: Option<TcpListener>,
    ) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let metrics_port = match &metrics_listener {
            Some(l) => Some(l.local_addr()?.port()),
            None => None,
        };
        let state = web::Data::new(Arc::new(AppState {
            config,
            metrics: Metrics::new(),
            metrics_port,
        }));
        let server = HttpServer::new(move || {
            let base = state.config.base_path.clone();
            App::new()
                .app_data(state.clone())
                .wrap(
                    COMMON_HEADERS
                        .iter()
                        .fold(DefaultHeaders::new(), |h, &pair| h.add(pair)),
                )
                .service(
                    web::resource(format!("{base}/callback/{{provider}}"))
                        .route(web::get().to(routes::callback))
                        .route(web::post().to(routes::callback))
                        .default_service(web::to(routes::method_not_allowed)),
                )
                .route("/healthz", web::get().to(routes::healthz))
                .route("/readyz", web::get().to(routes::readyz))
                .route("/metrics", web::get().to(routes::metrics))
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?;
        let server = match metrics_listener {
            Some(l) => server.listen(l)?,
            None => server,
        };
        let server = server
            .client_request_timeout(std::time::Duration::from_secs(5))
            .shutdown_timeout(SHUTDOWN_GRACE_SECS)
            .run();
        Ok(Self {
            port,
            metrics_port,
            server,
        })
    }

    /// The bound metrics port, when `METRICS_PORT` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
