//! Hostile callback URLs against both locks on the target: the URL rules
//! (`Target::parse`) and the operator's allowlist (`Allowlist::matches`).
//!
//! Four sources: a hand-written table by attack class, the cases shared with the
//! JavaScript client (`clients/js/test/target-cases.json`), the 559 open-redirect payloads
//! of the oauth2-proxy project (`tests/fixtures/openredirects.txt`, MIT, see
//! `openredirects.LICENSE` beside it), and deterministic random strings built from
//! parser-confusing pieces. For the last two, whatever is accepted is re-checked by hand
//! against the intended hosts, independently of the code under test.

use authrelay_client::pattern::Allowlist;
use authrelay_client::target::{Target, CALLBACK_PARAMS, MAX_TARGET_LEN};

/// What a case should do: be refused by the URL rules with this code, or parse and then be
/// allowed (`true`) or not (`false`) by [`TABLE_ALLOWLIST`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Refused(&'static str),
    Parsed { allowed: bool },
}

use Want::{Parsed, Refused};

const ALLOWED: Want = Parsed { allowed: true };
const NOT_ALLOWED: Want = Parsed { allowed: false };

const TABLE_ALLOWLIST: &str = "https://app.example.com, https://*.preview.example.com, \
    https://myapp-*-acme.vercel.app, http://localhost:3000, https://*.myapp.com, http://[::1]:*, \
    https://api.example.com:8443";

fn verdict(list: &Allowlist, raw: &str) -> Want {
    match Target::parse(raw) {
        Err(e) => Refused(e.code()),
        Ok(t) => Parsed {
            allowed: list.matches(&t),
        },
    }
}

