//! The Vercel function: authrelay's callback, `/healthz` and `/readyz` behind the rewrites
//! in `vercel.json`, answered by [`authrelay_vercel::handle`]. The configuration is read
//! once, when the instance starts.

use std::sync::Arc;

use authrelay_vercel::Relay;
use vercel_runtime::{run, service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let relay = Arc::new(Relay::from_env());
    relay.init_logging();
    run(service_fn(move |req: Request| {
        let relay = Arc::clone(&relay);
        async move { authrelay_vercel::handle(&relay, req).await }
    }))
    .await
}
