//! The `authrelay` command line.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use authrelay_client::authjs;
use authrelay_client::inspect::inspect;
use authrelay_client::keyring::Keyring;
use authrelay_client::native::{self, NativeKey};
use authrelay_client::random_array;
use authrelay_client::secret::generate_secret_string;
use authrelay_client::target::{is_valid_provider_id, Target};
use clap::{Parser, Subcommand, ValueEnum};

use crate::apps::Apps;
use crate::config::{self, CommandSettings, Config, Secrets, Source};
use crate::request::now;
use crate::startup::{Application, Reloader};
use crate::telemetry;

/// The one stable OAuth callback for preview deployments.
#[derive(Debug, Parser)]
#[command(name = "authrelay", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// State formats `sign` can make.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// authrelay's compact HMAC-signed state.
    Native,
    /// The encrypted state of `@auth/core` with a redirect proxy.
    Authjs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the relay.
    Serve {
        /// Development mode: fills in what the environment leaves unset with a local
        /// setup (an ephemeral secret, loopback-only allowlist, 127.0.0.1) and prints a
        /// ready-to-try bounce.
        #[arg(long, conflicts_with = "config")]
        dev: bool,
        /// A TOML file with one [[apps]] table per app (default: $AUTHRELAY_CONFIG).
        /// SIGHUP reloads it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print a new random secret for AUTH_SECRET.
    Secret,
    /// Print a state for a target, made with the newest configured secret.
    Sign {
        /// The preview's callback URL, ending in /callback/<provider>.
        #[arg(long)]
        target: String,
        /// The provider id.
        #[arg(long)]
        provider: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 600)]
        ttl: u64,
        /// State format.
        #[arg(long, value_enum, default_value_t = Format::Native)]
        format: Format,
    },
    /// Say what a state holds and whether it verifies ("-" reads it from standard input).
    Inspect {
        /// The state.
        state: String,
    },
    /// Validate the configuration and print the callback URLs to register.
    Check {
        /// A config file to validate (default: $AUTHRELAY_CONFIG, else the environment).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Providers to print callback URLs for.
        #[arg(long = "provider", default_values_t = ["github".to_owned(), "google".to_owned(), "discord".to_owned(), "apple".to_owned()])]
        providers: Vec<String>,
    },
    /// Exit 0 when the relay on this machine answers /healthz (for container health checks).
    Healthcheck {
        /// The URL to probe; default http://127.0.0.1:$PORT/healthz.
        #[arg(long)]
        url: Option<String>,
    },
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("authrelay: {msg}");
    ExitCode::from(2)
}

/// Runs the command line; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { dev, config } => serve(dev, config),
        Command::Secret => {
            println!("{}", generate_secret_string());
            ExitCode::SUCCESS
        }
        Command::Sign {
            target,
            provider,
            ttl,
            format,
        } => sign(&target, &provider, ttl, format),
        Command::Inspect { state } => inspect_cmd(&state),
        Command::Check { config, providers } => check(config, &providers),
        Command::Healthcheck { url } => healthcheck(url),
    }
}

/// The loopback-only allowlist of development mode.
pub const DEV_ALLOWED_ORIGINS: &str = "http://localhost:*,http://127.0.0.1:*,http://[::1]:*";

/// The environment with development defaults filled in where unset.
pub fn dev_environment(mut vars: HashMap<String, String>) -> (HashMap<String, String>, bool) {
    let mut port = vars
        .get("PORT")
        .cloned()
        .unwrap_or_else(|| config::DEFAULT_PORT.to_string());
    // PORT=0 asks for any free port; AUTH_URL must name the real one, so pick it now.
    if port.trim() == "0" {
        if let Ok(addr) = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            port = addr.port().to_string();
            vars.insert("PORT".into(), port.clone());
        }
    }
    let generated = !vars.contains_key("AUTH_SECRET");
    vars.entry("AUTH_SECRET".into())
        .or_insert_with(generate_secret_string);
    vars.entry("HOST".into())
        .or_insert_with(|| "127.0.0.1".into());
    vars.entry("AUTH_URL".into())
        .or_insert_with(|| format!("http://127.0.0.1:{port}/api/auth"));
    vars.entry("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS".into())
        .or_insert_with(|| DEV_ALLOWED_ORIGINS.into());
    (vars, generated)
}

fn serve(dev: bool, config_file: Option<PathBuf>) -> ExitCode {
    let source = if dev {
        Source::Env
    } else {
        Source::choose(config_file)
    };
    let loaded = if dev {
        config::process_env().and_then(|vars| {
            let (vars, generated) = dev_environment(vars);
            Config::from_vars(vars).map(|c| (Apps::single(c), generated))
        })
    } else {
        source.load().map(|apps| (apps, false))
    };
    let (apps, generated_secret) = match loaded {
        Ok(a) => a,
        Err(e) => return fail(format!("configuration error: {e}")),
    };
    let first = apps.first().clone();
    telemetry::init(first.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let code = runtime.block_on(async move {
        let names: Vec<String> = apps.apps().iter().map(|a| a.name.clone()).collect();
        let app = match Application::build_apps(apps) {
            Ok(a) => a,
            Err(e) => {
                return fail(format!(
                    "cannot listen on {}:{}: {e}",
                    first.host, first.port
                ))
            }
        };
        if dev {
            print_dev_banner(&first, app.port(), generated_secret);
        }
        watch_sighup(app.reloader(), source, dev);
        tracing::info!(
            host = %first.host,
            port = app.port(),
            apps = %names.join(","),
            "authrelay listening"
        );
        match app.run_until_stopped().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("server error: {e}")),
        }
    });
    // The log writer may still hold the last lines.
    telemetry::flush();
    code
}

