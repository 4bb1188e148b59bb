//! An adversarial corpus against the real relay, black-box on real sockets, for both state
//! formats and for GET and form_post: IDNA and Unicode-normalisation tricks, IPv4 in
//! octal/hex/decimal, IPv6 zone ids, trailing dots, mixed case, overlong and deeply
//! encoded targets and parameters, duplicate and look-alike `state` parameters, a state in
//! both query and body, forms just under and over the size limit, and invalid UTF-8 sent
//! as raw bytes. `hostile_targets.rs` covers the classic open-redirect shapes; nothing here
//! repeats it.
//!
//! The invariants (`invariants.rs`), checked on every answer:
//! - never a 5xx;
//! - a 3xx only with a `Location` of printable ASCII whose origin is on the allowlist
//!   (checked by hand here, independently of the relay's own rules);
//! - a form-post page only for an allowed action;
//! - a refusal is byte for byte the fixed page (or JSON) for its reason code, so nothing
//!   of the request is reflected.
//!
//! At the end, property tests of `relay::decide` itself on arbitrary query strings,
//! bodies and states.

use std::time::Duration;

use authrelay::config::Config;
use authrelay::relay::{self, CallbackMethod, CallbackRequest, Decision, Refusal};
use authrelay_client::target::Target;
use proptest::prelude::*;

use crate::helpers::*;
use crate::invariants::*;

/// A target on the allowlist, for the "good" state in mixed requests.
const GOOD: &str = "https://pr-9.preview.example.com/api/auth/callback/github";
/// A target off the allowlist, for the "evil" state in mixed requests.
const EVIL: &str = "https://qqmarkerqq.evil.example.net/api/auth/callback/github";

/// Loopback allowlist for the IP tricks: the tricks must not pass by normalising to it.
const IP_ALLOWED: &str = "http://127.0.0.1:*,http://[::1]:*,https://*.preview.example.com";

/// [`IP_ALLOWED`], by hand.
fn allowed_ip(url: &url::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    match url.scheme() {
        "http" => host == "127.0.0.1" || host == "[::1]",
        "https" => {
            url.port().is_none()
                && labels.len() == 4
                && !labels[0].is_empty()
                && labels[1..] == ["preview", "example", "com"]
        }
        _ => false,
    }
}

fn ip_env() -> std::collections::HashMap<String, String> {
    env_with(&[("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", IP_ALLOWED)])
}

async fn get_q(app: &TestApp, provider: &str, query: &str, json: bool) -> reqwest::Response {
    if json {
        app.get_callback_json(provider, query).await
    } else {
        app.get_callback(provider, query).await
    }
}

async fn post_form(
    app: &TestApp,
    provider: &str,
    query: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let url = match query {
        Some(q) => format!("{}?{q}", app.callback_url(provider)),
        None => app.callback_url(provider),
    };
    send(app.post_form_to(url, body)).await
}

/// Both formats of a validly signed state around any target text.
fn states(target: &str) -> [(&'static str, String); 2] {
    [
        ("native", raw_native_state(target)),
        ("authjs", authjs_state(target)),
    ]
}

/// Sends each target, signed in both formats, as GET (HTML and JSON) and as form_post,
/// checks the invariants, and returns how many bounced or posted.
async fn run_targets(app: &TestApp, targets: &[String], allowed: Model, must_refuse: bool) {
    for target in targets {
        for (format, state) in states(target) {
            let what = format!("{target:?} [{format}]");
            let q = format!("code={MARKER}&state={}", enc(&state));
            let a = check(get_q(app, "github", &q, false).await, allowed, &what).await;
            let b = check(get_q(app, "github", &q, true).await, allowed, &what).await;
            let c = check(
                post_form(app, "github", None, q.clone()).await,
                allowed,
                &what,
            )
            .await;
            if must_refuse {
                for s in [a, b, c] {
                    assert!(matches!(s, Seen::Refused(_)), "{what}: {s:?}");
                }
            }
        }
    }
}

fn owned(v: &[&str]) -> Vec<String> {
    with_suffix(v, "")
}

/// Each of `heads` followed by `suffix` (a port and callback path, say).
fn with_suffix(heads: &[&str], suffix: &str) -> Vec<String> {
    heads.iter().map(|h| format!("{h}{suffix}")).collect()
}

// ---------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn idna_and_unicode_normalisation_tricks_are_refused() {
    let app = spawn_app().await;
    let cb = "/api/auth/callback/github";
    let targets = with_suffix(
        &[
            // Characters that IDNA or NFKC turn into a dot, slash, at-sign or hash.
            "https://pr-1.preview.example.com\u{FF0E}evil.example.net",
            "https://pr-1.preview.example.com\u{FF61}evil.example.net",
            "https://evil.example.net\u{FF0F}.app.example.com",
            "https://evil.example.net\u{2100}.app.example.com",
            "https://app.example.com\u{FF20}evil.example.net",
            "https://app.example.com\u{FE6B}evil.example.net",
            "https://evil.example.net\u{FF03}.app.example.com",
            "https://evil.example.net\u{2044}app.example.com",
            "https://evil.example.net\u{FF3C}app.example.com",
            // Characters IDNA maps to nothing, so the browser's host is the allowed one.
            "https://app.exa\u{00AD}mple.com",
            "https://app.exa\u{200D}mple.com",
            "https://app.exa\u{200C}mple.com",
            "https://app.exa\u{FEFF}mple.com",
            "https://app.exa\u{034F}mple.com",
            // Compatibility forms that NFKC folds to ASCII.
            "https://app.example.\u{217D}om",
            "https://app.exampl\u{212F}.com",
            "https://\u{FB00}.preview.example.com",
            "https://app.example.\u{24D2}om",
            "https://\u{1D41A}pp.example.com",
            "https://app.exam\u{0301}ple.com",
            // Bidi and look-alikes.
            "https://app.example.com\u{202E}ten.elpmaxe.live",
            "https://app.ex\u{0430}mple.com",
            "https://pr-1.preview.\u{0435}xample.com",
            // Punycode spellings.
            "https://XN--80a.preview.example.com",
            "https://Xn--80a.preview.example.com",
            "https://xn--.preview.example.com",
            "https://xn--a.preview.example.com",
            "https://xn--app-example-com.evil.example.net",
            "https://xn--80ak6aa92e.com",
            // Percent-encoded host characters.
            "https://%61pp.example.com",
            "https://app%2Eexample.com",
            "https://app.example.com%2F.evil.example.net",
            "https://app.example.com%252f%252f.evil.example.net",
            "https://app.example.com%00.evil.example.net",
            "https://app.example.com%E3%80%82evil.example.net",
        ],
        cb,
    );
    run_targets(&app, &targets, allowed, true).await;
}

