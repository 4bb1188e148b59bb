//! Explaining a state in plain words, for `authrelay inspect` and for debugging.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::keyring::{Keyring, Rejection, StateFormat, VerifiedState};
use crate::native;

/// What is known about a state.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The format it looks like.
    pub format: StateFormat,
    /// Its length in characters.
    pub length: usize,
    /// Fields readable without a secret: for native states every field (they are signed,
    /// not encrypted); for Auth.js states the JWE header.
    pub readable: Vec<(&'static str, String)>,
    /// The verification result, when keys were given.
    pub verification: Option<Result<VerifiedState, Rejection>>,
    /// The time of the inspection, Unix seconds.
    pub now: u64,
}

/// Inspects a state. With a keyring it also verifies it at `now` with `max_age`, and the
/// format is the one verification detected.
pub fn inspect(state: &str, keyring: Option<&Keyring>, now: u64, max_age: u64) -> Inspection {
    let verification = keyring.map(|k| k.verify(state, now, max_age));
    let format = match &verification {
        Some(Ok(v)) => v.format,
        Some(Err(r)) => r.format(),
        None => StateFormat::detect(state),
    };
    let mut readable = Vec::new();
    match format {
        StateFormat::Native => match native::read_unverified(state) {
            Ok(u) => {
                readable.push(("version", u.version.to_string()));
                readable.push(("key id", u.kid));
                readable.push(("issued at", describe_time(u.issued_at, now)));
                readable.push(("expires at", describe_time(u.expires_at, now)));
                readable.push(("target (unverified)", u.target.escape_debug().to_string()));
            }
            Err(e) => readable.push(("framing", e.to_string())),
        },
        StateFormat::AuthJs => {
            let header = state
                .split('.')
                .next()
                .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
            match header {
                Some(serde_json::Value::Object(map)) => {
                    for key in ["alg", "enc", "kid", "zip"] {
                        if let Some(v) = map.get(key) {
                            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                            readable.push((header_label(key), text.escape_debug().to_string()));
                        }
                    }
                }
                _ => readable.push(("header", "not a base64url JSON object".to_owned())),
            }
            readable.push(("parts", state.split('.').count().to_string()));
        }
    }
    Inspection {
        format,
        length: state.len(),
        readable,
        verification,
        now,
    }
}

fn header_label(key: &str) -> &'static str {
    match key {
        "alg" => "header alg",
        "enc" => "header enc",
        "kid" => "header kid",
        _ => "header zip",
    }
}

/// A Unix time with how far it is from `now`.
pub fn describe_time(t: u64, now: u64) -> String {
    if t >= now {
        format!("{t} (in {} s)", t - now)
    } else {
        format!("{t} ({} s ago)", now - t)
    }
}

impl Inspection {
    /// Writes the report; `secret_name` turns a secret's position into its name.
    pub fn write_report(
        &self,
        f: &mut dyn fmt::Write,
        secret_name: &dyn Fn(usize) -> String,
    ) -> fmt::Result {
        let format = match self.format {
            StateFormat::Native => "native (authrelay v1, HMAC-SHA256)",
            StateFormat::AuthJs => "Auth.js (JWE dir + A256CBC-HS512)",
        };
        writeln!(f, "format:   {format}")?;
        writeln!(f, "length:   {} characters", self.length)?;
        for (k, v) in &self.readable {
            writeln!(f, "{k}: {v}")?;
        }
        match &self.verification {
            None => writeln!(
                f,
                "verifies: not checked (no secret configured: set AUTH_SECRET)"
            )?,
            Some(Ok(v)) => {
                writeln!(f, "verifies: yes, with {}", secret_name(v.secret_index))?;
                writeln!(f, "target:   {}", v.target)?;
                match &v.provider {
                    Some(p) => writeln!(f, "provider: {p}")?,
                    None => writeln!(
                        f,
                        "provider: {} (from the target's path)",
                        v.target.callback_provider().unwrap_or("none")
                    )?,
                }
                if let Some(iat) = v.issued_at {
                    writeln!(f, "issued:   {}", describe_time(iat, self.now))?;
                }
                writeln!(f, "expires:  {}", describe_time(v.expires_at, self.now))?;
            }
            Some(Err(r)) => {
                writeln!(
                    f,
                    "verifies: no — {} ({}: {})",
                    r.code(),
                    r.detail_code(),
                    r
                )?;
            }
        }
        Ok(())
    }
}
