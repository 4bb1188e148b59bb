//! The ceiling for this machine: a bare actix-web server that answers every request with
//! the same 302, as fast as actix can, with the relay's worker count (actix's default,
//! one per core). `scripts/bench/load.sh` loads it next to the relay, so that the relay's
//! figures can be read as a fraction of what the framework itself allows here.
//!
//! ```sh
//! HOST=127.0.0.1 PORT=3100 cargo run --release --example bare_ceiling
//! ```

use actix_web::http::header;
use actix_web::{web, App, HttpResponse, HttpServer};

/// The same shape of answer as the relay's redirect: a `Location` to the same target, and
/// the two headers every relay response carries. It is shorter than the relay's, which
/// carries the callback's whole query (about 265 bytes with a native state, 614 with an
/// Auth.js one, against 95 here): echoing the query would be work, and the ceiling does
/// none.
const LOCATION: &str = "https://pr-1234.preview.example.com/api/auth/callback/github?code=8f1c2a9b7e6d5c4b3a29&state=AQ";

async fn bounce() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, LOCATION))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "PORT must be a port number",
            )
        })?,
        Err(_) => 3100,
    };
    HttpServer::new(|| App::new().default_service(web::to(bounce)))
        .bind((host.as_str(), port))?
        .run()
        .await
}