#[tokio::test]
async fn ipv4_spellings_ipv6_zone_ids_and_mapped_addresses_are_refused() {
    let app = spawn_app_with(ip_env()).await;
    let cb = ":3000/api/auth/callback/github";
    let targets = with_suffix(
        &[
            "http://0177.0.0.1",
            "http://0177.0.0.01",
            "http://0x7f.0.0.1",
            "http://0x7F.0x0.0x0.0x1",
            "http://0x7f000001",
            "http://2130706433",
            "http://017700000001",
            "http://127.0.0.01",
            "http://127.000.000.001",
            "http://127.0.1",
            "http://127.1",
            "http://0x7f.1",
            "http://127.0.0.1.",
            "http://127.0.0.1..",
            "http://%31%32%37.0.0.1",
            "http://127\u{3002}0\u{3002}0\u{3002}1",
            "http://1\u{FF12}7.0.0.1",
            "http://0",
            "http://0.0.0.0",
            "http://127.0.0.1.evil.example.net",
            "http://[::ffff:127.0.0.1]",
            "http://[::ffff:7f00:1]",
            "http://[::127.0.0.1]",
            "http://[0:0:0:0:0:0:0:1]",
            "http://[::0:1]",
            "http://[0::1]",
            "http://[::1%25lo]",
            "http://[::1%lo]",
            "http://[::1%2525]",
            "http://[::1%25]",
            "http://[fe80::1%25eth0]",
            "http://[::1]%25eth0",
            "http://[::1].",
            "http://[::1",
            "http://::1",
            "http://[127.0.0.1]",
            "http://[::1]@evil.example.net",
            "http://127.0.0.1@evil.example.net",
            "http://evil.example.net#@127.0.0.1",
        ],
        cb,
    );
    run_targets(&app, &targets, allowed_ip, true).await;
    // The canonical spellings still bounce, so the refusals above are the spelling's fault.
    let ok = owned(&[
        "http://127.0.0.1:3000/api/auth/callback/github",
        "http://[::1]:3000/api/auth/callback/github",
    ]);
    for target in &ok {
        for (format, state) in states(target) {
            let r = get_q(
                &app,
                "github",
                &format!("code=c&state={}", enc(&state)),
                false,
            )
            .await;
            let seen = check(r, allowed_ip, format).await;
            assert!(
                matches!(seen, Seen::Bounced(_)),
                "{target} [{format}]: {seen:?}"
            );
        }
    }
}

#[tokio::test]
async fn trailing_dots_and_mixed_case_are_refused() {
    let app = spawn_app().await;
    let targets = owned(&[
        "http://localhost.:3000/api/auth/callback/github",
        "http://localhost..:3000/api/auth/callback/github",
        "https://app.example.com../api/auth/callback/github",
        "https://pr-1.preview.example.com.:443/api/auth/callback/github",
        "https://app.example.com.%2e/api/auth/callback/github",
        "https://app.example.com%2e/api/auth/callback/github",
        "https://app.example.com\u{3002}/api/auth/callback/github",
        "https://app.example.COM/api/auth/callback/github",
        "hTtPs://app.example.com/api/auth/callback/github",
        "Https://app.example.com/api/auth/callback/github",
        "https://PR-1.preview.example.com/api/auth/callback/github",
        "https://pr-1.PREVIEW.example.com/api/auth/callback/github",
        "http://LOCALHOST:3000/api/auth/callback/github",
        "http://LocalHost:3000/api/auth/callback/github",
        "HTTP://localhost:3000/api/auth/callback/github",
        "https://app.example.com:0443/api/auth/callback/github",
        "https://app.example.com:443/api/auth/callback/github",
        "https://app.example.com:+443/api/auth/callback/github",
        "https://app.example.com: 443/api/auth/callback/github",
        "http://localhost:080/api/auth/callback/github",
        "http://localhost:3000:3000/api/auth/callback/github",
    ]);
    run_targets(&app, &targets, allowed, true).await;
}

#[tokio::test]
async fn overlong_targets_and_states_are_refused_at_the_limit_and_accepted_below_it() {
    let app = spawn_app().await;
    let base = "https://app.example.com/";
    let tail = "/api/auth/callback/github";
    let at_limit = format!(
        "{base}{}{tail}",
        "a".repeat(authrelay_client::target::MAX_TARGET_LEN - base.len() - tail.len())
    );
    assert_eq!(at_limit.len(), authrelay_client::target::MAX_TARGET_LEN);
    let over = format!(
        "{base}a{}{tail}",
        "a".repeat(at_limit.len() - base.len() - tail.len())
    );
    assert_eq!(over.len(), at_limit.len() + 1);

    // At the limit: both formats still bounce, as GET and as form_post.
    for (format, state) in states(&at_limit) {
        let q = format!("code=c&state={}", enc(&state));
        let what = format!("1024-byte target [{format}]");
        let seen = check(get_q(&app, "github", &q, false).await, allowed, &what).await;
        assert!(matches!(seen, Seen::Bounced(_)), "{what}: {seen:?}");
        let seen = check(post_form(&app, "github", None, q).await, allowed, &what).await;
        assert!(matches!(seen, Seen::Posted(_)), "{what}: {seen:?}");
    }
    // One byte over: refused in both formats.
    run_targets(&app, &[over], allowed, true).await;

    // States at and over the length caps, made of valid characters.
    let native_max = authrelay_client::native::MAX_STATE_LEN;
    let jwe_max = authrelay_client::authjs::MAX_JWE_LEN;
    for (what, state, status) in [
        ("native cap + 1", "A".repeat(native_max + 1), 400),
        ("native cap", "A".repeat(native_max), 400),
        (
            "jwe cap + 1",
            format!("{}....", "A".repeat(jwe_max - 3)),
            400,
        ),
        ("jwe cap", format!("{}....", "A".repeat(jwe_max - 4)), 400),
        ("a 15 kB state", "A".repeat(15_000), 400),
    ] {
        let r = get_q(&app, "github", &format!("state={state}"), true).await;
        assert_eq!(
            check(r, allowed, what).await,
            Seen::Refused(status),
            "{what}"
        );
    }
}

