//! Start-up against bad configuration, wide: every variable the relay reads
//! (`authrelay::config::VARS`) set to empty, blank, garbage (control characters,
//! escapes, newlines), huge, non-UTF-8 and out-of-range values, each on top of an otherwise
//! good environment, through the real binary's `serve`.
//!
//! A bad value must stop start-up with exit code 2 and exactly one line on standard error
//! that names the variable, never a panic, and never a secret's value. A value that is in
//! fact acceptable (a huge but valid secret, say) must start a relay.
//!
//! `cli.rs` has the smaller table of the everyday mistakes; this one goes wide.
//!
//! "Huge" is 1 MiB where the operating system can pass it: Linux refuses any single
//! environment string over `MAX_ARG_STRLEN` (32 pages, 128 KiB) with `E2BIG` at `execve`,
//! before the relay runs, so the 1 MiB case asserts exactly that and the largest value the
//! kernel passes (128 KiB less the name) is what the relay sees.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use authrelay::config::{VarKind, VARS};

use crate::helpers::*;

/// The environment every case starts from: valid, on a free loopback port.
fn base_env() -> Vec<(&'static str, OsString)> {
    [
        ("AUTH_SECRET", SECRET),
        ("AUTH_URL", PUBLIC_URL),
        ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", ALLOWED),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k, OsString::from(v)))
    .collect()
}

/// What a case must do.
#[derive(Debug, Clone)]
enum Want {
    /// Exit 2 with one stderr line naming the variable and containing this text.
    Fails(&'static str),
    /// Start and keep running.
    Starts,
}

use Want::{Fails, Starts};

struct Case {
    var: &'static str,
    what: String,
    value: OsString,
    /// Other variables to set for this case.
    extra: Vec<(&'static str, OsString)>,
    /// Start from the environment of a config-file relay (no single-app variables).
    file_base: bool,
    want: Want,
}

impl Case {
    /// `var` set to `value` on the one-app environment.
    fn new(var: &'static str, what: &str, value: OsString, want: Want) -> Self {
        Case {
            var,
            what: what.to_owned(),
            value,
            extra: Vec::new(),
            file_base: false,
            want,
        }
    }
}

/// `var` set to garbage, to the longest run of `fill` the kernel passes, and to each of
/// `values`: every one refused with `text`.
fn refused(
    var: &'static str,
    fill: &str,
    values: &[(&str, &str)],
    text: &'static str,
) -> Vec<Case> {
    let huge = fill.repeat(max_len(var));
    [("garbage", GARBAGE), ("huge", huge.as_str())]
        .iter()
        .chain(values)
        .map(|(what, value)| Case::new(var, what, os(value), Fails(text)))
        .collect()
}

fn os(s: impl AsRef<str>) -> OsString {
    OsString::from(s.as_ref())
}

fn bytes(b: &[u8]) -> OsString {
    OsStr::from_bytes(b).to_os_string()
}

/// The longest value the kernel passes for `var` (the whole `NAME=value\0` string is
/// capped at 32 pages).
fn max_len(var: &str) -> usize {
    32 * 4096 - var.len() - 2
}

const MIB: usize = 1 << 20;

/// The names of the variables of `kind`.
fn names(kind: VarKind) -> impl Iterator<Item = &'static str> {
    VARS.iter().filter(move |v| v.kind == kind).map(|v| v.name)
}

/// Garbage that stresses one-line error messages: newlines, escapes, NUL-free controls,
/// bidi overrides, quotes.
const GARBAGE: &str = "gar\nbage\r\x1b[31m\u{202e}'\"`$(id)\t;";

/// Values that are wrong for every variable, in the same way.
fn common_cases(var: &'static str) -> Vec<Case> {
    let case = |what: &str, value: OsString, want: Want| Case::new(var, what, value, want);
    if var == "AUTHRELAY_CONFIG" {
        // An empty value is no config file (the environment is used); anything else is a
        // file name, so blank ones are files that cannot be read.
        return vec![
            case("empty", os(""), Starts),
            case("blank", os(" \t "), Fails("cannot be read")),
            case("newline only", os("\n"), Fails("cannot be read")),
            case(
                "non-UTF-8 byte",
                bytes(b"\xff"),
                Fails("is not valid UTF-8"),
            ),
            case(
                "non-UTF-8 inside text",
                bytes(b"/tmp/\xc3\x28.toml"),
                Fails("is not valid UTF-8"),
            ),
        ];
    }
    vec![
        case("empty", os(""), Fails("is set but empty")),
        case("blank", os(" \t "), Fails("is set but empty")),
        case("newline only", os("\n"), Fails("is set but empty")),
        case(
            "non-UTF-8 byte",
            bytes(b"\xff"),
            Fails("is not valid UTF-8"),
        ),
        case(
            "non-UTF-8 inside text",
            bytes(b"https://a.example.com/\xc3\x28-0123456789abcdef0123456789"),
            Fails("is not valid UTF-8"),
        ),
        case(
            "lone surrogate (WTF-8)",
            bytes(b"\xed\xa0\x80abcdefghijklmnopqrstuvwxyz0123456789"),
            Fails("is not valid UTF-8"),
        ),
        case(
            "overlong encoding",
            bytes(b"\xc0\xafabcdefghijklmnopqrstuvwxyz0123456789"),
            Fails("is not valid UTF-8"),
        ),
    ]
}

fn table() -> Vec<Case> {
    let mut cases = Vec::new();
    for var in VARS.map(|v| v.name) {
        cases.extend(common_cases(var));
    }

    // Secrets.
    for var in names(VarKind::Secret) {
        let huge = format!("{var}-").repeat(max_len(var) / (var.len() + 1));
        let edges = Fails("whitespace or a control character at its start or end");
        for (what, value, want) in [
            ("garbage", GARBAGE.to_owned(), Fails("characters long")),
            (
                "31 characters",
                "s".repeat(31),
                Fails("is 31 characters long"),
            ),
            (
                "31 two-byte characters",
                "é".repeat(31),
                Fails("is 31 characters long"),
            ),
            ("huge (largest the kernel passes)", huge, Starts),
            (
                "leading whitespace",
                format!("{}x", " ".repeat(31)),
                edges.clone(),
            ),
            ("trailing newline", format!("{}\n", "s".repeat(40)), edges),
            ("inner spaces", format!("a{}b", " ".repeat(31)), Starts),
        ] {
            cases.push(Case::new(var, what, os(value), want));
        }
    }
    for var in names(VarKind::Secret).filter(|&v| v != "AUTH_SECRET") {
        cases.push(Case::new(
            var,
            "same as AUTH_SECRET",
            os(SECRET),
            Fails("hold the same secret"),
        ));
    }

    // AUTH_URL.
    let v = "AUTH_URL";
    cases.push(Case::new(
        v,
        "huge",
        os("x".repeat(max_len(v))),
        Fails("is not an absolute URL"),
    ));
    // The URL standard skips extra slashes (host `api`, base path `/auth`) and reads a
    // host out of `https:host`: the three cases of slashes are refused, so that the relay
    // is where the operator meant.
    for (what, value, text) in [
        ("garbage", GARBAGE, "is not an absolute URL"),
        ("relative", "/api/auth", "is not an absolute URL"),
        ("host only", "auth.example.com", "is not an absolute URL"),
        ("ftp", "ftp://auth.example.com/api/auth", "must be an https"),
        ("mailto", "mailto:auth@example.com", "must be an https"),
        (
            "user-info",
            "https://u:p@auth.example.com",
            "user information",
        ),
        (
            "query",
            "https://auth.example.com/api/auth?x=1",
            "query or fragment",
        ),
        (
            "fragment",
            "https://auth.example.com/api/auth#x",
            "query or fragment",
        ),
        (
            "empty segment",
            "https://auth.example.com/api//auth",
            "base path",
        ),
        (
            "encoded dots",
            "https://auth.example.com/api/%2e%2e%2f",
            "base path",
        ),
        (
            "encoded slash",
            "https://auth.example.com/api%2fauth",
            "base path",
        ),
        (
            "port too big",
            "https://auth.example.com:65536/",
            "is not an absolute URL",
        ),
        ("three slashes", "https:///api/auth", "exactly two slashes"),
        (
            "no slashes",
            "https:auth.example.com",
            "exactly two slashes",
        ),
        (
            "backslashes",
            "https:\\\\auth.example.com",
            "no backslashes",
        ),
        (
            "bad IPv6",
            "https://[::1/api/auth",
            "is not an absolute URL",
        ),
        (
            "bad IDN",
            "https://xn--a.example.com/",
            "is not an absolute URL",
        ),
    ] {
        cases.push(Case::new(v, what, os(value), Fails(text)));
    }

    // AUTH_TRUST_HOST.
    let v = "AUTH_TRUST_HOST";
    let words = [("2", "2"), ("on", "on"), ("truee", "truee"), ("-1", "-1")];
    cases.extend(refused(v, "t", &words, "must be true or false"));
    cases.push(Case::new(v, "TRUE with spaces", os(" TRUE "), Starts));

    // AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS.
    let v = "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS";
    cases.push(Case::new(
        v,
        "garbage",
        os(GARBAGE),
        Fails("whitespace, a control character"),
    ));
    cases.push(Case::new(
        v,
        "huge garbage",
        os("x".repeat(max_len(v))),
        Fails("has no scheme"),
    ));
    let item = "https://pr-0000.preview.example.com";
    let n = max_len(v) / (item.len() + 1);
    let huge_list: Vec<String> = (0..n)
        .map(|i| format!("https://pr-{i:04}.preview.example.com"))
        .collect();
    cases.push(Case::new(
        v,
        "huge valid list",
        os(huge_list.join(",")),
        Starts,
    ));
    for (what, value, text) in [
        ("public suffix", "https://*.com", "yourcompany.com"),
        (
            "platform suffix",
            "https://*.vercel.app",
            "myapp-*-yourteam.vercel.app",
        ),
        ("http off loopback", "http://app.example.com", "plain http"),
        ("port 0", "https://app.example.com:0", "the port must be"),
        (
            "port 65536",
            "https://app.example.com:65536",
            "the port must be",
        ),
        ("path", "https://app.example.com/", "has a path"),
        ("lone comma", ",", "is empty"),
        (
            "double comma",
            "https://a.example.com,,https://b.example.com",
            "item 2",
        ),
        ("star", "*", "has no scheme"),
        (
            "newline between",
            "https://a.example.com\nhttps://b.example.com",
            "control character",
        ),
        (
            "bidi override",
            "https://a.example.com\u{202e}",
            "not valid",
        ),
        ("two stars", "https://a*b*c.example.com", "more than one"),
        ("star in IP", "https://127.0.0.*", "IP addresses"),
        ("user-info", "https://u@app.example.com", "user information"),
        ("zone id", "http://[fe80::1%25eth0]", "zone id"),
    ] {
        cases.push(Case::new(v, what, os(value), Fails(text)));
    }

    // HOST.
    let v = "HOST";
    let hosts = [
        ("name", "localhost"),
        ("octet > 255", "256.0.0.1"),
        ("with port", "127.0.0.1:80"),
        ("bracketed IPv6", "[::1]"),
        ("bad IPv6", "::g"),
        ("octal", "0177.0.0.1"),
        ("short IPv4", "127.1"),
    ];
    cases.extend(refused(v, "1", &hosts, "must be an IP address"));
    cases.push(Case::new(v, "padded", os(" 127.0.0.1 "), Starts));

    // PORT and METRICS_PORT.
    let ports = [
        ("65536", "65536"),
        ("negative", "-1"),
        ("u64 overflow", "18446744073709551616"),
        ("hex", "0x50"),
        ("two numbers", "80 80"),
        ("decimal", "3000.0"),
        ("exponent", "1e3"),
    ];
    for v in ["PORT", "METRICS_PORT"] {
        cases.extend(refused(v, "9", &ports, "must be a port number"));
    }
    // AUTH_STATE_MAX_AGE.
    let v = "AUTH_STATE_MAX_AGE";
    let not_numbers = [
        ("negative", "-1"),
        ("u64 overflow", "18446744073709551616"),
        ("unit", "900s"),
        ("decimal", "30.5"),
    ];
    cases.extend(refused(v, "9", &not_numbers, "must be a number of seconds"));
    let u64_max = u64::MAX.to_string();
    for (what, value) in [
        ("zero", "0"),
        ("29", "29"),
        ("3601", "3601"),
        ("u64 max", &u64_max),
    ] {
        cases.push(Case::new(v, what, os(value), Fails("between 30 and 3600")));
    }

    // LOG_FORMAT.
    let formats = [
        ("upper case", "JSON"),
        ("text", "text"),
        ("both", "json,pretty"),
    ];
    cases.extend(refused(
        "LOG_FORMAT",
        "j",
        &formats,
        "must be pretty or json",
    ));
    cases.push(Case {
        extra: vec![("PORT", os("38917"))],
        ..Case::new(
            "METRICS_PORT",
            "same as PORT",
            os("38917"),
            Fails("must differ from PORT"),
        )
    });
    cases.extend(authorize_cases());
    cases.extend(config_file_cases());

    cases
}

/// The authorize route's variables, each with the others set to good values.
fn authorize_cases() -> Vec<Case> {
    const ENDPOINTS: &str = "AUTH_AUTHORIZE_ENDPOINTS";
    const IDS: &str = "AUTH_AUTHORIZE_CLIENT_IDS";
    const PATH: &str = "AUTH_AUTHORIZE_CALLBACK_PATH";
    let good = [
        (
            ENDPOINTS,
            "github=https://github.example/login/oauth/authorize",
        ),
        (IDS, "github=Iv1.client"),
        (PATH, "/auth/{provider}/callback"),
    ];
    let mut cases = Vec::new();
    let table: [(&'static str, &str, String, Want); 21] = [
        (
            ENDPOINTS,
            "garbage",
            GARBAGE.into(),
            Fails("provider=value pairs"),
        ),
        (
            ENDPOINTS,
            "huge",
            "x".repeat(max_len(ENDPOINTS)),
            Fails("provider=value pairs"),
        ),
        (
            ENDPOINTS,
            "no provider",
            "https://g.example/a".into(),
            Fails("provider=value pairs"),
        ),
        (
            ENDPOINTS,
            "http",
            "github=http://g.example/a".into(),
            Fails("must be https"),
        ),
        (
            ENDPOINTS,
            "fragment",
            "github=https://g.example/a#x".into(),
            Fails("fragment"),
        ),
        (
            ENDPOINTS,
            "sets state",
            "github=https://g.example/a?state=1".into(),
            Fails("must not set `state`"),
        ),
        (
            ENDPOINTS,
            "bad provider id",
            "git hub=https://g.example/a".into(),
            Fails("provider id"),
        ),
        (
            ENDPOINTS,
            "twice",
            "github=https://g.example/a,github=https://g.example/b".into(),
            Fails("twice"),
        ),
        (
            ENDPOINTS,
            "loopback http",
            "github=http://127.0.0.1:9/a".into(),
            Starts,
        ),
        (
            IDS,
            "garbage",
            GARBAGE.into(),
            Fails("provider=value pairs"),
        ),
        (
            IDS,
            "unknown provider",
            "gitlab=x".into(),
            Fails("names provider `gitlab`"),
        ),
        (
            IDS,
            "empty id",
            "github=".into(),
            Fails("client id must be"),
        ),
        (
            IDS,
            "space in id",
            "github=a b".into(),
            Fails("client id must be"),
        ),
        (IDS, "two ids", "github=a,github=b".into(), Starts),
        (PATH, "garbage", GARBAGE.into(), Fails("must start with")),
        (
            PATH,
            "relative",
            "auth/callback".into(),
            Fails("must start with"),
        ),
        (
            PATH,
            "dot segment",
            "/a/../{provider}".into(),
            Fails("may hold only"),
        ),
        (
            PATH,
            "query",
            "/a?b={provider}".into(),
            Fails("may hold only"),
        ),
        (PATH, "huge", "/a".repeat(max_len(PATH) / 2), Starts),
        (PATH, "default", "*/callback/{provider}".into(), Starts),
        (PATH, "no provider", "/oauth/done".into(), Starts),
    ];
    for (var, what, value, want) in table {
        let extra = good
            .iter()
            .filter(|(k, _)| *k != var)
            .map(|(k, v)| (*k, os(*v)))
            .collect();
        cases.push(Case {
            extra,
            ..Case::new(var, what, os(value), want)
        });
    }
    // Without the endpoints, the other two are mistakes.
    for var in [IDS, PATH] {
        let value = good.iter().find(|(k, _)| *k == var).unwrap().1;
        cases.push(Case::new(
            var,
            "without the endpoints",
            os(value),
            Fails("is set, but AUTH_AUTHORIZE_ENDPOINTS is not"),
        ));
    }
    cases
}

/// The environment of a relay that reads a config file: no single-app variables.
fn file_base_env() -> Vec<(&'static str, OsString)> {
    [
        ("APP_SECRET", APP_SECRET),
        ("AUTH_URL", "https://auth.example.test"),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k, OsString::from(v)))
    .collect()
}

const APP_SECRET: &str = "startup-env-app-secret-0123456789abcdef";

const GOOD_FILE: &str = "[[apps]]\nname = \"a\"\nbase_path = \"/api/auth\"\n\
    secret_env = [\"APP_SECRET\"]\nallowed_origins = [\"https://*.preview.example.com\"]\n";

/// AUTHRELAY_CONFIG names a file: unreadable, malformed and hostile files.
fn config_file_cases() -> Vec<Case> {
    let dir = std::env::temp_dir().join(format!("authrelay-startup-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, contents: &[u8]| -> OsString {
        let p = dir.join(name);
        std::fs::write(&p, contents).unwrap();
        p.into_os_string()
    };
    let case = |what: &str, value: OsString, file_base: bool, want: Want| Case {
        file_base,
        ..Case::new("AUTHRELAY_CONFIG", what, value, want)
    };
    let with = |from: &str, to: &str| GOOD_FILE.replace(from, to).into_bytes();
    // Files written with these contents, on the environment of a config-file relay.
    let files: [(&str, &str, Vec<u8>, Want); 10] = [
        ("a good file", "good.toml", GOOD_FILE.into(), Starts),
        ("garbage", "garbage.toml", GARBAGE.into(), Fails("line")),
        (
            "not UTF-8",
            "latin1.toml",
            b"name = \"\xe9\"\n".into(),
            Fails("cannot be read"),
        ),
        ("empty file", "empty.toml", b"".into(), Fails("apps")),
        (
            "no apps",
            "noapps.toml",
            b"apps = []\n".into(),
            Fails("no [[apps]]"),
        ),
        (
            "newline in a value",
            "nl.toml",
            with("/api/auth", "/api\\nauth"),
            Fails("base_path"),
        ),
        (
            "escape sequence in a value",
            "esc.toml",
            with("/api/auth", "/api\\u001b[31mauth"),
            Fails("base_path"),
        ),
        (
            "unknown key",
            "unknown.toml",
            with("name = ", "nmae = \"x\"\nname = "),
            Fails("unknown field"),
        ),
        (
            "public-suffix wildcard",
            "psl.toml",
            with("*.preview.example.com", "*.com"),
            Fails("yourcompany.com"),
        ),
        (
            "secret variable not set",
            "nosecret.toml",
            with("APP_SECRET", "APP_SECRET_MISSING"),
            Fails("APP_SECRET_MISSING"),
        ),
    ];
    // Names that are no readable file.
    let unreadable = [
        ("missing", dir.join("missing.toml").into_os_string()),
        ("a directory", dir.clone().into_os_string()),
        (
            "a newline in the name",
            dir.join("a\nb.toml").into_os_string(),
        ),
        ("huge name", os("x".repeat(max_len("AUTHRELAY_CONFIG")))),
    ];
    let mut cases: Vec<Case> = files
        .into_iter()
        .map(|(what, name, contents, want)| case(what, file(name, &contents), true, want))
        .chain(
            unreadable
                .into_iter()
                .map(|(what, value)| case(what, value, true, Fails("cannot be read"))),
        )
        .collect();
    // A good file next to the single-app variables of the one-app environment.
    cases.push(case(
        "single-app variables also set",
        file("both.toml", GOOD_FILE.as_bytes()),
        false,
        Fails("is not used"),
    ));
    cases
}

/// Every secret value any case uses: none may ever be printed.
fn secret_values(case: &Case) -> Vec<Vec<u8>> {
    let mut out = vec![
        SECRET.as_bytes().to_vec(),
        OLD_SECRET.as_bytes().to_vec(),
        APP_SECRET.as_bytes().to_vec(),
    ];
    if names(VarKind::Secret).any(|v| v == case.var) && case.value.len() >= 8 {
        // A 64-byte window is enough to see a leak of a long value.
        let v = case.value.as_bytes();
        out.push(v[..v.len().min(64)].to_vec());
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn spawn(env: &[(&'static str, OsString)]) -> std::io::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_authrelay"))
        .arg("serve")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Runs one case; `Err` describes a failed expectation.
fn run(case: &Case) -> Result<(), String> {
    let what = format!("{} = {} ({} bytes)", case.var, case.what, case.value.len());
    let mut env = if case.file_base {
        file_base_env()
    } else {
        base_env()
    };
    for (k, v) in std::iter::once((case.var, case.value.clone())).chain(case.extra.clone()) {
        env.retain(|(key, _)| *key != k);
        env.push((k, v));
    }
    let mut child = spawn(&env).map_err(|e| format!("{what}: cannot run the binary: {e}"))?;
    // A failing start-up exits at once; a good one is still running after this.
    let deadline = Instant::now() + Duration::from_millis(1500);
    let exited = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if exited.is_none() {
        child.kill().ok();
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for s in secret_values(case) {
        if contains(&out.stderr, &s) || contains(&out.stdout, &s) {
            return Err(format!("{what}: a secret value was printed"));
        }
    }
    if stderr.contains("panicked") {
        return Err(format!("{what}: panicked: {stderr}"));
    }
    match (&case.want, exited) {
        (Starts, None) => Ok(()),
        (Starts, Some(status)) => Err(format!(
            "{what}: should start, exited {status}: {}",
            stderr.trim()
        )),
        (Fails(_), None) => Err(format!("{what}: started a relay instead of refusing")),
        (Fails(text), Some(status)) => {
            let lines: Vec<&str> = stderr.lines().collect();
            if status.code() != Some(2) {
                return Err(format!("{what}: exit {status}, stderr {stderr:?}"));
            }
            if lines.len() != 1 {
                return Err(format!("{what}: {} stderr lines: {stderr:?}", lines.len()));
            }
            // A config file's errors name the file the variable points to.
            let named = lines[0].contains(case.var)
                || (case.var == "AUTHRELAY_CONFIG" && lines[0].contains("config file"));
            if !named {
                return Err(format!(
                    "{what}: the line does not name the variable: {stderr:?}"
                ));
            }
            if !lines[0].contains(text) {
                return Err(format!("{what}: expected {text:?} in {stderr:?}"));
            }
            if lines[0].len() > 1000 {
                return Err(format!("{what}: a {}-byte line", lines[0].len()));
            }
            if !out.stdout.is_empty() {
                return Err(format!("{what}: wrote to stdout"));
            }
            Ok(())
        }
    }
}

#[test]
fn every_variable_refuses_bad_values_with_one_line_naming_it() {
    let cases = table();
    // Every variable the relay reads is covered, with more than the common cases.
    for var in VARS.map(|v| v.name) {
        let n = cases.iter().filter(|c| c.var == var).count();
        assert!(
            n >= 10,
            "{var}: only {n} cases; add the cases for a new variable here"
        );
    }
    // Most cases exit at once; those that start are watched for a while, so run them
    // side by side.
    let chunk = cases.len().div_ceil(8);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || part.iter().filter_map(|c| run(c).err()).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() >= 180, "{} cases", cases.len());
}

#[test]
fn a_one_mebibyte_value_is_refused_by_the_kernel_before_the_relay_runs() {
    for var in VARS.map(|v| v.name) {
        let mut env = base_env();
        env.retain(|(k, _)| *k != var);
        env.push((var, os("x".repeat(MIB))));
        match spawn(&env) {
            Err(e) => assert_eq!(e.raw_os_error(), Some(7), "{var}: {e}"),
            Ok(mut child) => {
                // A kernel that passes it: the relay must still answer in one clean line
                // (or start, for a secret).
                let deadline = Instant::now() + Duration::from_millis(1500);
                while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                child.kill().ok();
                let out = child.wait_with_output().unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(!stderr.contains("panicked"), "{var}: {stderr}");
                assert!(stderr.lines().count() <= 1, "{var}: {stderr}");
            }
        }
    }
}

#[test]
fn several_bad_variables_still_give_one_line() {
    let mut env = base_env();
    for (k, v) in [
        ("PORT", os("nope")),
        ("HOST", os("nope")),
        ("LOG_FORMAT", bytes(b"\xff")),
        ("AUTH_STATE_MAX_AGE", os("1")),
    ] {
        env.retain(|(key, _)| *key != k);
        env.push((k, v));
    }
    let out = spawn(&env).unwrap().wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_bad_rust_log_is_not_fatal() {
    // RUST_LOG is read by the log filter, which falls back to `info`: a typo there must
    // not stop a relay (nor panic).
    for value in [
        os("not a filter [[["),
        bytes(b"\xff\xfe"),
        os("x".repeat(max_len("RUST_LOG"))),
    ] {
        let mut env = base_env();
        env.push(("RUST_LOG", value));
        let mut child = spawn(&env).unwrap();
        std::thread::sleep(Duration::from_millis(1000));
        let running = child.try_wait().unwrap().is_none();
        child.kill().ok();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(running, "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// When the reader of standard error goes away (a log shipper restarts, a pipe closes),
/// the relay keeps serving: logging is best effort. A log error report through
/// `eprintln!` would panic on the broken pipe and end the relay on its next log line
/// (exit 101; an abort in release builds).
#[test]
fn a_closed_log_pipe_does_not_kill_the_relay() {
    use std::io::{Read as _, Write as _};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut env = base_env();
    env.retain(|(k, _)| *k != "PORT");
    env.push(("PORT", os(port.to_string())));
    env.push(("LOG_FORMAT", os("json")));
    let mut child = spawn(&env).unwrap();
    // Read until the relay says it listens, then close the read end of the pipe.
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&seen).contains("listening") && Instant::now() < deadline {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    assert!(String::from_utf8_lossy(&seen).contains("listening"));
    drop(stderr);
    // Each callback logs one line, into the broken pipe.
    let ask = |path: &str| -> Option<String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    std::thread::sleep(Duration::from_millis(200));
    for i in 0..5 {
        let r = ask("/api/auth/callback/github?state=x");
        assert!(
            r.as_deref().is_some_and(|r| r.starts_with("HTTP/1.1 400")),
            "request {i}: {r:?}, exit {:?}",
            child.try_wait()
        );
    }
    let health = ask("/healthz");
    let alive = child.try_wait().unwrap().is_none();
    child.kill().ok();
    child.wait().ok();
    assert!(alive, "the relay died with its log pipe");
    assert!(health.is_some_and(|r| r.starts_with("HTTP/1.1 200")));
}

/// A control character in a config file's name, or in a value quoted from the file (a
/// `base_path` with a `\n` escape), is escaped: printed raw, it would make the one-line
/// error two lines (and an ESC could recolour the operator's terminal).
#[test]
fn a_newline_in_a_config_file_name_or_value_still_gives_one_line() {
    let cases: Vec<Case> = config_file_cases()
        .into_iter()
        .filter(|c| c.what.contains("newline") || c.what.contains("escape"))
        .collect();
    assert_eq!(cases.len(), 3);
    for c in &cases {
        run(c).unwrap();
    }
}
