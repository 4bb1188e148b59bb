//! Black-box tests of the relay: one test binary, the real app on real sockets.

mod adversarial;
mod authorize;
mod callback_get;
mod cli;
mod form_post;
mod health;
mod helpers;
mod hostile_targets;
mod invariants;
mod keep_alive;
mod multi_app;
mod refusals;
mod rotation;
mod startup_env;
