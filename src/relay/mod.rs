//! The relay's decision: a pure function of the callback, the configuration and the clock.
//!
//! The request path ([`crate::request`]) reduces a callback to a [`CallbackRequest`];
//! [`decide()`] (one app) or [`decide_among`] (one of several apps) answers with an
//! [`Outcome`]: a [`Decision`] (redirect, form post or [`Refusal`]) and what logs and
//! metrics may say about it. Everything that decides where a browser goes is here, so it
//! is tested without a network. Nothing here does I/O: the request path writes the log
//! line and counts the metrics.
//!
//! - [`refusal`]: the reason codes.
//! - [`params`]: strict decoding of the query or form body.
//! - [`outcome`]: the decision and its log and metric labels.
//! - [`decide`](mod@decide): the checks, in order.
//! - [`authorize`](mod@authorize): the authorize route's checks and its redirect to the
//!   provider.
//! - [`authority`]: whether a target is the relay itself.
//! - [`location`]: the redirect's `Location`.

pub mod authority;
pub mod authorize;
pub mod decide;
pub mod location;
pub mod outcome;
pub mod params;
pub mod refusal;

pub use authority::request_host;
pub use authorize::{authorize, AuthorizeRequest};
pub use decide::{decide, decide_among, CallbackMethod, CallbackRequest, CALLBACK_PARAMS};
pub use outcome::{Decision, Outcome};
pub use params::{parse_params, Param, MAX_PARAMS, MAX_PARAMS_LEN};
pub use refusal::{Hint, Refusal};