/// SIGHUP reloads a config file. Without one there is nothing to re-read (a process's
/// environment does not change), but the signal must still not end the relay.
fn watch_sighup(reloader: Reloader, source: Source, dev: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGHUP; reload by restarting");
            return;
        }
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            if dev || source == Source::Env {
                tracing::info!(
                    "SIGHUP ignored: no config file to reload (environment changes need a restart)"
                );
                continue;
            }
            match reloader.reload(&source) {
                Ok(generation) => tracing::info!(generation, "configuration reloaded"),
                Err(e) => tracing::error!(
                    error = %e,
                    "configuration reload failed; still serving the previous configuration"
                ),
            }
        }
    });
}

fn print_dev_banner(config: &Config, port: u16, generated_secret: bool) {
    let preview = "http://localhost:8080/api/auth/callback/github";
    // Without a target or a nonce there is no state to try, and the banner shows none.
    let state = Target::parse(preview)
        .ok()
        .zip(random_array().ok())
        .and_then(|(t, nonce)| {
            native::sign(
                &NativeKey::derive(config.secrets.signing()),
                &t,
                now(),
                600,
                nonce,
            )
            .ok()
        })
        .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "authrelay development mode — not for production");
    if generated_secret {
        let _ = writeln!(
            out,
            "  AUTH_SECRET (ephemeral, share it with your local preview): {}",
            config.secrets.signing().expose_secret()
        );
    }
    let _ = writeln!(
        out,
        "  callback URL to register: {}",
        config.callback_url("github")
    );
    // The secret is shown only when this process made it up; one from the environment
    // is the operator's and stays off the screen.
    let secret = if generated_secret {
        format!(
            "AUTH_SECRET='{}' ",
            config.secrets.signing().expose_secret()
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  for `authrelay check`, `sign` and `inspect` in another shell:\n    export {secret}AUTH_URL='{}' AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS='{DEV_ALLOWED_ORIGINS}'",
        config.public_url
    );
    let _ = writeln!(out, "  allowed origins:          {DEV_ALLOWED_ORIGINS}");
    let _ = writeln!(
        out,
        "  try a bounce within 10 minutes (the state expires; it answers 302 to {preview}):"
    );
    let _ = writeln!(
        out,
        "    curl -i 'http://127.0.0.1:{port}{}/callback/github?code=test-code&state={state}'",
        config.base_path
    );
    let _ = writeln!(
        out,
        "  and see what its state holds:\n    authrelay inspect '{state}'"
    );
    let _ = out.flush();
}

