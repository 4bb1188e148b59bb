//! The whole decision, `relay::decide`, on structured input: a GET or a form post whose
//! parameters mix raw text, well-formed pairs and states signed over any target bytes (so
//! the checks after the signature are reached), with any provider, content type and Host.
//! Invariants: no panic; a redirect's Location is printable ASCII, parses, and is on the
//! allowlist (by a hand-written model and by the allowlist); a form post goes to an
//! allowed action with the matching CSP origin and exactly one state; refusals are 4xx.
#![no_main]

use arbitrary::Arbitrary;
use authrelay::relay::{self, CallbackMethod, CallbackRequest, Decision};
use authrelay_client::target::Target;
use authrelay_fuzz::{allowed, assert_printable, authjs_state, native_state, CONFIG, NOW};
use libfuzzer_sys::fuzz_target;

const TARGETS: &[&str] = &[
    "https://pr-1.preview.example.com/api/auth/callback/github",
    "https://app.example.com/api/auth/callback/github",
    "https://app.example.com/api/auth/callback/github?tenant=a",
    "http://localhost:5173/api/auth/callback/apple",
    "https://evil.example.net/api/auth/callback/github",
    "https://auth.example.test/api/auth/callback/github",
    "https://app.example.com@evil.example.net/api/auth/callback/github",
];

#[derive(Arbitrary, Debug)]
enum TargetChoice {
    Known(u8),
    Any(String),
}

impl TargetChoice {
    fn text(&self) -> &str {
        match self {
            TargetChoice::Known(i) => TARGETS[*i as usize % TARGETS.len()],
            TargetChoice::Any(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Param {
    Raw(String),
    Pair(String, String),
    Native(TargetChoice, u16),
    AuthJs(TargetChoice, u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    post: bool,
    provider: Option<String>,
    params: Vec<Param>,
    post_query: Option<String>,
    content_type: Option<String>,
    host: Option<String>,
    skew: i16,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn render(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| match p {
            Param::Raw(s) => s.clone(),
            Param::Pair(k, v) => format!("{}={}", enc(k), enc(v)),
            Param::Native(t, ttl) => format!(
                "state={}",
                native_state(t.text().as_bytes(), NOW, u64::from(*ttl))
            ),
            Param::AuthJs(t, ttl) => {
                format!(
                    "state={}",
                    enc(&authjs_state(t.text(), NOW, u64::from(*ttl)))
                )
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn check_allowed(url: &url::Url) {
    assert!(allowed(url), "off the allowlist: {url}");
    let origin = Target::parse(&format!("{}/", url.origin().ascii_serialization()))
        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
    assert!(CONFIG.allowlist.matches(&origin), "{url}");
    assert!(url.fragment().is_none() && url.username().is_empty() && url.password().is_none());
}

fuzz_target!(|input: Input| {
    if input.params.len() > 80 {
        return;
    }
    let params = render(&input.params);
    let provider = input.provider.as_deref().unwrap_or("github");
    let now = NOW.saturating_add_signed(i64::from(input.skew));
    let req = CallbackRequest {
        method: if input.post {
            CallbackMethod::Post
        } else {
            CallbackMethod::Get
        },
        provider,
        query: if input.post {
            input.post_query.as_deref().unwrap_or("")
        } else {
            &params
        },
        body: if input.post { params.as_bytes() } else { b"" },
        content_type: if input.post {
            Some(
                input
                    .content_type
                    .as_deref()
                    .unwrap_or("application/x-www-form-urlencoded"),
            )
        } else {
            input.content_type.as_deref()
        },
        request_host: input.host.as_deref(),
    };
    let outcome = relay::decide(&req, &CONFIG, now);
    match &outcome.decision {
        Decision::Redirect(loc) => {
            assert!(!input.post);
            assert_printable(loc);
            let url = url::Url::parse(loc).expect("a Location parses");
            assert_eq!(url.as_str(), loc);
            check_allowed(&url);
            assert_eq!(outcome.provider.as_deref(), Some(provider));
        }
        Decision::FormPost {
            action,
            action_origin,
            fields,
        } => {
            assert!(input.post);
            assert_printable(action);
            let url = url::Url::parse(action).expect("an action parses");
            check_allowed(&url);
            assert_eq!(&url.origin().ascii_serialization(), action_origin);
            assert_eq!(fields.iter().filter(|(k, _)| k == "state").count(), 1);
        }
        Decision::Refuse(r) => assert!((400..500).contains(&r.status())),
    }
});
