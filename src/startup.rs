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
    server: Server,
}

impl Application {
    /// Binds `config.host:config.port` (port 0 picks a free one) and prepares the server.
    pub fn build(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind((config.host, config.port))?;
        Self::with_listener(config, listener)
    }

    /// Prepares the server on an already-bound listener.
    pub fn with_listener(config: Config, listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(Arc::new(AppState {
            config,
            metrics: Metrics::new(),
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
        .listen(listener)?
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .run();
        Ok(Self { port, server })
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