fn sign(target: &str, provider: &str, ttl: u64, format: Format) -> ExitCode {
    let secrets = match config::secrets_from_env() {
        Ok(s) => s,
        Err(e) => return fail(format!("configuration error: {e}")),
    };
    if !is_valid_provider_id(provider) {
        return fail("--provider must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-'");
    }
    let parsed = match Target::parse(target) {
        Ok(t) => t,
        Err(e) => return fail(format!("--target is not an acceptable callback URL: {e}")),
    };
    if parsed.callback_provider() != Some(provider) {
        return fail(format!("--target's path must end in /callback/{provider}"));
    }
    // A state must outlive no relay's AUTH_STATE_MAX_AGE, or the relay refuses it.
    let max_age = CommandSettings::from_env()
        .state_max_age
        .min(config::MAX_STATE_MAX_AGE);
    if ttl == 0 || ttl > max_age {
        return fail(format!(
            "--ttl must be between 1 and {max_age} seconds (the relay's AUTH_STATE_MAX_AGE)"
        ));
    }
    match make_state(&secrets, &parsed, ttl, format, random_array::<64>) {
        Ok(state) => {
            println!("{state}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// The state `sign` prints, made with the newest secret. `random` draws the state's
/// randomness (a native state's nonce; an Auth.js state's `random`, `jti` and IV): when
/// it fails there is no state, never one with predictable bytes.
fn make_state<E: std::fmt::Display>(
    secrets: &Secrets,
    target: &Target,
    ttl: u64,
    format: Format,
    random: impl FnOnce() -> Result<[u8; 64], E>,
) -> Result<String, String> {
    let bytes = random().map_err(|e| e.to_string())?;
    let part = |from: usize| -> [u8; 16] {
        let mut out = [0; 16];
        out.copy_from_slice(&bytes[from..from + 16]);
        out
    };
    match format {
        Format::Native => native::sign(
            &NativeKey::derive(secrets.signing()),
            target,
            now(),
            ttl,
            part(0),
        )
        .map_err(|e| e.to_string()),
        Format::Authjs => {
            let key = authjs::AuthJsKey::derive(secrets.signing());
            let mut claim_random = [0; 32];
            claim_random.copy_from_slice(&bytes[..32]);
            let claims = authjs::claims_with(target.as_str(), now(), ttl, claim_random, part(32));
            let json = serde_json::to_vec(&claims).map_err(|e| e.to_string())?;
            Ok(authjs::encrypt_with_iv(&key, &json, part(48)))
        }
    }
}

fn inspect_cmd(state: &str) -> ExitCode {
    let state = if state == "-" {
        let mut s = String::new();
        if std::io::stdin().read_to_string(&mut s).is_err() {
            return fail("cannot read the state from standard input");
        }
        s.trim().to_owned()
    } else {
        state.trim().to_owned()
    };
    let secrets = config::secrets_from_env().ok();
    let max_age = CommandSettings::from_env().state_max_age;
    let keyring = secrets.as_ref().map(|s| Keyring::new(s.secrets()));
    let report = inspect(&state, keyring.as_ref(), now(), max_age);
    let mut out = String::new();
    let name = |i: usize| match &secrets {
        Some(s) => format!("secret #{} ({})", i + 1, s.name(i)),
        None => format!("secret #{}", i + 1),
    };
    let _ = report.write_report(&mut out, &name);
    print!("{out}");
    match report.verification {
        Some(Ok(_)) => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

fn check(config_file: Option<PathBuf>, providers: &[String]) -> ExitCode {
    let apps = match Source::choose(config_file).load() {
        Ok(a) => a,
        Err(e) => return fail(format!("configuration error: {e}")),
    };
    println!(
        "configuration: ok ({} app{})",
        apps.apps().len(),
        if apps.apps().len() == 1 { "" } else { "s" }
    );
    for config in apps.apps() {
        if apps.apps().len() > 1 || config.name != config::DEFAULT_APP {
            println!("\napp {}:", config.name);
        }
        println!(
            "secrets (newest first): {}",
            config.secrets.names().join(", ")
        );
        println!("base path: {}", config.base_path);
        println!("state max age: {} s", config.state_max_age);
        println!("allowed origins:");
        for p in config.allowlist.patterns() {
            println!("  {p}");
        }
        println!("callback URLs to register:");
        for p in providers {
            if is_valid_provider_id(p) {
                println!("  {p:<10} {}", config.callback_url(p));
            } else {
                println!("  {p:<10} (not a valid provider id)");
            }
        }
        print_authorize(config);
        for w in config.allowlist.warnings() {
            println!("warning: {w}");
        }
    }
    ExitCode::SUCCESS
}

/// What `check` says of an app's authorize route: per provider, what to register at the
/// provider and what to put in the preview's OAuth library configuration.
fn print_authorize(config: &Config) {
    if config.authorize.is_empty() {
        return;
    }
    println!("authorize route (OAuth libraries without the secret):");
    for (provider, a) in &config.authorize {
        let pattern = a.callback_path.as_str().replace("{provider}", provider);
        println!("  {provider}:");
        println!("    register at the provider:");
        println!(
            "      redirect URI        {}",
            config.callback_url(provider)
        );
        println!("      client ids          {}", a.client_ids.join(", "));
        println!("    forwarded to        {}", a.endpoint);
        println!("    in the preview's OAuth library:");
        println!(
            "      authorization URL   {}?{}=<the preview's callback URL, URL-encoded>",
            config.authorize_url(provider),
            config::RETURN_PARAM
        );
        println!(
            "      redirect_uri        {}",
            config.callback_url(provider)
        );
        println!("      client id           one of the above; token URL: the provider's own");
        println!("    the preview's callback path must match  {pattern}  ('*' = any prefix)");
    }
}

fn healthcheck(url: Option<String>) -> ExitCode {
    let url = url.unwrap_or_else(|| {
        let port = CommandSettings::from_env().port;
        format!("http://127.0.0.1:{}/healthz", port.trim())
    });
    match crate::health::probe(&url, std::time::Duration::from_secs(3)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authrelay: healthcheck failed: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_makes_no_state_when_the_random_source_fails() {
        let secrets =
            config::secrets_from_iter([("AUTH_SECRET".to_owned(), "cli-test-secret-".repeat(3))])
                .unwrap();
        let target =
            Target::parse("https://pr-1.preview.example.com/api/auth/callback/github").unwrap();
        for format in [Format::Native, Format::Authjs] {
            let err = make_state(&secrets, &target, 600, format, || {
                Err("the random source failed")
            })
            .unwrap_err();
            assert_eq!(err, "the random source failed");
            let state =
                make_state(&secrets, &target, 600, format, || Ok::<_, &str>([7; 64])).unwrap();
            let verified = Keyring::new(secrets.secrets()).verify(&state, now(), 600);
            assert!(verified.is_ok(), "{verified:?}");
        }
    }
}