#[rustfmt::skip]
fn table() -> Vec<(String, Want)> {
    let fixed: &[(&str, Want)] = &[
        // --- baseline: what previews really send
        ("https://app.example.com/api/auth/callback/github", ALLOWED),
        ("https://app.example.com/api/auth/callback/github?x=1", ALLOWED),
        ("https://app.example.com/cb?next=%2F%2Fevil.com", ALLOWED),
        ("https://app.example.com/cb%0d%0aSet-Cookie:x=1", ALLOWED),
        ("https://app.example.com/API/auth/callback/GitHub", ALLOWED),
        ("https://pr-1.preview.example.com/api/auth/callback/github", ALLOWED),
        ("https://xn--80a.preview.example.com/cb", ALLOWED),
        ("https://myapp-git-main-acme.vercel.app/api/auth/callback/github", ALLOWED),
        ("https://myapp-x-acme.vercel.app/cb", ALLOWED),
        ("http://localhost:3000/api/auth/callback/github", ALLOWED),
        ("http://[::1]:5173/api/auth/callback/github", ALLOWED),
        ("http://[::1]:1/cb", ALLOWED),
        ("http://[::1]/cb", ALLOWED),
        ("https://api.example.com:8443/cb", ALLOWED),
        ("https://www.myapp.com/cb", ALLOWED),
        // --- user-info
        ("https://app.example.com@evil.com/cb", Refused("userinfo")),
        ("https://evil.com@app.example.com/cb", Refused("userinfo")),
        ("https://app.example.com:443@evil.com/", Refused("userinfo")),
        ("https://user:pass@pr-1.preview.example.com/cb", Refused("userinfo")),
        ("https://@app.example.com/cb", Refused("userinfo")),
        ("https://:@app.example.com/cb", Refused("userinfo")),
        ("https://app.example.com%2f@evil.com/", Refused("userinfo")),
        ("https://app.example.com%40evil.com/", Refused("invalid_host")),
        ("https:/evil.com@app.example.com/", Refused("userinfo")),
        // --- backslashes
        ("https://evil.com\\app.example.com/", Refused("forbidden_character")),
        ("https:\\\\evil.com/", Refused("forbidden_character")),
        ("https://app.example.com\\.evil.com/", Refused("forbidden_character")),
        ("https://evil.com\\@app.example.com/", Refused("forbidden_character")),
        ("/\\evil.com", Refused("forbidden_character")),
        ("https://app.example.com/\\evil.com", Refused("forbidden_character")),
        // --- protocol-relative and relative
        ("//evil.com/", Refused("not_absolute")),
        ("///evil.com", Refused("not_absolute")),
        ("//app.example.com/cb", Refused("not_absolute")),
        ("/api/auth/callback/github", Refused("not_absolute")),
        ("app.example.com/cb", Refused("not_absolute")),
        ("https:evil.com/", Refused("not_canonical")),
        ("https:/evil.com/", Refused("not_canonical")),
        ("https:///evil.com/", Refused("not_canonical")),
        ("https:////evil.com/", Refused("empty_segment")),
        ("https:///", Refused("no_host")),
        // --- encoded separators and dots
        ("https://app.example.com/%2f%2fevil.com", Refused("encoded_separator")),
        ("https://app.example.com/%2F%2Fevil.com", Refused("encoded_separator")),
        ("https://app.example.com/api/auth/callback/github%2f..%2f..%2fevil", Refused("encoded_separator")),
        ("https://app.example.com/%5cevil.com", Refused("encoded_separator")),
        ("https://app.example.com/%5Cevil.com", Refused("encoded_separator")),
        ("https://app.example.com/%2e%2e/%2e%2e/x", Refused("encoded_separator")),
        ("https://app.example.com/.%2e/x", Refused("encoded_separator")),
        ("https://app.example.com/api%00/cb", Refused("encoded_separator")),
        ("https://app.example.com/%252f%252fevil.com", Refused("encoded_separator")),
        ("https://app.example.com%2f%2fevil.com/", Refused("invalid_host")),
        ("https://app%2eexample.com/cb", Refused("not_canonical")),
        ("https://%61pp.example.com/cb", Refused("not_canonical")),
        // --- dot and empty segments
        ("https://app.example.com/api/auth/../../evil", Refused("dot_segment")),
        ("https://app.example.com/./cb", Refused("dot_segment")),
        ("https://app.example.com/cb/..", Refused("dot_segment")),
        ("https://app.example.com//evil.com/cb", Refused("empty_segment")),
        ("https://app.example.com/api//cb", Refused("empty_segment")),
        // --- control characters, CRLF, invisible characters
        ("https://app.example.com/cb\r\nSet-Cookie:x=1", Refused("forbidden_character")),
        ("https://app.example.com/cb\nLocation:https://evil.com", Refused("forbidden_character")),
        ("https://app.exa\tmple.com/", Refused("forbidden_character")),
        ("https://evil.com\t.app.example.com/", Refused("forbidden_character")),
        ("\0https://app.example.com/", Refused("forbidden_character")),
        ("https://app.example.com/\u{1b}[2J", Refused("forbidden_character")),
        ("https://app.example.com/cb\u{85}", Refused("forbidden_character")),
        ("https://app.example.com/cb\u{2028}", Refused("forbidden_character")),
        ("\u{feff}https://app.example.com/", Refused("forbidden_character")),
        ("https://app.example.com\u{200d}/cb", Refused("forbidden_character")),
        ("https://app.example.com/cb ", Refused("forbidden_character")),
        ("\thttps://app.example.com/cb", Refused("forbidden_character")),
        ("https://app.example.com/cb\u{7f}", Refused("forbidden_character")),
        // --- other schemes
        ("javascript:alert(1)", Refused("scheme")),
        ("javascript://app.example.com/%0aalert(1)", Refused("scheme")),
        ("JAVASCRIPT:alert(1)", Refused("scheme")),
        ("java%0ascript:alert(1)", Refused("not_absolute")),
        ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", Refused("scheme")),
        ("data:,https://app.example.com/", Refused("scheme")),
        ("vbscript:msgbox(1)", Refused("scheme")),
        ("ftp://app.example.com/", Refused("scheme")),
        ("ws://app.example.com/", Refused("scheme")),
        ("wss://app.example.com/", Refused("scheme")),
        ("blob:https://app.example.com/0000", Refused("scheme")),
        ("file://app.example.com/etc/passwd", Refused("scheme")),
        ("httpss://app.example.com/", Refused("scheme")),
        ("intent://evil.com#Intent;scheme=https;end", Refused("fragment")),
        // --- IDNA look-alikes: raw non-ASCII is refused, punycode parses but does not match
        ("https://аpp.example.com/cb", Refused("forbidden_character")),
        ("https://xn--pp-6kc.example.com/cb", NOT_ALLOWED),
        ("https://XN--PP-6KC.example.com/cb", Refused("not_canonical")),
        ("https://ａpp.example.com/cb", Refused("forbidden_character")),
        ("https://app。example.com/cb", Refused("forbidden_character")),
        ("https://app．example.com/cb", Refused("forbidden_character")),
        ("https://straße.de/cb", Refused("forbidden_character")),
        ("https://xn--strae-oqa.de/cb", NOT_ALLOWED),
        ("https://xn--80ak6aa92e.com/cb", NOT_ALLOWED),
        ("https://pr-1.preview.exаmple.com/cb", Refused("forbidden_character")),
        ("https://xn--pr-1.preview.example.com/cb", Refused("invalid_host")),
        // --- wildcard label boundaries
        ("https://evil-myapp.com/cb", NOT_ALLOWED),
        ("https://evilmyapp.com/cb", NOT_ALLOWED),
        ("https://myapp.com/cb", NOT_ALLOWED),
        ("https://a.b.myapp.com/cb", NOT_ALLOWED),
        ("https://preview.example.com/cb", NOT_ALLOWED),
        ("https://a.b.preview.example.com/cb", NOT_ALLOWED),
        ("https://evilpreview.example.com/cb", NOT_ALLOWED),
        ("https://a-preview.example.com/cb", NOT_ALLOWED),
        ("https://a.preview.example.com.evil.com/cb", NOT_ALLOWED),
        ("https://a.preview.example.co/cb", NOT_ALLOWED),
        ("https://a.preview-example.com/cb", NOT_ALLOWED),
        ("https://myapp--acme.vercel.app/cb", NOT_ALLOWED),
        ("https://myapp-acme.vercel.app/cb", NOT_ALLOWED),
        ("https://myapp-x.evil-acme.vercel.app/cb", NOT_ALLOWED),
        ("https://myapp-x-acme.vercel.app.evil.com/cb", NOT_ALLOWED),
        ("https://evilmyapp-x-acme.vercel.app/cb", NOT_ALLOWED),
        ("https://myapp-x-acmeevil.vercel.app/cb", NOT_ALLOWED),
        ("https://x.myapp-x-acme.vercel.app/cb", NOT_ALLOWED),
        ("https://evil.vercel.app/cb", NOT_ALLOWED),
        ("https://app.example.com.evil.com/cb", NOT_ALLOWED),
        ("https://evilapp.example.com/cb", NOT_ALLOWED),
        ("https://www.app.example.com/cb", NOT_ALLOWED),
        ("https://example.com/cb", NOT_ALLOWED),
        ("https://*.preview.example.com/cb", Refused("invalid_host")),
        ("https://a*.preview.example.com/cb", Refused("invalid_host")),
        ("https://a_b.preview.example.com/cb", Refused("invalid_host")),
        ("https://-.preview.example.com/cb", Refused("invalid_host")),
        // --- ports
        ("https://app.example.com:443/cb", Refused("not_canonical")),
        ("https://app.example.com:8443/cb", NOT_ALLOWED),
        ("https://app.example.com:444/cb", NOT_ALLOWED),
        ("https://app.example.com:80/cb", NOT_ALLOWED),
        ("https://api.example.com/cb", NOT_ALLOWED),
        ("https://api.example.com:08443/cb", Refused("not_canonical")),
        ("https://pr-1.preview.example.com:8443/cb", NOT_ALLOWED),
        ("http://localhost:3001/cb", NOT_ALLOWED),
        ("http://localhost/cb", NOT_ALLOWED),
        ("https://localhost:3000/cb", NOT_ALLOWED),
        ("https://app.example.com:0/cb", Refused("port")),
        ("https://app.example.com:65536/cb", Refused("port")),
        ("https://app.example.com:-1/cb", Refused("port")),
        ("https://app.example.com:/cb", Refused("not_canonical")),
        // --- trailing dots and empty labels
        ("https://app.example.com./cb", Refused("trailing_dot")),
        ("https://pr-1.preview.example.com./cb", Refused("trailing_dot")),
        ("http://localhost.:3000/cb", Refused("trailing_dot")),
        ("https://app.example.com../cb", Refused("trailing_dot")),
        ("https://.app.example.com/cb", Refused("invalid_host")),
        ("https://app..example.com/cb", Refused("invalid_host")),
        // --- mixed case
        ("https://APP.example.com/cb", Refused("not_canonical")),
        ("HTTPS://app.example.com/cb", Refused("not_canonical")),
        ("Https://app.example.com/cb", Refused("not_canonical")),
        ("https://app.example.COM/cb", Refused("not_canonical")),
        ("https://PR-1.preview.example.com/cb", Refused("not_canonical")),
        // --- IPv4 in other notations, other loopback tricks
        ("http://0x7f.1/cb", Refused("not_canonical")),
        ("http://0x7f000001/cb", Refused("not_canonical")),
        ("http://2130706433/cb", Refused("not_canonical")),
        ("http://017700000001/cb", Refused("not_canonical")),
        ("http://0177.0.0.1/cb", Refused("not_canonical")),
        ("http://127.1/cb", Refused("not_canonical")),
        ("https://0x7f.0x0.0x0.0x1/cb", Refused("not_canonical")),
        ("http://127.0.0.1/cb", NOT_ALLOWED),
        ("http://127.0.0.1:3000/cb", NOT_ALLOWED),
        ("http://127.0.0.1.nip.io:3000/cb", Refused("http_not_loopback")),
        ("http://localtest.me:3000/cb", Refused("http_not_loopback")),
        ("http://localhost.evil.com:3000/cb", Refused("http_not_loopback")),
        ("http://[::ffff:127.0.0.1]:3000/cb", Refused("http_not_loopback")),
        ("http://0.0.0.0:3000/cb", Refused("http_not_loopback")),
        ("http://[::]:3000/cb", Refused("http_not_loopback")),
        ("http://app.example.com/cb", Refused("http_not_loopback")),
        ("https://[::ffff:7f00:1]/cb", NOT_ALLOWED),
        ("https://1.2.3.4/cb", NOT_ALLOWED),
        ("https://999.1.1.1/cb", Refused("invalid_host")),
        ("http://[0:0:0:0:0:0:0:1]:3000/cb", Refused("not_canonical")),
        // --- IPv6 zone ids
        ("http://[fe80::1%25eth0]:3000/cb", Refused("ipv6_zone_id")),
        ("http://[::1%25lo]:3000/cb", Refused("ipv6_zone_id")),
        ("http://[::1%eth0]/cb", Refused("ipv6_zone_id")),
        ("http://[::1]%25x/cb", Refused("ipv6_zone_id")),
        // --- fragments and query tricks
        ("https://app.example.com/cb#", Refused("fragment")),
        ("https://app.example.com/cb#@evil.com", Refused("fragment")),
        ("https://evil.com#.app.example.com", Refused("fragment")),
        ("https://evil.com?.app.example.com/", Refused("not_canonical")),
        ("https://evil.com/?.app.example.com", Refused("query_name")),
        ("https://evil.com/?x=.app.example.com", NOT_ALLOWED),
        ("https://evil.com/https://app.example.com/", Refused("empty_segment")),
        ("https://evil.com/app.example.com", NOT_ALLOWED),
        // --- a query that plants a callback parameter for some parser (WHATWG, PHP, Rack,
        // legacy `;` splitting): only plain name=value pairs joined by `&` pass
        ("https://app.example.com/api/auth/callback/github?tenant=acme", ALLOWED),
        ("https://app.example.com/api/auth/callback/github?app=1&x=2", ALLOWED),
        ("https://app.example.com/api/auth/callback/github?", ALLOWED),
        ("https://app.example.com/api/auth/callback/github?next=%3Bcode%3DINJECTED", ALLOWED),
        ("https://app.example.com/api/auth/callback/github?x=%26code%3DINJECTED", ALLOWED),
        ("https://app.example.com/api/auth/callback/github?x=1;code=INJECTED", Refused("query_semicolon")),
        ("https://app.example.com/api/auth/callback/github?x=1;state=INJECTED", Refused("query_semicolon")),
        ("https://app.example.com/api/auth/callback/github?code=a;b", Refused("query_semicolon")),
        ("https://app.example.com/api/auth/callback/github?x=a;code", Refused("query_semicolon")),
        ("https://app.example.com/api/auth/callback/github?code[]=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code[0]=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?state[x]=y", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code]=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code%00=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code%00junk=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?%63ode=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?%43ODE=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code%20=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?+code=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code+=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code.=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?id.token=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?session.state=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?=code", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?x=1&&code%5B%5D=x", Refused("query_name")),
        ("https://app.example.com/api/auth/callback/github?code=INJECTED", Refused("query_shadows_callback_params")),
        ("https://app.example.com/api/auth/callback/github?tenant=a&Code=INJECTED", Refused("query_shadows_callback_params")),
        ("https://app.example.com/api/auth/callback/github?STATE=x", Refused("query_shadows_callback_params")),
        ("https://app.example.com/api/auth/callback/github?error=access_denied", Refused("query_shadows_callback_params")),
        ("https://app.example.com/api/auth/callback/github?iss=https://evil.com", Refused("query_shadows_callback_params")),
    ];
    let mut cases: Vec<(String, Want)> = fixed.iter().map(|(r, w)| ((*r).to_owned(), *w)).collect();
    // --- length
    let prefix = "https://app.example.com/";
    cases.push((format!("{prefix}{}", "a".repeat(MAX_TARGET_LEN - prefix.len())), ALLOWED));
    cases.push((format!("{prefix}{}", "a".repeat(MAX_TARGET_LEN + 1 - prefix.len())), Refused("too_long")));
    cases.push((format!("javascript:{}", "\\".repeat(100_000)), Refused("too_long")));
    cases.push((format!("https://{}.preview.example.com/cb", "a".repeat(64)), Refused("invalid_host")));
    cases.push((format!("https://{}.preview.example.com/cb", "a".repeat(63)), ALLOWED));
    cases
}

