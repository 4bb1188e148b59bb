//! authrelay: the one stable OAuth callback for preview deployments.
//!
//! The service half. The layout follows the path of a request:
//!
//! - [`actix`] (and the Vercel function in `deploy/vercel`) adapt an HTTP framework to
//!   the request path and do nothing else;
//! - [`request`] is the request path: routes, methods, the body's limit and deadline,
//!   metrics and the log line, the same for every adapter;
//! - [`relay`] is the decision, a pure function of the callback, the configuration and
//!   the clock; [`answer`] and [`page`] turn it into status, headers and body;
//! - [`config`] reads and checks the configuration, [`apps`] holds the apps a relay
//!   serves; [`startup`] binds the listeners; [`cli`] is the `authrelay` command;
//! - [`metrics`], [`telemetry`] and [`health`] are for operators; [`recent`] is the
//!   per-thread memory the hot path uses.
//!
//! The default feature `server` adds what only the binary needs: [`actix`], [`startup`],
//! [`cli`], [`telemetry`] and [`health`]. Without it the rest builds for
//! `wasm32-unknown-unknown` (the Cloudflare Worker in `deploy/cloudflare`).

#[cfg(feature = "server")]
pub mod actix;
pub mod answer;
pub mod apps;
#[cfg(feature = "server")]
pub mod cli;
pub mod config;
#[cfg(feature = "server")]
pub mod health;
pub mod metrics;
pub mod page;
pub mod recent;
pub mod relay;
pub mod request;
#[cfg(feature = "server")]
pub mod startup;
#[cfg(feature = "server")]
pub mod telemetry;
