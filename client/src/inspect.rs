//! Explaining a state in plain words, for `authrelay inspect` and for debugging.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::keyring::{read_legacy_authjs, Keyring, Rejection, StateFormat, VerifiedState};
use crate::{envelope, native};

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
        StateFormat::Envelope => match envelope::read_unverified(state) {
            Ok(u) => {
                readable.push(("version", envelope::VERSION.to_string()));
                readable.push((
                    "provider (unverified)",
                    u.provider.escape_debug().to_string(),
                ));
                readable.push(("expires at", describe_time(u.expires_at, now)));
                readable.push(("target (unverified)", u.target.escape_debug().to_string()));
                // The library's own state is its CSRF token: its length only.
                readable.push((
                    "inner state",
                    format!("{} bytes (not shown)", u.inner_state_len),
                ));
            }
            Err(e) => readable.push(("framing", e.to_string())),
        },
        StateFormat::AuthJsLegacy => {
            let json = read_legacy_authjs(state).unwrap_or_default();
            let keys: Vec<&str> = json.keys().map(String::as_str).collect();
            readable.push(("JSON keys", keys.join(", ").escape_debug().to_string()));
            if let Some(origin) = json.get("origin") {
                let text = origin
                    .as_str()
                    .map_or_else(|| origin.to_string(), str::to_owned);
                readable.push(("origin (unverified)", text.escape_debug().to_string()));
            }
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
            StateFormat::AuthJsLegacy => "Auth.js before 0.35.3 (unsigned base64url JSON)",
            StateFormat::Envelope => {
                "authrelay authorize envelope v1 (HMAC-SHA256, relay-only key)"
            }
        };
        writeln!(f, "format:   {format}")?;
        if let Some(advice) = self.format.advice() {
            writeln!(f, "advice:   {advice}")?;
        }
        writeln!(f, "length:   {} characters", self.length)?;
        for (k, v) in &self.readable {
            writeln!(f, "{k}: {v}")?;
        }
        match &self.verification {
            None if self.format.advice().is_some() => {
                writeln!(f, "verifies: never (this format is not accepted)")?
            }
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::*;
    use crate::Secret;

    fn report(i: &Inspection) -> String {
        let mut out = String::new();
        i.write_report(&mut out, &|n| format!("secret #{n}"))
            .unwrap();
        out
    }

    #[test]
    fn inspect_names_a_legacy_authjs_state_and_its_fix() {
        let state = URL_SAFE_NO_PAD.encode(
            r#"{"origin":"https://pr-1.preview.example.com/api/auth/callback/github","random":"r"}"#,
        );
        let keyring = Keyring::new(&[Secret::new("0123456789abcdef0123456789abcdef").unwrap()]);
        let without = report(&inspect(&state, None, 1_700_000_000, 900));
        let with = report(&inspect(&state, Some(&keyring), 1_700_000_000, 900));
        for text in [&without, &with] {
            assert!(
                text.contains("format:   Auth.js before 0.35.3 (unsigned base64url JSON)"),
                "{text}"
            );
            assert!(
                text.contains("advice:   This sign-in state is the unsigned one of Auth.js"),
                "{text}"
            );
            assert!(
                text.contains("upgrade @auth/core to 0.35.3 or later"),
                "{text}"
            );
            assert!(text.contains("JSON keys: origin, random"), "{text}");
            assert!(
                text.contains(
                    "origin (unverified): https://pr-1.preview.example.com/api/auth/callback/github"
                ),
                "{text}"
            );
        }
        assert!(
            without.contains("verifies: never (this format is not accepted)"),
            "{without}"
        );
        assert!(
            with.contains("verifies: no — state_malformed (legacy_unsigned: "),
            "{with}"
        );
    }

    #[test]
    fn inspect_reads_an_envelope_without_showing_the_inner_state() {
        use crate::envelope::{self, EnvelopeKey};
        use crate::target::Target;
        let secret = Secret::new("0123456789abcdef0123456789abcdef").unwrap();
        let target =
            Target::parse("https://pr-1.preview.example.com/auth/github/callback").unwrap();
        let inner = "qqinnerstateqq";
        let e = envelope::seal(
            &EnvelopeKey::derive(&secret),
            "github",
            &target,
            inner,
            1_700_000_900,
        )
        .unwrap();
        let keyring = Keyring::new(&[secret]);
        let without = report(&inspect(&e, None, 1_700_000_000, 900));
        let with = report(&inspect(&e, Some(&keyring), 1_700_000_000, 900));
        for text in [&without, &with] {
            assert!(
                text.contains("format:   authrelay authorize envelope v1"),
                "{text}"
            );
            assert!(text.contains("provider (unverified): github"), "{text}");
            assert!(text.contains("inner state: 14 bytes (not shown)"), "{text}");
            assert!(!text.contains(inner), "{text}");
        }
        assert!(with.contains("verifies: yes, with secret #0"), "{with}");
        assert!(
            with.contains("target:   https://pr-1.preview.example.com/auth/github/callback"),
            "{with}"
        );
    }
}