#[tokio::test]
async fn deeply_encoded_targets_are_refused() {
    let app = spawn_app().await;
    let mut targets = Vec::new();
    // Encoded separators nested 1 to 5 times in the path and in the host.
    for depth in 1..=5 {
        let pct = format!("%{}", "25".repeat(depth - 1));
        targets.push(format!(
            "https://app.example.com/api/auth/{pct}2e{pct}2e/{pct}2e{pct}2e/callback/github"
        ));
        targets.push(format!(
            "https://app.example.com/api{pct}2fauth{pct}2fcallback{pct}2fgithub"
        ));
        targets.push(format!(
            "https://app.example.com{pct}2f{pct}2fevil.example.net/api/auth/callback/github"
        ));
        targets.push(format!(
            "https://app.example.com{pct}40evil.example.net/api/auth/callback/github"
        ));
        targets.push(format!(
            "https://app.example.com/api/auth/callback/github{pct}3f{pct}23"
        ));
        targets.push(format!(
            "https://app.example.com/api/auth/callback/github{pct}0d{pct}0aLocation:{pct}20https://evil.example.net"
        ));
    }
    // The whole URL encoded, 1 to 4 times, and with only the scheme separator encoded.
    let mut whole = "https://evil.example.net/api/auth/callback/github".to_owned();
    for _ in 0..4 {
        whole = enc(&whole);
        targets.push(whole.clone());
    }
    targets.push("https%3a//app.example.com/api/auth/callback/github".to_owned());
    targets.push("https:%2f%2fapp.example.com/api/auth/callback/github".to_owned());
    run_targets(&app, &targets, allowed, true).await;
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// Duplicate and look-alike `state` parameters, for both formats, in a query and in a
/// form body. `G` is a state for an allowed target, `E` one for a target off the list.
/// Each case says whether the good bounce may happen; the evil one never may.
#[tokio::test]
async fn duplicate_and_look_alike_state_parameters_never_pick_the_wrong_state() {
    let app = spawn_app().await;
    let cases: &[(&str, bool)] = &[
        ("state={G}&state={E}", false),
        ("state={E}&state={G}", false),
        ("state={G}&state={G}", false),
        ("state={G}&state=", false),
        ("state=&state={G}", false),
        ("state={G}&&state={G}", false),
        ("state={G}&st%61te={E}", false),
        ("%73tate={E}&state={G}", false),
        ("st%61te={G}", true),
        ("state={G}&State={E}", true),
        ("State={E}&state={G}", true),
        ("state={G}&STATE={E}", true),
        ("state={G}&state[]={E}", true),
        ("state[]={E}&state={G}", true),
        ("state%5B%5D={E}&state={G}", true),
        ("state={G}&state%00={E}", true),
        ("state={G}&state%20={E}", true),
        ("state={G}&+state={E}", true),
        ("State={E}", false),
        ("state[]={E}", false),
        ("state[0]={E}", false),
        ("STATE={E}", false),
        ("state%00={E}", false),
        ("state={G};state={E}", false),
        ("state={G}%26state%3D{E}", false),
        ("state={G}%26state={E}", false),
        ("state=={G}", false),
        ("state=%20{G}", false),
        ("state={G}%20", false),
        ("state=+{G}", false),
        ("state", false),
        ("={G}", false),
    ];
    for (format, good, evil) in [
        ("native", native_state(GOOD), native_state(EVIL)),
        ("authjs", authjs_state(GOOD), authjs_state(EVIL)),
    ] {
        for &(template, may_bounce) in cases {
            let q = template
                .replace("{G}", &enc(&good))
                .replace("{E}", &enc(&evil));
            let q = format!("code={MARKER}&{q}");
            let what = format!("{template} [{format}]");
            for seen in [
                check(get_q(&app, "github", &q, false).await, allowed, &what).await,
                check(get_q(&app, "github", &q, true).await, allowed, &what).await,
                check(
                    post_form(&app, "github", None, q.clone()).await,
                    allowed,
                    &what,
                )
                .await,
            ] {
                match &seen {
                    Seen::Bounced(to) | Seen::Posted(to) => {
                        assert!(may_bounce, "{what}: {seen:?}");
                        assert!(to.starts_with(GOOD), "{what}: {to}");
                    }
                    Seen::Refused(status) => {
                        assert!(!may_bounce, "{what}: refused with {status}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn a_state_in_both_query_and_body_is_never_used_from_the_query() {
    let app = spawn_app().await;
    for (format, good, evil) in [
        ("native", native_state(GOOD), native_state(EVIL)),
        ("authjs", authjs_state(GOOD), authjs_state(EVIL)),
    ] {
        let (g, e) = (enc(&good), enc(&evil));
        // POST: any query at all next to a form body is refused.
        for (query, body) in [
            (format!("state={e}"), format!("code=c&state={g}")),
            (format!("state={g}"), format!("code=c&state={g}")),
            (format!("State={e}"), format!("code=c&state={g}")),
            (format!("state[]={e}"), format!("code=c&state={g}")),
            ("state=".to_owned(), format!("code=c&state={g}")),
            (format!("code={MARKER}"), format!("code=c&state={g}")),
            (format!("state={g}"), "code=c".to_owned()),
            (format!("state={g}"), String::new()),
            ("state=%zz".to_owned(), format!("state={g}")),
        ] {
            let what = format!("POST ?{query} [{format}]");
            let r = post_form(&app, "github", Some(&query), body).await;
            let seen = check(r, allowed, &what).await;
            assert!(matches!(seen, Seen::Refused(400)), "{what}: {seen:?}");
        }
        // An empty query (or only separators) is no query.
        for query in ["", "&", "&&&"] {
            let what = format!("POST ?{query} [{format}]");
            let r = post_form(&app, "github", Some(query), format!("state={g}")).await;
            let seen = check(r, allowed, &what).await;
            assert_eq!(seen, Seen::Posted(GOOD.to_owned()), "{what}");
        }
        // GET: a body is never read, whatever it says.
        let r = send(
            app.callback_get("github", &format!("code=c&state={g}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!("state={e}")),
        )
        .await;
        let seen = check(r, allowed, "GET with a body").await;
        assert!(
            matches!(&seen, Seen::Bounced(to) if to.starts_with(GOOD)),
            "{seen:?}"
        );
        let r = app
            .client
            .get(app.callback_url("github"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("state={g}"))
            .send()
            .await
            .unwrap();
        let seen = check(r, allowed, "GET with the state only in a body").await;
        assert_eq!(seen, Seen::Refused(400));
    }
}

#[tokio::test]
async fn parameters_at_and_over_the_limits() {
    let app = spawn_app().await;
    let state = native_state(GOOD);
    let base = format!("code=c&state={state}&pad=");
    let max = relay::MAX_PARAMS_LEN;
    let at = format!("{base}{}", "p".repeat(max - base.len()));
    let over = format!("{at}p");
    assert_eq!((at.len(), over.len()), (max, max + 1));

    // Query: exactly the limit bounces, one byte more is refused.
    let seen = check(get_q(&app, "github", &at, false).await, allowed, "query at").await;
    assert!(matches!(seen, Seen::Bounced(_)), "{seen:?}");
    let seen = check(
        get_q(&app, "github", &over, true).await,
        allowed,
        "query over",
    )
    .await;
    assert_eq!(seen, Seen::Refused(400));
    // Form body: the same limit, refused over it as too large.
    let seen = check(
        post_form(&app, "github", None, at.clone()).await,
        allowed,
        "body at",
    )
    .await;
    assert!(matches!(seen, Seen::Posted(_)), "{seen:?}");
    let seen = check(
        post_form(&app, "github", None, over.clone()).await,
        allowed,
        "over",
    )
    .await;
    assert_eq!(seen, Seen::Refused(413));
    for size in [64 * 1024, 1024 * 1024, 8 * 1024 * 1024] {
        let big = format!("state={state}&pad={}", "p".repeat(size));
        let what = format!("{size}-byte body");
        let seen = check(post_form(&app, "github", None, big).await, allowed, &what).await;
        assert_eq!(seen, Seen::Refused(413), "{what}");
    }
    // A query far over the limit: refused by the relay or by the HTTP layer, never 5xx.
    for size in [20_000, 60_000] {
        let q = format!("state={state}&pad={}", "p".repeat(size));
        let what = format!("{size}-byte query");
        let seen = check(get_q(&app, "github", &q, false).await, allowed, &what).await;
        assert!(matches!(seen, Seen::Refused(_)), "{what}: {seen:?}");
    }
    // Longer than an HTTP client will send: raw bytes. The HTTP layer refuses the head.
    for size in [100_000, 1_000_000] {
        let q = format!(
            "/api/auth/callback/github?state={state}&pad={}",
            "p".repeat(size)
        );
        let what = format!("{size}-byte raw query");
        let a = raw_request(app.port, &get_bytes(q.as_bytes())).await;
        if a.status.is_some() {
            let seen = check_raw(&a, &what);
            assert!(matches!(seen, Seen::Refused(_)), "{what}: {seen:?}");
        }
    }

    // Parameter counts: 64 bounce, 65 are refused.
    let many = |n: usize| {
        let mut q = format!("state={state}");
        for i in 1..n {
            q.push_str(&format!("&p{i}=v"));
        }
        q
    };
    let seen = check(get_q(&app, "github", &many(64), false).await, allowed, "64").await;
    assert!(matches!(seen, Seen::Bounced(_)), "{seen:?}");
    let seen = check(get_q(&app, "github", &many(65), false).await, allowed, "65").await;
    assert_eq!(seen, Seen::Refused(400));
    let seen = check(
        post_form(&app, "github", None, many(65)).await,
        allowed,
        "65 post",
    )
    .await;
    assert_eq!(seen, Seen::Refused(400));

    // Empty pairs do not count, but their bytes do.
    let amp = format!("state={state}{}", "&".repeat(max - state.len() - 6));
    assert_eq!(amp.len(), max);
    let seen = check(get_q(&app, "github", &amp, false).await, allowed, "&&&").await;
    assert!(matches!(seen, Seen::Bounced(_)), "{seen:?}");
}

#[tokio::test]
async fn deeply_encoded_and_malformed_parameter_values_are_refused_or_forwarded_intact() {
    let app = spawn_app().await;
    let state = native_state(GOOD);
    // The state itself encoded more than once is not a state.
    // Every byte escaped, so that each level really changes the text (a base64url state
    // may hold no character that ordinary encoding touches).
    let enc_all = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let mut deep = state.clone();
    for depth in 1..=4 {
        deep = enc_all(&deep);
        let inner = enc_all(&deep);
        let what = format!("state encoded {} times", depth + 1);
        let seen = check(
            get_q(&app, "github", &format!("state={inner}"), true).await,
            allowed,
            &what,
        )
        .await;
        assert_eq!(seen, Seen::Refused(400), "{what}");
    }
    // Malformed escapes and invalid UTF-8 anywhere are refused, never forwarded.
    for bad in [
        "%",
        "%%",
        "%4",
        "%G0",
        "%0G",
        "%-1",
        "%%41",
        "%u0041",
        "%C0%AF",
        "%E0%80%AF",
        "%ED%A0%80",
        "%F4%90%80%80",
        "%FF",
        "%C3",
        "%E2%82",
        "%F0%9F%98",
    ] {
        for q in [
            format!("state={state}&code={MARKER}{bad}"),
            format!("state={state}&{MARKER}{bad}=x"),
        ] {
            let what = format!("param {bad}");
            let seen = check(get_q(&app, "github", &q, false).await, allowed, &what).await;
            assert_eq!(seen, Seen::Refused(400), "{what}");
            let seen = check(post_form(&app, "github", None, q).await, allowed, &what).await;
            assert_eq!(seen, Seen::Refused(400), "{what}");
        }
    }
    // Deeply encoded values that decode cleanly are forwarded exactly once decoded.
    let mut v = "https://evil.example.net/\r\n".to_owned();
    for _ in 0..5 {
        v = enc(&v);
    }
    let q = format!("state={state}&next={}", enc(&v));
    let seen = check(
        get_q(&app, "github", &q, false).await,
        allowed,
        "deep value",
    )
    .await;
    let Seen::Bounced(to) = seen else {
        panic!("{seen:?}")
    };
    let url = url::Url::parse(&to).unwrap();
    let next = url.query_pairs().find(|(k, _)| k == "next").unwrap().1;
    assert_eq!(next, v);
}

// ---------------------------------------------------------------------------------------
// Raw bytes on the wire
// ---------------------------------------------------------------------------------------

/// What came back on a raw connection.
#[derive(Debug)]
pub struct RawAnswer {
    /// The status, or `None` when the connection closed without a response.
    pub status: Option<u16>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// Sends `request` as raw bytes to the relay and reads what comes back, for at most 10 s
/// and 4 MiB. The request should say `Connection: close`.
pub async fn raw_request(port: u16, request: &[u8]) -> RawAnswer {
    raw_exchange(port, request, false).await
}

/// [`raw_request`], and with `half_close` the sending side is shut down once the request
/// is written (the peer sees the end of the body).
pub async fn raw_exchange(port: u16, request: &[u8], half_close: bool) -> RawAnswer {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let (reader, writer) = stream.into_split();
        let mut writer = Some(writer);
        let mut sent = 0;
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        // Write and read at once: the relay may answer (and stop reading) before the
        // whole request is sent.
        loop {
            let sending = sent < request.len() && writer.is_some();
            tokio::select! {
                r = async { writer.as_ref().unwrap().writable().await }, if sending => {
                    let w = writer.as_ref().unwrap();
                    match r.and_then(|()| w.try_write(&request[sent..])) {
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => sent = request.len(),
                    }
                    if sent == request.len() && half_close {
                        // Dropping the write half shuts it down.
                        writer = None;
                    }
                }
                r = reader.readable() => {
                    if r.is_err() {
                        break;
                    }
                    match reader.try_read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => {
                            buf.extend_from_slice(&chunk[..n]);
                            if buf.len() > 4 << 20 || response_complete(&buf) {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => break,
                    }
                }
            }
        }
        buf
    };
    let buf = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("the relay answers or closes within 10 s");
    parse_raw(&buf)
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn response_complete(buf: &[u8]) -> bool {
    let Some(end) = head_end(buf) else {
        return false;
    };
    let a = parse_raw(buf);
    match a
        .header("content-length")
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
    {
        Some(n) => buf.len() >= end + n,
        None => false,
    }
}

fn parse_raw(buf: &[u8]) -> RawAnswer {
    let Some(end) = head_end(buf) else {
        return RawAnswer {
            status: None,
            headers: Vec::new(),
            body: buf.to_vec(),
        };
    };
    let head = &buf[..end - 4];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok());
    let headers = lines
        .filter_map(|l| {
            let i = l.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&l[..i]).trim().to_owned();
            let value = l[i + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    RawAnswer {
        status,
        headers,
        body: buf[end..].to_vec(),
    }
}

fn check_raw(a: &RawAnswer, what: &str) -> Seen {
    let status = a
        .status
        .unwrap_or_else(|| panic!("{what}: no HTTP response"));
    let ct = a
        .header("content-type")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&a.body).into_owned();
    check_parts(
        status,
        a.header("location").map(<[u8]>::to_vec),
        &ct,
        &body,
        allowed,
        what,
    )
}

fn get_bytes(path_and_query: &[u8]) -> Vec<u8> {
    let mut r = b"GET ".to_vec();
    r.extend_from_slice(path_and_query);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    r
}

fn post_bytes(path: &[u8], content_type: &[u8], body: &[u8]) -> Vec<u8> {
    let mut r = b"POST ".to_vec();
    r.extend_from_slice(path);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: ");
    r.extend_from_slice(content_type);
    r.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
    r.extend_from_slice(body);
    r
}

#[tokio::test]
async fn invalid_utf8_as_raw_bytes_in_query_path_headers_and_body_is_refused_cleanly() {
    let app = spawn_app().await;
    let cb = b"/api/auth/callback/github";
    let good = native_state(GOOD);
    let good_authjs = authjs_state(GOOD);
    let mut requests: Vec<(String, Vec<u8>)> = Vec::new();
    let bad_bytes: &[&[u8]] = &[
        b"\xff",
        b"\xfe\xff",
        b"\xc0\xaf",
        b"\xe0\x80\xaf",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xc3",
        b"\x80",
        b"\xf0\x9f\x98",
        b"\xef\xbb\xbf",
        b"\x7f",
        b"\x01",
    ];
    for (i, bad) in bad_bytes.iter().enumerate() {
        for state in [&good, &good_authjs] {
            // In the query, in a value and in a key.
            let mut q = cb.to_vec();
            q.extend_from_slice(format!("?state={}&code=", enc(state)).as_bytes());
            q.extend_from_slice(bad);
            requests.push((format!("GET query value #{i}"), get_bytes(&q)));
            let mut q = cb.to_vec();
            q.extend_from_slice(b"?");
            q.extend_from_slice(bad);
            q.extend_from_slice(format!("=1&state={}", enc(state)).as_bytes());
            requests.push((format!("GET query key #{i}"), get_bytes(&q)));
            // In the state itself.
            let mut q = cb.to_vec();
            q.extend_from_slice(b"?state=");
            q.extend_from_slice(bad);
            q.extend_from_slice(enc(state).as_bytes());
            requests.push((format!("GET state #{i}"), get_bytes(&q)));
            // In a form body.
            let mut body = format!("state={}&code=", enc(state)).into_bytes();
            body.extend_from_slice(bad);
            requests.push((
                format!("POST body #{i}"),
                post_bytes(cb, b"application/x-www-form-urlencoded", &body),
            ));
            let mut body = b"state=".to_vec();
            body.extend_from_slice(bad);
            requests.push((
                format!("POST state #{i}"),
                post_bytes(cb, b"application/x-www-form-urlencoded", &body),
            ));
        }
        // In the provider segment of the path, raw and percent-encoded.
        let mut p = b"/api/auth/callback/git".to_vec();
        p.extend_from_slice(bad);
        p.extend_from_slice(format!("hub?state={}", enc(&good)).as_bytes());
        requests.push((format!("GET provider #{i}"), get_bytes(&p)));
        let pct: String = bad.iter().map(|b| format!("%{b:02X}")).collect();
        requests.push((
            format!("GET provider %-encoded #{i}"),
            get_bytes(format!("/api/auth/callback/git{pct}hub?state={}", enc(&good)).as_bytes()),
        ));
        // In the Content-Type of a form post, and in the Host and Accept headers.
        let mut ct = b"application/x-www-form-urlencoded; charset=".to_vec();
        ct.extend_from_slice(bad);
        requests.push((
            format!("POST content-type #{i}"),
            post_bytes(cb, &ct, format!("state={}", enc(&good)).as_bytes()),
        ));
        let mut r = format!(
            "GET /api/auth/callback/github?state={} HTTP/1.1\r\nHost: ",
            enc(&good)
        )
        .into_bytes();
        r.extend_from_slice(bad);
        r.extend_from_slice(b"\r\nAccept: text/");
        r.extend_from_slice(bad);
        r.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        requests.push((format!("GET host header #{i}"), r));
    }
    // The HTTP layer refuses a request head it cannot parse, before the relay sees it (an
    // answer with no Content-Type): a raw bad byte in the request target or in the Host
    // header always is; one in a form body, or percent-encoded, always reaches the relay.
    let raw_in_head = |what: &str| {
        [
            "GET query",
            "GET state",
            "GET provider #",
            "GET host header",
        ]
        .iter()
        .any(|p| what.starts_with(p))
    };
    let mut refused_by_http_layer = 0;
    for (what, req) in &requests {
        let a = raw_request(app.port, req).await;
        let seen = check_raw(&a, what);
        if let Seen::Bounced(to) | Seen::Posted(to) = &seen {
            // Only a bad byte that never reached the decision may leave a bounce standing
            // (a header the relay does not read).
            assert!(
                what.starts_with("GET host header") || what.starts_with("POST content-type"),
                "{what}: {to}"
            );
            assert!(to.starts_with(GOOD), "{what}: {to}");
        }
        let refused_early = a.header("content-type").is_none();
        if raw_in_head(what) {
            assert!(refused_early, "{what}: reached the relay");
        } else if !what.starts_with("POST content-type") {
            assert!(!refused_early, "{what}: refused before the relay read it");
        }
        if refused_early {
            refused_by_http_layer += 1;
        }
    }
    assert!(requests.len() > 100, "{}", requests.len());
    // Besides the raw bytes in the head, only a Content-Type with a bad byte may be
    // refused early: at most one a bad byte.
    let in_head = requests
        .iter()
        .filter(|(what, _)| raw_in_head(what))
        .count();
    assert!(
        (in_head..=in_head + bad_bytes.len()).contains(&refused_by_http_layer),
        "{refused_by_http_layer} refused by the HTTP layer, {in_head} with a raw byte in the head"
    );
}

#[tokio::test]
async fn raw_control_characters_and_header_injection_in_the_request_line() {
    let app = spawn_app().await;
    let good = enc(&native_state(GOOD));
    for (what, line) in [
        ("CR LF in query", format!("/api/auth/callback/github?state={good}&code=a\r\nLocation: https://evil.example.net/")),
        ("LF in query", format!("/api/auth/callback/github?state={good}&code=a\nX: y")),
        ("NUL in query", format!("/api/auth/callback/github?state={good}&code=a\0b")),
        ("tab in query", format!("/api/auth/callback/github?state={good}&code=a\tb")),
        ("space in query", format!("/api/auth/callback/github?state={good}&code=a b")),
        ("fragment", format!("/api/auth/callback/github?state={good}#@evil.example.net")),
        ("absolute form", format!("https://evil.example.net/api/auth/callback/github?state={good}")),
        ("dot segments", format!("/api/auth/../auth/callback/github?state={good}")),
        ("encoded slash", format!("/api/auth/callback%2fgithub?state={good}")),
        ("double slash", format!("//api/auth/callback/github?state={good}")),
        ("backslash", format!("/api/auth\\callback/github?state={good}")),
    ] {
        let a = raw_request(app.port, &get_bytes(line.as_bytes())).await;
        match a.status {
            // The HTTP layer may refuse a malformed request line outright.
            Some(_) => {
                let seen = check_raw(&a, what);
                assert!(a.header("set-cookie").is_none(), "{what}");
                assert!(a.header("x").is_none(), "{what}");
                if let Seen::Bounced(to) = &seen {
                    assert!(to.starts_with(GOOD), "{what}: {to}");
                    assert!(!to.bytes().any(|b| b < 0x21), "{what}: {to:?}");
                }
            }
            None => panic!("{what}: closed without an answer"),
        }
    }
}

#[tokio::test]
async fn chunked_and_lying_bodies_are_refused_cleanly() {
    let app = spawn_app().await;
    let cb = "/api/auth/callback/github";
    let good = enc(&native_state(GOOD));
    // A chunked body over the limit, in many small chunks.
    let mut r = format!(
        "POST {cb} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let piece = format!("state={good}&pad=");
    r.extend_from_slice(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes());
    for _ in 0..200 {
        r.extend_from_slice(format!("{:x}\r\n{}\r\n", 100, "p".repeat(100)).as_bytes());
    }
    r.extend_from_slice(b"0\r\n\r\n");
    let a = raw_request(app.port, &r).await;
    assert_eq!(check_raw(&a, "chunked 20 kB"), Seen::Refused(413));

    // A chunked body under the limit is a normal form post.
    let mut r = format!(
        "POST {cb} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let body = format!("code=c&state={good}");
    for part in body.as_bytes().chunks(7) {
        r.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        r.extend_from_slice(part);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\n\r\n");
    let a = raw_request(app.port, &r).await;
    assert_eq!(
        check_raw(&a, "chunked small"),
        Seen::Posted(GOOD.to_owned())
    );

    // A chunk size that is not hexadecimal: a broken body, not a long one.
    let r = format!(
        "POST {cb} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n\
         6\r\nstate=\r\nzz\r\n"
    );
    let a = raw_request(app.port, r.as_bytes()).await;
    assert_eq!(check_raw(&a, "bad chunk size"), Seen::Refused(400));

    // A Content-Length over the limit with the body shorter than announced, then closed.
    let r = format!(
        "POST {cb} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\nstate={good}"
    );
    let a = raw_exchange(app.port, r.as_bytes(), true).await;
    if a.status.is_some() {
        check_raw(&a, "short body");
    }
    // Both Content-Length and Transfer-Encoding (request smuggling shape).
    let r = format!(
        "POST {cb} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\
         Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET {cb}?state={good} HTTP/1.1\r\n\r\n"
    );
    let a = raw_request(app.port, r.as_bytes()).await;
    let seen = check_raw(&a, "CL + TE");
    assert!(matches!(seen, Seen::Refused(_)), "{seen:?}");
    // Two Content-Length headers that disagree.
    let r = format!(
        "POST {cb} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nContent-Length: 200\r\n\r\nstate={good}"
    );
    let a = raw_request(app.port, r.as_bytes()).await;
    let seen = check_raw(&a, "two CL");
    assert!(matches!(seen, Seen::Refused(_)), "{seen:?}");
}

// ---------------------------------------------------------------------------------------
// The decision function on arbitrary input
// ---------------------------------------------------------------------------------------

fn decide_config() -> Config {
    Config::from_vars(default_env()).expect("test configuration is valid")
}

/// Pieces of query strings that matter to the parser and the decision.
const QUERY_PIECES: &[&str] = &[
    "&",
    "=",
    "state",
    "State",
    "state[]",
    "code",
    "iss",
    "error",
    "%",
    "%2",
    "%26",
    "%3D",
    "%0D%0A",
    "%00",
    "%7F",
    "%FF",
    "%C3%A9",
    "%E2%80%AE",
    "+",
    "%2B",
    " ",
    "\r",
    "\n",
    "\0",
    "\t",
    "é",
    "\u{202E}",
    "<script>",
    "\"",
    "'",
    "#",
    "?",
    "/",
    "\\",
    "..",
    "x",
    "1",
    "https://evil.example.net/",
    "%2F%2Fevil.example.net",
    "javascript:alert(1)",
];

/// Targets to sign: allowed ones (bounces must happen) and hostile ones (must not).
const DECIDE_TARGETS: &[&str] = &[
    "https://pr-1.preview.example.com/api/auth/callback/github",
    "https://app.example.com/api/auth/callback/github",
    "https://app.example.com/api/auth/callback/github?tenant=a&x=%2F",
    "http://localhost:5173/api/auth/callback/github",
    "http://localhost:5173/api/auth/callback/apple",
    "https://evil.example.net/api/auth/callback/github",
    "https://app.example.com.evil.example.net/api/auth/callback/github",
    "https://auth.example.test/api/auth/callback/github",
    "https://pr-1.preview.example.com/api/auth/callback/google",
    "http://app.example.com/api/auth/callback/github",
    "https://app.example.com@evil.example.net/api/auth/callback/github",
    "https://app.example.com/api/auth/callback/github#x",
    "https://app.example.com/api/auth/callback/github\r\nX: y",
    "javascript:alert(1)//callback/github",
];

#[derive(Debug, Clone)]
enum Piece {
    Raw(&'static str),
    Soup(String),
    NativeState(&'static str),
    AuthJsState(&'static str),
    Encoded(Box<Piece>),
}

impl Piece {
    fn render(&self) -> String {
        match self {
            Piece::Raw(s) => (*s).to_owned(),
            Piece::Soup(s) => s.clone(),
            Piece::NativeState(t) => format!("state={}", raw_native_state(t)),
            Piece::AuthJsState(t) => format!("state={}", authjs_state(t)),
            Piece::Encoded(p) => enc(&p.render()),
        }
    }
}

fn piece() -> impl Strategy<Value = Piece> {
    let leaf = prop_oneof![
        6 => prop::sample::select(QUERY_PIECES).prop_map(Piece::Raw),
        2 => "\\PC{0,12}".prop_map(Piece::Soup),
        2 => prop::sample::select(DECIDE_TARGETS).prop_map(Piece::NativeState),
        2 => prop::sample::select(DECIDE_TARGETS).prop_map(Piece::AuthJsState),
    ];
    leaf.prop_recursive(2, 8, 1, |inner| {
        inner.prop_map(|p| Piece::Encoded(Box::new(p)))
    })
}

fn query_string() -> impl Strategy<Value = String> {
    let soup = prop::collection::vec(piece(), 0..12)
        .prop_map(|v| v.iter().map(Piece::render).collect::<Vec<_>>().join("&"));
    // One signed state among well-formed parameters with arbitrary values, in any order:
    // the shape that reaches a bounce.
    let benign = (
        prop::sample::select(&["code", "iss", "error", "scope", "user", "x", "State"][..]),
        "\\PC{0,24}",
    )
        .prop_map(|(k, v)| format!("{k}={}", enc(&v)));
    let state = prop_oneof![
        prop::sample::select(DECIDE_TARGETS).prop_map(Piece::NativeState),
        prop::sample::select(DECIDE_TARGETS).prop_map(Piece::AuthJsState),
    ]
    .prop_map(|p| p.render());
    let shaped = (
        state,
        prop::collection::vec(benign, 0..6),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(state, mut params, at)| {
            let i = at.index(params.len() + 1);
            params.insert(i, state);
            params.join("&")
        });
    prop_oneof![soup, shaped]
}

/// The provider from the callback path: mostly valid ones, sometimes anything.
fn provider() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&["github", "apple", "google"][..]).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
}

fn host_header() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("auth.example.test".to_owned())),
        Just(Some("app.example.com".to_owned())),
        Just(Some("pr-1.preview.example.com".to_owned())),
        "\\PC{0,20}".prop_map(Some),
    ]
}

/// The decision's invariants: a redirect's Location is printable ASCII without CR, LF,
/// NUL or anything below 0x21, parses, and its origin is on the allowlist (by the hand
/// model and by the allowlist itself); a form post goes to an allowed action whose
/// origin is the one given for the CSP.
fn assert_decision_safe(d: &Decision, config: &Config) -> Result<(), TestCaseError> {
    let on_list = |url: &url::Url| -> Result<(), TestCaseError> {
        prop_assert!(allowed(url), "off the allowlist: {}", url);
        let origin = Target::parse(&format!("{}/", url.origin().ascii_serialization()))
            .map_err(|e| TestCaseError::fail(format!("{url}: {e:?}")))?;
        prop_assert!(config.allowlist.matches(&origin), "{}", url);
        prop_assert!(
            url.fragment().is_none() && url.username().is_empty(),
            "{}",
            url
        );
        Ok(())
    };
    match d {
        Decision::Redirect(loc) => {
            prop_assert!(
                loc.bytes().all(|b| (0x21..0x7f).contains(&b)),
                "Location {:?}",
                loc
            );
            let url = url::Url::parse(loc).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(url.as_str(), loc.as_str());
            on_list(&url)?;
        }
        Decision::FormPost {
            action,
            action_origin,
            fields,
        } => {
            let url = url::Url::parse(action).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert!(
                action.bytes().all(|b| (0x21..0x7f).contains(&b)),
                "{:?}",
                action
            );
            prop_assert_eq!(&url.origin().ascii_serialization(), action_origin);
            on_list(&url)?;
            prop_assert!(fields.iter().filter(|(k, _)| k == "state").count() == 1);
        }
        Decision::Refuse(r) => prop_assert!((400..500).contains(&r.status())),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn decide_on_arbitrary_get_queries_never_leaves_the_allowlist(
        query in query_string(),
        provider in provider(),
        host in host_header(),
        skew in 0u64..700,
    ) {
        let config = decide_config();
        let req = CallbackRequest {
            method: CallbackMethod::Get,
            provider: &provider,
            query: &query,
            body: b"",
            content_type: None,
            request_host: host.as_deref(),
        };
        let o = relay::decide(&req, &config, now() + skew);
        assert_decision_safe(&o.decision, &config)?;
        prop_assert!(!matches!(o.decision, Decision::FormPost { .. }), "a GET never yields a form");
    }

    #[test]
    fn decide_on_arbitrary_form_posts_never_leaves_the_allowlist(
        body in prop_oneof![
            3 => query_string().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..200),
        ],
        query in prop_oneof![3 => Just(String::new()), 1 => query_string()],
        content_type in prop_oneof![
            4 => Just(Some("application/x-www-form-urlencoded".to_owned())),
            1 => Just(Some("Application/X-WWW-Form-Urlencoded ; charset=utf-8".to_owned())),
            1 => Just(None),
            1 => "\\PC{0,30}".prop_map(Some),
        ],
        provider in provider(),
    ) {
        let config = decide_config();
        let req = CallbackRequest {
            method: CallbackMethod::Post,
            provider: &provider,
            query: &query,
            body: &body,
            content_type: content_type.as_deref(),
            request_host: Some("auth.example.test"),
        };
        let o = relay::decide(&req, &config, now());
        assert_decision_safe(&o.decision, &config)?;
        prop_assert!(!matches!(o.decision, Decision::Redirect(_)));
    }

    /// Arbitrary state strings, alone or next to a valid one: never a bounce off the list.
    #[test]
    fn decide_on_arbitrary_state_strings_never_leaves_the_allowlist(
        state in prop_oneof![
            "\\PC{0,300}",
            "[A-Za-z0-9_-]{60,400}",
            "[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,10}\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,60}",
        ],
        with_valid in any::<bool>(),
    ) {
        let config = decide_config();
        let mut query = format!("code=c&state={}", enc(&state));
        if with_valid {
            query.push_str(&format!("&state={}", native_state(GOOD)));
        }
        let req = CallbackRequest {
            method: CallbackMethod::Get,
            provider: "github",
            query: &query,
            body: b"",
            content_type: None,
            request_host: None,
        };
        let o = relay::decide(&req, &config, now());
        assert_decision_safe(&o.decision, &config)?;
        if with_valid {
            prop_assert_eq!(o.decision, Decision::Refuse(Refusal::StateDuplicated));
        }
    }
}

/// The generators reach bounces and form posts, so the properties above are not vacuous.
#[test]
fn the_decide_generators_reach_redirects_and_form_posts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let config = decide_config();
    let mut runner = TestRunner::deterministic();
    let (mut redirects, mut posts) = (0, 0);
    for _ in 0..600 {
        let q = query_string().new_tree(&mut runner).unwrap().current();
        let get = CallbackRequest {
            method: CallbackMethod::Get,
            provider: "github",
            query: &q,
            body: b"",
            content_type: None,
            request_host: None,
        };
        if matches!(
            relay::decide(&get, &config, now()).decision,
            Decision::Redirect(_)
        ) {
            redirects += 1;
        }
        let post = CallbackRequest {
            method: CallbackMethod::Post,
            query: "",
            body: q.as_bytes(),
            content_type: Some("application/x-www-form-urlencoded"),
            ..get
        };
        if matches!(
            relay::decide(&post, &config, now()).decision,
            Decision::FormPost { .. }
        ) {
            posts += 1;
        }
    }
    assert!(
        redirects >= 10 && posts >= 10,
        "{redirects} redirects, {posts} posts"
    );
}

// ---------------------------------------------------------------------------------------
// Slow and oversized bodies (regression tests, docs/security-testing.md)
// ---------------------------------------------------------------------------------------

/// A form post that announces a body over `MAX_BODY` is refused 413 from its
/// `Content-Length` alone, before any of the body is read. Guards against a client that
/// announces 10 MB, sends nothing more and holds the connection while the relay waits
/// for 16 KiB to arrive.
#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let r = "POST /api/auth/callback/github HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\nstate=x";
    let started = std::time::Instant::now();
    let a = raw_request(app.port, r.as_bytes()).await;
    assert_eq!(check_raw(&a, "announced 10 MB"), Seen::Refused(413));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// A body that trickles in (or stops) is cut off at `BODY_TIMEOUT` with 400
/// `params_malformed`. The server's 5 s deadline covers only the request head, so
/// without this one a slow-body client holds its connection (and a file descriptor) for
/// ever.
#[tokio::test]
async fn a_body_that_never_finishes_arriving_is_cut_off() {
    let app = spawn_app().await;
    let head =
        "POST /api/auth/callback/github HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nstate=";
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream.writable().await.unwrap();
    assert_eq!(stream.try_write(head.as_bytes()).unwrap(), head.len());
    let started = std::time::Instant::now();
    let limit = authrelay::request::BODY_TIMEOUT + Duration::from_secs(5);
    let (buf, error) = read_raw_until(&stream, limit, response_complete).await;
    let waited = started.elapsed();
    let a = parse_raw(&buf);
    assert!(
        a.status.is_some(),
        "no answer after {waited:?}: the connection is still held (read error: {error:?})"
    );
    assert_eq!(check_raw(&a, "slow body"), Seen::Refused(400));
    assert!(
        waited >= authrelay::request::BODY_TIMEOUT - Duration::from_secs(1),
        "{waited:?}"
    );
}