#[test]
fn table_of_hostile_targets() {
    let list = Allowlist::parse(TABLE_ALLOWLIST).expect("the table's allowlist parses");
    let cases = table();
    assert!(cases.len() >= 180, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (raw, want) in &cases {
        let got = verdict(&list, raw);
        if got != *want {
            failures.push(format!(
                "{:?}: want {want:?}, got {got:?}",
                raw.chars().take(120).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The cases both clients check (`clients/js/test/target-cases.json`): the JS tests check
/// the JavaScript client's verdict on each, this test the Rust client's code.
const SHARED_CASES: &str = include_str!("../../clients/js/test/target-cases.json");

#[test]
fn the_cases_shared_with_the_js_client_get_their_codes() {
    let shared: serde_json::Value = serde_json::from_str(SHARED_CASES).expect("valid JSON");
    let cases = shared["cases"].as_array().expect("a list of cases");
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let mut failures = Vec::new();
    let mut shadowed = Vec::new();
    for case in cases {
        let (Some(raw), Some(want)) = (case[0].as_str(), case[1].as_str()) else {
            panic!("not a [target, code] pair: {case}");
        };
        let got = Target::parse(raw).map_or_else(|e| e.code(), |_| "ok");
        if got != want {
            failures.push(format!("{raw:?}: want {want}, got {got}"));
        }
        if want == "query_shadows_callback_params" {
            if let Some((_, query)) = raw.split_once('?') {
                shadowed.extend(
                    query
                        .split('&')
                        .filter_map(|p| p.split_once('='))
                        .map(|(k, _)| k.to_ascii_lowercase()),
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every callback parameter is in a shared case, so a parameter added on one side
    // only fails on the other.
    for p in CALLBACK_PARAMS {
        assert!(shadowed.iter().any(|s| s == p), "no shared case names {p}");
    }
}

const FIXTURE: &str = include_str!("../../tests/fixtures/openredirects.txt");
const FIXTURE_ALLOWLIST: &str = "https://app.example.com,https://*.preview.example.com";

/// Go's `url.QueryUnescape`, which oauth2-proxy applies to each line before testing it:
/// `+` is a space and `%XX` a byte. A malformed escape is kept as it is (Go would fail;
/// the fixture has none, and keeping it only makes the input more hostile).
fn query_unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `raw` points at one of the fixture allowlist's hosts, decided without the code
/// under test: the `url` crate's parse plus a hand-made cut of the raw string, both of
/// which must name an intended host with the https default port and no user-info.
fn lands_on_intended_host(raw: &str) -> bool {
    let intended = |host: &str| {
        host == "app.example.com"
            || host
                .strip_suffix(".preview.example.com")
                .is_some_and(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
    };
    let by_parser = url::Url::parse(raw).is_ok_and(|u| {
        u.scheme() == "https"
            && u.username().is_empty()
            && u.password().is_none()
            && u.port().is_none()
            && u.fragment().is_none()
            && u.host_str().is_some_and(intended)
    });
    let by_hand = raw.strip_prefix("https://").is_some_and(|rest| {
        let end = rest
            .find(['/', '?', '#', '\\', '@', ':'])
            .unwrap_or(rest.len());
        let (host, after) = rest.split_at(end);
        intended(host) && (after.is_empty() || after.starts_with('/') || after.starts_with('?'))
    });
    by_parser && by_hand
}

#[test]
fn oauth2_proxy_open_redirect_payloads_never_escape_the_allowlist() {
    let list = Allowlist::parse(FIXTURE_ALLOWLIST).expect("the fixture allowlist parses");
    let lines: Vec<&str> = FIXTURE.lines().collect();
    assert_eq!(lines.len(), 559, "the vendored fixture is complete");
    assert_eq!(
        lines.first(),
        Some(&""),
        "the blank first line is part of the file"
    );

    let mut tried = 0usize;
    let mut accepted = Vec::new();
    let mut escaped = Vec::new();
    for line in &lines {
        for payload in [(*line).to_owned(), query_unescape(line)] {
            for candidate in [
                payload.clone(),
                format!("https://app.example.com{payload}"),
                format!("https://app.example.com/api/auth/callback/github{payload}"),
                format!("https://pr-1.preview.example.com{payload}"),
            ] {
                tried += 1;
                let Ok(target) = Target::parse(&candidate) else {
                    continue;
                };
                if !list.matches(&target) {
                    continue;
                }
                accepted.push(candidate.clone());
                if !lands_on_intended_host(target.as_str()) || target.as_str() != candidate {
                    escaped.push(candidate);
                }
            }
        }
    }
    assert_eq!(tried, 559 * 2 * 4);
    eprintln!(
        "{} of {tried} candidates accepted:\n{}",
        accepted.len(),
        accepted.join("\n")
    );
    assert!(
        escaped.is_empty(),
        "{} payloads escaped the allowlist:\n{}",
        escaped.len(),
        escaped.join("\n")
    );
    // The prefix alone, and harmless payloads such as "/", must still get through, or the
    // test would pass by refusing everything.
    assert!(accepted
        .iter()
        .any(|a| a == "https://app.example.com/api/auth/callback/github"));
    assert!(
        accepted.len() < tried / 10,
        "{} of {tried} accepted; the rules look too loose:\n{}",
        accepted.len(),
        accepted.join("\n")
    );
}

/// A small deterministic generator (xorshift64*), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = items.len() as u64;
        let i = usize::try_from(self.next() % n).unwrap_or(0);
        items.get(i).copied().unwrap_or("")
    }
}

#[test]
fn random_confusing_strings_never_panic_or_escape() {
    const STARTS: &[&str] = &[
        "https://",
        "http://",
        "https:",
        "https:/",
        "https:///",
        "//",
        "/",
        "HTTPS://",
        "javascript:",
        "",
        "https://app.example.com",
        "https://pr-1.preview.example.com",
        "http://localhost:3000",
    ];
    const PIECES: &[&str] = &[
        "app.example.com",
        "preview.example.com",
        "pr-1.",
        "evil.com",
        ".",
        "..",
        "/",
        "//",
        "\\",
        "@",
        ":",
        "?",
        "#",
        "%2f",
        "%2F",
        "%5c",
        "%2e",
        "%00",
        "%25",
        "%40",
        "%09",
        "%0d%0a",
        "\t",
        "\n",
        " ",
        "[",
        "]",
        "::1",
        "%25eth0",
        "127.0.0.1",
        "0x7f.1",
        "2130706433",
        "а",
        "ａ",
        "。",
        "xn--pp-6kc",
        "*",
        "-",
        "_",
        ":443",
        ":0",
        ":3000",
        ":65536",
        "callback",
        "github",
        "&",
        "=",
        "'",
        "\"",
        "<",
        ">",
        "\u{0}",
        "\u{7f}",
        "ß",
        "\u{200b}",
    ];
    let list = Allowlist::parse(FIXTURE_ALLOWLIST).expect("the fixture allowlist parses");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0usize;
    for _ in 0..50_000 {
        let mut s = rng.pick(STARTS).to_owned();
        let n = rng.next() % 8;
        for _ in 0..n {
            s.push_str(rng.pick(PIECES));
        }
        let Ok(t) = Target::parse(&s) else { continue };
        assert_eq!(t.as_str(), s, "a Target is exactly what was given");
        assert!(t.scheme() == "https" || t.scheme() == "http");
        if list.matches(&t) {
            accepted += 1;
            assert!(lands_on_intended_host(&s), "escaped: {s:?}");
        }
    }
    eprintln!("{accepted} random strings accepted and allowed");
    assert!(
        accepted > 0,
        "the generator never produced an acceptable target"
    );
}
