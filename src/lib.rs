//! authrelay: the one stable OAuth callback for preview deployments.
//!
//! The service half. The decision of where a browser goes is [`relay::decide`], a pure
//! function; [`startup::Application`] serves it over HTTP with actix-web.

pub mod answer;
pub mod cli;
pub mod config;
pub mod health;
pub mod metrics;
pub mod page;
pub mod relay;
pub mod routes;
pub mod service;
pub mod startup;
pub mod telemetry;
