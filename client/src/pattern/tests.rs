//! Tests of origin patterns and allowlists.

use super::error::MAX_SHOWN;
use super::*;

fn pat(s: &str) -> OriginPattern {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn target(s: &str) -> Target {
    Target::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn code(s: &str) -> &'static str {
    match s.parse::<OriginPattern>() {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn pattern_verdicts() {
    let long_label = format!("https://{}.example.com", "a".repeat(64));
    let cases: &[(&str, &str)] = &[
        ("https://app.example.com", "ok"),
        ("https://*.preview.acme.dev", "ok"),
        ("https://myapp-*-acme.vercel.app", "ok"),
        ("https://*.acme.com", "ok"),
        ("https://*.*.acme.com", "wildcard_not_leftmost"),
        ("https://app.*.acme.com", "wildcard_not_leftmost"),
        ("https://*.*.amazonaws.com", "wildcard_not_leftmost"),
        ("https://*.s3.*.amazonaws.com", "wildcard_not_leftmost"),
        ("https://x*.com", "public_suffix_wildcard"),
        ("https://myapp-*.co.uk", "public_suffix_wildcard"),
        ("https://pr-*.preview.acme.dev:8443", "ok"),
        ("https://*.myproject.pages.dev", "ok"),
        ("https://app.example.com:*", "ok"),
        ("http://localhost:3000", "ok"),
        ("http://localhost", "ok"),
        ("http://localhost:*", "ok"),
        ("http://127.0.0.1:*", "ok"),
        ("http://127.1.2.3:8080", "ok"),
        ("http://[::1]:3000", "ok"),
        ("https://[2001:db8::1]", "ok"),
        ("https://1.2.3.4", "ok"),
        ("HTTPS://APP.Example.COM", "ok"),
        ("https://bücher.example", "ok"),
        ("https://ａｃｍｅ.com", "ok"),
        ("https://xn--*.acme.com", "ok"),
        ("https://intranet", "ok"),
        ("", "empty"),
        (" https://a.com", "forbidden_character"),
        ("https://a.com\t", "forbidden_character"),
        ("https://a\\.com", "forbidden_character"),
        ("https://a.com\n", "forbidden_character"),
        ("a.example.com", "missing_scheme"),
        ("//a.example.com", "missing_scheme"),
        ("https:/a.example.com", "missing_scheme"),
        ("ftp://a.example.com", "scheme"),
        ("javascript://a.example.com", "scheme"),
        ("*://a.example.com", "scheme"),
        ("http://a.example.com", "http_not_loopback"),
        ("http://*.localhost", "http_not_loopback"),
        ("http://localhost.example.com", "http_not_loopback"),
        ("http://10.0.0.1", "http_not_loopback"),
        ("http://[::2]", "http_not_loopback"),
        ("https://user@a.example.com", "userinfo"),
        ("https://u:p@a.example.com", "userinfo"),
        ("https://a.example.com/", "path"),
        ("https://a.example.com/api/auth", "path"),
        ("https://a.example.com?x", "query"),
        ("https://a.example.com#x", "fragment"),
        ("https://", "no_host"),
        ("https://:3000", "no_host"),
        ("https://a.example.com:", "port"),
        ("https://a.example.com:0", "port"),
        ("https://a.example.com:65536", "port"),
        ("https://a.example.com:99999999", "port"),
        ("https://a.example.com:+1", "port"),
        ("https://a.example.com:3000x", "port"),
        ("https://a.example.com:**", "port"),
        ("http://[::1]:", "port"),
        ("https://a.example.com.", "trailing_dot"),
        ("https://*.example.com.", "trailing_dot"),
        ("https://a..example.com", "empty_label"),
        ("https://.example.com", "empty_label"),
        ("https://a_b.example.com", "invalid_host"),
        ("https://-a.example.com", "invalid_host"),
        ("https://a%2eexample.com", "invalid_host"),
        ("https://a．b.com", "invalid_host"),
        ("https://xn--a.com", "invalid_host"),
        ("https://[::1", "invalid_host"),
        ("https://[::1]x", "invalid_host"),
        ("https://[fe80::1%25eth0]", "invalid_host"),
        ("https://::1", "invalid_host"),
        ("https://a<b.com", "invalid_host"),
        ("https://[zz]", "invalid_host"),
        (&long_label, "invalid_host"),
        ("https://**.acme.com", "multiple_wildcards"),
        ("https://a*b*c.acme.com", "multiple_wildcards"),
        ("https://bü*.acme.com", "invalid_wildcard_label"),
        ("https://a_*.acme.com", "invalid_wildcard_label"),
        ("https://-*.acme.com", "invalid_wildcard_label"),
        ("https://*-.acme.com", "invalid_wildcard_label"),
        ("http://127.0.0.*", "wildcard_in_ip"),
        ("https://*.1.2.3", "wildcard_in_ip"),
        ("https://[::*]", "wildcard_in_ip"),
        ("https://acme.*", "wildcard_in_tld"),
        ("https://acme.c*m", "wildcard_in_tld"),
        ("https://*", "wildcard_in_tld"),
        ("https://*.com", "public_suffix_wildcard"),
        ("https://*.vercel.app", "public_suffix_wildcard"),
        ("https://*.co.uk", "public_suffix_wildcard"),
        ("https://*.github.io", "public_suffix_wildcard"),
        ("https://*.app", "public_suffix_wildcard"),
        ("https://*.pages.dev", "public_suffix_wildcard"),
        ("https://*.netlify.app:8443", "public_suffix_wildcard"),
        ("https://*.internal", "public_suffix_wildcard"),
        ("https://*.foo.ck", "public_suffix_wildcard"),
        ("https://a.*.ck", "public_suffix_wildcard"),
        ("https://x.*.com", "public_suffix_wildcard"),
        ("https://*.compute.amazonaws.com", "public_suffix_wildcard"),
        ("https://*.xn--fiqs8s", "public_suffix_wildcard"),
        ("https://*.中国", "public_suffix_wildcard"),
    ];
    let mut failures = Vec::new();
    for (s, want) in cases {
        let got = code(s);
        if got != *want {
            failures.push(format!("{s:?}: want {want}, got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn canonical_forms() {
    let cases = [
        ("HTTPS://APP.Example.COM", "https://app.example.com"),
        ("https://a.example.com:443", "https://a.example.com"),
        ("http://localhost:80", "http://localhost"),
        (
            "https://MyApp-*-ACME.vercel.app",
            "https://myapp-*-acme.vercel.app",
        ),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        (
            "https://*.bücher.example:*",
            "https://*.xn--bcher-kva.example:*",
        ),
        ("https://ａｃｍｅ.com", "https://acme.com"),
        ("https://straße.de", "https://xn--strae-oqa.de"),
        ("http://[0:0::1]:3000", "http://[::1]:3000"),
        ("http://0x7f.1", "http://127.0.0.1"),
        ("https://a.example.com:03000", "https://a.example.com:3000"),
    ];
    for (s, want) in cases {
        let p = pat(s);
        assert_eq!(p.as_str(), want, "{s}");
        assert_eq!(p.to_string(), want);
        assert_eq!(
            pat(p.as_str()),
            p,
            "canonical form parses to the same pattern"
        );
    }
}

#[test]
fn matching() {
    // (pattern, target, matches)
    let cases = [
        (
            "https://*.preview.acme.dev",
            "https://a.preview.acme.dev/cb",
            true,
        ),
        (
            "https://*.preview.acme.dev",
            "https://pr-42.preview.acme.dev/cb",
            true,
        ),
        (
            "https://*.preview.acme.dev",
            "https://preview.acme.dev/cb",
            false,
        ),
        (
            "https://*.preview.acme.dev",
            "https://a.b.preview.acme.dev/cb",
            false,
        ),
        (
            "https://*.preview.acme.dev",
            "https://evilpreview.acme.dev/cb",
            false,
        ),
        (
            "https://*.preview.acme.dev",
            "https://a.preview.acme.dev.evil.com/cb",
            false,
        ),
        (
            "https://*.preview.acme.dev",
            "https://a-preview.acme.dev/cb",
            false,
        ),
        ("https://*.preview.acme.dev", "http://localhost/cb", false),
        (
            "https://*.preview.acme.dev",
            "https://a.preview.acme.dev:8443/cb",
            false,
        ),
        (
            "https://*.preview.acme.dev",
            "https://xn--80a.preview.acme.dev/cb",
            true,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp-git-x-acme.vercel.app/cb",
            true,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp-1-acme.vercel.app/cb",
            true,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp--acme.vercel.app/cb",
            false,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp-acme.vercel.app/cb",
            false,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp-x.evil-acme.vercel.app/cb",
            false,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://xmyapp-1-acme.vercel.app/cb",
            false,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp-1-acmex.vercel.app/cb",
            false,
        ),
        (
            "https://myapp-*-acme.vercel.app",
            "https://myapp-1-acme.vercel.app.evil.com/cb",
            false,
        ),
        ("https://*.myapp.com", "https://evil-myapp.com/cb", false),
        ("https://*.myapp.com", "https://www.myapp.com/cb", true),
        ("https://*.myapp.com", "https://myapp.com/cb", false),
        ("https://*.myapp.com", "https://wwwmyapp.com/cb", false),
        ("https://a*.acme.com", "https://a.acme.com/cb", false),
        ("https://a*.acme.com", "https://ab.acme.com/cb", true),
        ("https://*a.acme.com", "https://ba.acme.com/cb", true),
        ("https://*a.acme.com", "https://a.acme.com/cb", false),
        (
            "https://app.example.com",
            "https://app.example.com/cb",
            true,
        ),
        (
            "https://app.example.com",
            "https://app.example.com:8443/cb",
            false,
        ),
        ("https://app.example.com", "http://localhost/cb", false),
        (
            "https://app.example.com",
            "https://www.app.example.com/cb",
            false,
        ),
        (
            "https://app.example.com",
            "https://app.example.co/cb",
            false,
        ),
        (
            "https://app.example.com:8443",
            "https://app.example.com:8443/cb",
            true,
        ),
        (
            "https://app.example.com:8443",
            "https://app.example.com/cb",
            false,
        ),
        (
            "https://app.example.com:*",
            "https://app.example.com:1/cb",
            true,
        ),
        (
            "https://app.example.com:*",
            "https://app.example.com/cb",
            true,
        ),
        (
            "https://APP.EXAMPLE.com",
            "https://app.example.com/cb",
            true,
        ),
        ("https://acme.com", "https://xn--cme-5cd.com/cb", false),
        ("https://аcme.com", "https://xn--cme-5cd.com/cb", true),
        ("https://аcme.com", "https://xn--cme-8cd.com/cb", false),
        ("https://аcme.com", "https://acme.com/cb", false),
        ("https://ａｃｍｅ.com", "https://acme.com/cb", true),
        (
            "https://bücher.example",
            "https://xn--bcher-kva.example/cb",
            true,
        ),
        ("https://straße.de", "https://strasse.de/cb", false),
        ("http://localhost:3000", "http://localhost:3000/cb", true),
        ("http://localhost:3000", "http://localhost:3001/cb", false),
        ("http://localhost:3000", "https://localhost:3000/cb", false),
        ("http://localhost", "http://localhost/cb", true),
        ("http://localhost", "http://localhost:8080/cb", false),
        ("http://localhost:*", "http://localhost:8080/cb", true),
        ("http://localhost:*", "http://127.0.0.1:8080/cb", false),
        ("http://127.0.0.1:*", "http://127.0.0.1:8080/cb", true),
        ("http://127.0.0.1:*", "http://127.0.0.2:8080/cb", false),
        ("http://[::1]:*", "http://[::1]:8080/cb", true),
        ("http://[::1]:*", "http://localhost:8080/cb", false),
        ("https://1.2.3.4", "https://1.2.3.4/cb", true),
        ("https://1.2.3.4", "https://1.2.3.5/cb", false),
        ("https://*.acme.com", "https://1.2.3.4/cb", false),
    ];
    let mut failures = Vec::new();
    for (p, t, want) in cases {
        if pat(p).matches(&target(t)) != want {
            failures.push(format!("{p} vs {t}: want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn public_suffix_messages_show_the_scoped_form() {
    let msg = |s: &str| s.parse::<OriginPattern>().unwrap_err().to_string();
    assert_eq!(
        msg("https://*.vercel.app"),
        "`https://*.vercel.app` lets anyone who can deploy to vercel.app receive sign-ins; \
         scope the wildcard to your own names, e.g. `https://myapp-*-yourteam.vercel.app`"
    );
    let com = msg("https://*.com");
    assert!(
        com.starts_with("`https://*.com` lets anyone who can register"),
        "{com}"
    );
    assert!(
        com.ends_with("use e.g. `https://*.yourcompany.com`"),
        "{com}"
    );
    assert!(msg("https://*.co.uk:8443").ends_with("e.g. `https://*.yourcompany.co.uk:8443`"));
    assert!(msg("https://*.github.io").ends_with("e.g. `https://myapp-*-yourteam.github.io`"));
    assert!(msg("https://x.*.com").ends_with("e.g. `https://x.yourcompany.com`"));
    let ck = msg("https://a.*.ck");
    assert!(ck.ends_with("e.g. `https://a.yourname.ck`"), "{ck}");
    for m in [com, ck, msg("https://*.github.io")] {
        assert!(!m.contains('\n'));
        assert!(!m.contains(PLACEHOLDER), "{m}");
    }
    // The suggestions themselves are acceptable patterns.
    for s in [
        "https://myapp-*-yourteam.vercel.app",
        "https://*.yourcompany.com",
        "https://*.yourcompany.co.uk",
    ] {
        pat(s);
    }
}

#[test]
fn error_messages_name_the_pattern_on_one_line() {
    for s in [
        "ftp://a.example.com",
        "http://a.example.com",
        "https://a.example.com/",
        "https://a.example.com:0",
        "https://a*b*c.acme.com",
        "https://acme.*",
        "https://a.example.com\n",
        "a.example.com",
    ] {
        let e = s.parse::<OriginPattern>().unwrap_err();
        let m = e.to_string();
        assert!(!m.contains('\n') && !m.contains('\r'), "{m:?}");
        assert!(m.contains(s.trim_end()), "{m}");
    }
    let e = format!("https://{}", "a".repeat(1000))
        .parse::<OriginPattern>()
        .unwrap_err();
    assert!(e.to_string().chars().count() < MAX_SHOWN + 200);
    for s in [
        "a.example.com",
        "//a.example.com",
        "https:/a.example.com",
        "HTTP:a.example.com",
    ] {
        assert_eq!(
            s.parse::<OriginPattern>().unwrap_err().to_string(),
            format!("`{s}` has no scheme; write it as `https://a.example.com`")
        );
    }
}

#[test]
fn allowlist_parsing() {
    let list = Allowlist::parse(
        " https://app.example.com , https://*.preview.example.com,http://localhost:3000 ",
    )
    .unwrap();
    assert_eq!(list.patterns().len(), 3);
    assert_eq!(
        list.to_string(),
        "https://app.example.com,https://*.preview.example.com,http://localhost:3000"
    );
    assert_eq!(list, list.to_string().parse().unwrap());
    assert_eq!(Allowlist::parse(""), Err(PatternError::EmptyList));
    assert_eq!(Allowlist::parse("   "), Err(PatternError::EmptyList));
    assert_eq!(
        Allowlist::parse("https://a.com,"),
        Err(PatternError::EmptyItem { position: 2 })
    );
    assert_eq!(
        Allowlist::parse(",https://a.com"),
        Err(PatternError::EmptyItem { position: 1 })
    );
    assert_eq!(
        Allowlist::parse("https://a.com,,https://b.com"),
        Err(PatternError::EmptyItem { position: 2 })
    );
    assert_eq!(
        Allowlist::parse(" , "),
        Err(PatternError::EmptyItem { position: 1 })
    );
    assert_eq!(
        Allowlist::parse("*").map_err(|e| e.code()),
        Err("missing_scheme")
    );
    assert_eq!(
        Allowlist::parse("https://*").map_err(|e| e.code()),
        Err("wildcard_in_tld")
    );
    assert_eq!(
        Allowlist::parse("https://a.com,https://*.com").map_err(|e| e.code()),
        Err("public_suffix_wildcard")
    );
    assert_eq!(
        Allowlist::parse("https://a.com https://b.com").map_err(|e| e.code()),
        Err("forbidden_character")
    );
    assert!(list.matches(&target("https://x.preview.example.com/cb")));
    assert!(list.matches(&target("http://localhost:3000/cb")));
    assert!(!list.matches(&target("https://x.example.com/cb")));
}

#[test]
fn has_wildcard_and_friends() {
    assert!(pat("https://*.a.com").has_wildcard());
    assert!(pat("https://x-*.a.com").has_wildcard());
    assert!(!pat("https://a.com:*").has_wildcard());
    assert!(pat("https://a.com:*").any_port());
    assert!(!pat("https://a.com").any_port());
    assert!(pat("http://127.0.0.1").is_loopback());
    assert!(pat("https://localhost").is_loopback());
    assert!(!pat("https://a.com").is_loopback());
}

#[test]
fn warnings() {
    let w = |s: &str| Allowlist::parse(s).unwrap().warnings();
    assert!(w("https://app.example.com,https://*.preview.example.com").is_empty());
    assert!(
        w("http://localhost:*,http://127.0.0.1:*,http://[::1]:*").is_empty(),
        "development lists stay quiet"
    );
    assert!(w("https://*.myproject.pages.dev").is_empty());

    let v = w("https://myapp-*-acme.vercel.app");
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].contains("vercel.app") && v[0].contains("anyone can deploy"),
        "{}",
        v[0]
    );
    assert!(v[0].contains("`myapp-evil-acme.vercel.app`"), "{}", v[0]);
    let err = "https://myapp-*.com"
        .parse::<OriginPattern>()
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("use e.g. `https://myapp-*.yourcompany.com`"),
        "{err}"
    );

    let v = w("https://app.example.com:*");
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].contains("every port") && v[0].contains("`https://app.example.com:3000`"),
        "{}",
        v[0]
    );

    let v = w("https://app.example.com,http://localhost:3000");
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].contains("`http://localhost:3000`") && v[0].contains("production"),
        "{}",
        v[0]
    );
    let v = w("https://app.example.com,http://localhost:*");
    assert_eq!(v.len(), 2, "{v:?}");

    let v = w("https://a.com,https://A.com:443");
    assert_eq!(
        v,
        vec!["`https://a.com` is listed more than once".to_owned()]
    );
    for m in w("https://myapp-*-acme.vercel.app:*,http://localhost:*") {
        assert!(!m.contains('\n') && !m.contains(PLACEHOLDER), "{m}");
    }
}

#[test]
fn codes_are_unique_snake_case() {
    let p = String::new;
    let all = [
        PatternError::EmptyList,
        PatternError::EmptyItem { position: 1 },
        PatternError::Empty,
        PatternError::ForbiddenCharacter { pattern: p() },
        PatternError::MissingScheme { pattern: p() },
        PatternError::Scheme { pattern: p() },
        PatternError::HttpNotLoopback { pattern: p() },
        PatternError::UserInfo { pattern: p() },
        PatternError::Path { pattern: p() },
        PatternError::Query { pattern: p() },
        PatternError::Fragment { pattern: p() },
        PatternError::NoHost { pattern: p() },
        PatternError::InvalidHost {
            pattern: p(),
            reason: "",
        },
        PatternError::TrailingDot { pattern: p() },
        PatternError::EmptyLabel { pattern: p() },
        PatternError::Port { pattern: p() },
        PatternError::MultipleWildcards {
            pattern: p(),
            label: p(),
        },
        PatternError::InvalidWildcardLabel {
            pattern: p(),
            label: p(),
        },
        PatternError::WildcardInIp { pattern: p() },
        PatternError::WildcardInTld { pattern: p() },
        PatternError::PublicSuffixWildcard {
            pattern: p(),
            suffix: p(),
            suggestion: p(),
            platform: false,
        },
    ];
    let mut codes: Vec<&str> = all.iter().map(PatternError::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
}
