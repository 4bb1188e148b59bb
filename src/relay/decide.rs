//! The decision: a pure function of the callback, the configuration and the clock.

use std::cell::RefCell;

use authrelay_client::keyring::{Reason, StateFormat, VerifiedState};
use authrelay_client::target::{is_valid_provider_id, Target, TargetError};

use super::authority::is_relay_authority;
use super::location::location;
use super::params::{parse_params, segments, Param};
use super::{Decision, Hint, Outcome, Refusal};
use crate::config::{is_loopback_host, Config};
use crate::recent::Recent;

/// How the callback arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMethod {
    /// A redirect from the provider (`response_mode=query`).
    Get,
    /// A form the provider's page posted (`response_mode=form_post`).
    Post,
}

/// A callback request, reduced to what the decision needs.
#[derive(Clone, Copy)]
pub struct CallbackRequest<'a> {
    /// GET or POST.
    pub method: CallbackMethod,
    /// The `{provider}` path segment, as received.
    pub provider: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The raw body of a POST.
    pub body: &'a [u8],
    /// The `Content-Type` of a POST.
    pub content_type: Option<&'a str>,
    /// The `host[:port]` the request was addressed to, as far as the relay may believe it
    /// (`Host`, or `X-Forwarded-Host` when `AUTH_TRUST_HOST` is set). A target there is
    /// refused like one on `AUTH_URL`'s host and port.
    pub request_host: Option<&'a str>,
}

/// Callback parameters a target's own query must not carry: the rule is one of the
/// target's URL rules, so a state whose target breaks it fails to verify as
/// `target_invalid` (detail `query_shadows_callback_params`, `query_semicolon` or
/// `query_name`).
pub use authrelay_client::target::CALLBACK_PARAMS;

/// The relay's decision for a callback to the one app `config` at time `now` (Unix
/// seconds).
pub fn decide(req: &CallbackRequest<'_>, config: &Config, now: u64) -> Outcome {
    decide_among(req, config, &[], now)
}

/// The decision for a callback to `app`, one of the relay's `apps` (a config file's, in
/// file order; `app` may be among them): a state that verifies with none of `app`'s
/// secrets but with another app's is refused as made for that other app.
pub fn decide_among(req: &CallbackRequest<'_>, app: &Config, apps: &[Config], now: u64) -> Outcome {
    let mut outcome = decide_unnamed(req, app, apps, now);
    outcome.app = Some(app.name.clone());
    if outcome.provider.is_none() && is_valid_provider_id(req.provider) {
        outcome.path_provider = Some(req.provider.to_owned());
    }
    outcome
}

fn decide_unnamed(
    req: &CallbackRequest<'_>,
    config: &Config,
    apps: &[Config],
    now: u64,
) -> Outcome {
    if !is_valid_provider_id(req.provider) {
        return Outcome::refused(Refusal::ProviderInvalid);
    }
    let params = match req.method {
        CallbackMethod::Get => parse_params(req.query.as_bytes()),
        CallbackMethod::Post => {
            let is_form = req.content_type.is_some_and(|ct| {
                ct.split(';').next().is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
            if !is_form {
                return Outcome::refused(Refusal::UnsupportedMediaType);
            }
            // A state in the query of a form post would be a second, unchecked channel.
            match parse_params(req.query.as_bytes()) {
                Ok(q) if q.iter().any(|(k, _)| k == "state") => Err(Refusal::StateDuplicated),
                Ok(q) if !q.is_empty() => Err(Refusal::ParamsMalformed),
                Ok(_) => parse_params(req.body),
                Err(e) => Err(e),
            }
        }
    };
    let params = match params {
        Ok(p) => p,
        Err(r) => return Outcome::refused(r),
    };
    let mut states = params.iter().filter(|(k, _)| k == "state").map(|(_, v)| v);
    let state = match (states.next(), states.next()) {
        (None, _) => return Outcome::refused(Refusal::StateMissing),
        (Some(_), Some(_)) => return Outcome::refused(Refusal::StateDuplicated),
        (Some(s), None) if s.is_empty() => return Outcome::refused(Refusal::StateMissing),
        (Some(s), None) => s,
    };

    let verified: VerifiedState =
        match config
            .keyring
            .verify_with(state, now, config.state_max_age, parse_target)
        {
            Ok(v) => v,
            Err(rejection) => {
                let refusal = match rejection.reason() {
                    Reason::StateMalformed => Refusal::StateMalformed,
                    Reason::StateInvalid => Refusal::StateInvalid,
                    Reason::StateExpired => Refusal::StateExpired,
                    Reason::TargetInvalid => Refusal::TargetInvalid,
                };
                let outcome = Outcome {
                    format: Some(rejection.format()),
                    detail: Some(rejection.detail_code()),
                    ..Outcome::refused(refusal)
                };
                if rejection.no_key_fits() {
                    if let Some(other) = other_app_for_state(config, apps, state, now) {
                        // The other app's name goes to logs only; the page names this app.
                        return Outcome {
                            decision: Decision::Refuse(Refusal::StateOtherApp),
                            detail: Some("other_app"),
                            other_app: Some(other.name.clone()),
                            ..outcome
                        };
                    }
                }
                return outcome;
            }
        };
    let target: &Target = &verified.target;
    let mut outcome = Outcome {
        format: Some(verified.format),
        target_host: Some(target.host().to_owned()),
        secret: Some(config.secrets.name(verified.secret_index).to_owned()),
        ..Outcome::refused(Refusal::StateInvalid)
    };
    let refusal = match target_lock(target, config, req.request_host) {
        Err(refused) => Some(refused),
        Ok(()) => callback_lock(&verified, config, req.provider).err(),
    };
    if let Some((r, hint)) = refusal {
        return outcome.refuse(r, hint);
    }
    outcome.provider = Some(req.provider.to_owned());
    outcome.decision = match req.method {
        CallbackMethod::Get => {
            // The query is forwarded byte for byte: every component was checked above
            // (valid escapes, printable ASCII, UTF-8), so nothing needs re-encoding, and
            // previews see exactly what the provider sent. A target's own query is kept.
            // An envelope gives the library its own state back, in its place.
            match &verified.inner_state {
                Some(inner) => Decision::Redirect(location(
                    target,
                    &with_state(req.query, &params, inner.expose()),
                )),
                None => Decision::Redirect(location(target, req.query)),
            }
        }
        // CSP source expressions cannot name an IPv6 literal, so the page's form-action
        // could not allow the target: refuse clearly rather than serve a page that
        // browsers block.
        CallbackMethod::Post if target.host().starts_with('[') => {
            outcome.detail = Some("ipv6_form_post");
            Decision::Refuse(Refusal::TargetInvalid)
        }
        CallbackMethod::Post => Decision::FormPost {
            action: target.as_str().to_owned(),
            action_origin: target.origin(),
            fields: params
                .into_iter()
                .map(|(k, v)| match &verified.inner_state {
                    Some(inner) if k == "state" => (k.into_owned(), inner.expose().to_owned()),
                    _ => (k.into_owned(), v.into_owned()),
                })
                .collect(),
        },
    };
    outcome
}

/// The second lock, on any target the relay may send a browser to (a state's target, an
/// authorize request's return target): not the relay itself, and on the allowlist. A
/// refusal may come with the hint of its likely cause.
pub(super) fn target_lock(
    target: &Target,
    config: &Config,
    request_host: Option<&str>,
) -> Result<(), (Refusal, Option<Hint>)> {
    if is_relay_authority(target, &config.public_url, request_host) {
        Err((Refusal::TargetIsRelay, None))
    } else if !config.allowlist.matches(target) {
        let hint = is_loopback_host(target.host()).then_some(Hint::LoopbackTarget);
        Err((Refusal::TargetNotAllowed, hint))
    } else {
        Ok(())
    }
}

/// Whether a verified state's target is a callback for `provider`, the callback path's
/// provider: for a native or Auth.js state, its path ends in `/callback/<provider>` and
/// a native state is bound to the provider; for an envelope, it was made for the
/// provider, whose authorize route the app still offers, and its target's path matches
/// that route's callback-path pattern.
fn callback_lock(
    verified: &VerifiedState,
    config: &Config,
    provider: &str,
) -> Result<(), (Refusal, Option<Hint>)> {
    if verified.provider.as_deref().is_some_and(|p| p != provider) {
        return Err((Refusal::ProviderMismatch, None));
    }
    if verified.format == StateFormat::Envelope {
        return match config.authorize.get(provider) {
            None => Err((Refusal::AuthorizeNotConfigured, None)),
            Some(a)
                if !a
                    .callback_path
                    .matches(verified.target.url().path(), provider) =>
            {
                Err((Refusal::TargetNotCallback, None))
            }
            Some(_) => Ok(()),
        };
    }
    if verified.target.callback_provider() != Some(provider) {
        return Err((Refusal::ProviderMismatch, None));
    }
    Ok(())
}

/// The callback's raw query with the `state` parameter's value replaced by `state`
/// (form-encoded), every other parameter byte for byte. `params` are the query's
/// decoded parameters, one per segment.
fn with_state(query: &str, params: &[Param<'_>], state: &str) -> String {
    let encoded = super::params::encode_component(state);
    let mut out = String::with_capacity(query.len() + encoded.len());
    for (segment, (name, _)) in segments(query.as_bytes()).zip(params) {
        if !out.is_empty() {
            out.push('&');
        }
        if name == "state" {
            out.push_str("state=");
            out.push_str(&encoded);
        } else {
            // Every segment is printable ASCII: the parameter check passed.
            out.push_str(std::str::from_utf8(segment).unwrap_or_default());
        }
    }
    out
}

/// Another of `apps` whose secrets verify `state`, to name it in the refusal. `app`'s
/// own secrets were tried already.
fn other_app_for_state<'a>(
    app: &Config,
    apps: &'a [Config],
    state: &str,
    now: u64,
) -> Option<&'a Config> {
    apps.iter()
        .filter(|a| a.name != app.name)
        .find(|a| a.keyring.verify(state, now, a.state_max_age).is_ok())
}

/// How many parsed targets each thread keeps (see [`parse_target`]).
const TARGETS_KEPT: usize = 16;

thread_local! {
    /// The distinct targets this thread parsed last, newest first.
    static RECENT_TARGETS: RefCell<Recent<Target, TARGETS_KEPT>> = const { RefCell::new(Recent::new()) };
}

/// [`Target::parse`], remembering the last few distinct targets this thread parsed. A
/// state's target is the callback URL of the preview (or production app) it came from,
/// the same string for every sign-in there, and the URL parser is the largest single
/// part of a native decision. `Target::parse` accepts only a string that is its own
/// canonical form, and a string is answered from memory only when it is byte for byte a
/// kept target's, so the answer is the one `Target::parse` gives; a string that fails is
/// parsed, and refused, every time. It runs only on targets of states that verified.
fn parse_target(raw: &str) -> Result<Target, TargetError> {
    let kept = RECENT_TARGETS.with_borrow(|kept| kept.find(|t| t.as_str() == raw).cloned());
    if let Some(target) = kept {
        return Ok(target);
    }
    let target = Target::parse(raw)?;
    RECENT_TARGETS.with_borrow_mut(|kept| kept.keep(target.clone()));
    Ok(target)
}

#[cfg(test)]
mod tests {
    use authrelay_client::native::{self, NativeKey};
    use authrelay_client::Secret;

    use super::*;

    #[test]
    fn parse_target_answers_as_target_parse() {
        let odd = [
            "https://PR-1.Preview.Example.com/api/auth/callback/github",
            "https://pr-1.preview.example.com:443/api/auth/callback/github",
            "https://pr-1.preview.example.com",
            "https://pr-1.preview.example.com/api/auth/callback/github#x",
            "https://user@pr-1.preview.example.com/api/auth/callback/github",
            "javascript:alert(1)",
            "",
            "https://pr-1.preview.example.com/a/../api/auth/callback/github",
        ];
        // More distinct targets than a thread keeps, in rounds, between odd strings.
        for _ in 0..3 {
            for i in 0..TARGETS_KEPT + 5 {
                let raw = format!("https://pr-{i}.preview.example.com/api/auth/callback/github");
                assert_eq!(parse_target(&raw), Target::parse(&raw), "{raw}");
                assert_eq!(
                    parse_target(odd[i % odd.len()]),
                    Target::parse(odd[i % odd.len()])
                );
            }
        }
        RECENT_TARGETS.with_borrow(|kept| {
            assert_eq!(kept.len(), TARGETS_KEPT);
            // Nothing refused is kept, and the newest comes first.
            assert!(kept.iter().all(|t| !odd.contains(&t.as_str())));
            let newest = format!(
                "https://pr-{}.preview.example.com/api/auth/callback/github",
                TARGETS_KEPT + 4
            );
            assert_eq!(
                kept.iter().next().map(Target::as_str),
                Some(newest.as_str())
            );
        });
    }

    proptest::proptest! {
        #[test]
        fn parse_target_is_target_parse(raw in "(https?://)?[a-zA-Z0-9.:@/%#?=&\\[\\]-]{0,40}") {
            let once = parse_target(&raw);
            proptest::prop_assert_eq!(&once, &Target::parse(&raw));
            // Asked again, from memory where it was kept.
            proptest::prop_assert_eq!(parse_target(&raw), once.clone());
            // A parsed target's own string is canonical, so it is kept: twice more.
            if let Ok(t) = once {
                for _ in 0..2 {
                    proptest::prop_assert_eq!(parse_target(t.as_str()), Target::parse(t.as_str()));
                }
            }
        }
    }

    const SECRET: &str = "unit-test-secret-0123456789abcdef00";
    const NOW: u64 = 1_800_000_000;
    const TARGET: &str = "https://pr-3.preview.example.com/api/auth/callback/github";

    fn config() -> Config {
        Config::from_vars(
            [
                ("AUTH_SECRET", SECRET),
                ("AUTH_URL", "https://auth.example.com"),
                (
                    "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                    "https://*.preview.example.com",
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap()
    }

    fn state(target: &str, iat: u64) -> String {
        let key = NativeKey::derive(&Secret::new(SECRET).unwrap());
        native::sign(&key, &Target::parse(target).unwrap(), iat, 600, [1; 16]).unwrap()
    }

    fn get<'a>(provider: &'a str, query: &'a str) -> CallbackRequest<'a> {
        CallbackRequest {
            method: CallbackMethod::Get,
            provider,
            query,
            body: b"",
            content_type: None,
            request_host: Some("auth.example.com"),
        }
    }

    fn refusal(o: &Outcome) -> Option<Refusal> {
        match o.decision {
            Decision::Refuse(r) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn a_loopback_target_off_the_allowlist_says_the_preview_lacks_its_public_url() {
        // What next-auth behind a proxy without AUTH_URL signs: the address `next start`
        // listens on, not the preview's public origin.
        for target in [
            "http://localhost:3000/api/auth/callback/github",
            "https://localhost:3000/api/auth/callback/github",
            "http://127.0.0.1:3000/api/auth/callback/github",
            "http://127.9.8.7/api/auth/callback/github",
            "http://[::1]:3000/api/auth/callback/github",
        ] {
            let q = format!("code=qqcodeqq&state={}", state(target, NOW));
            let o = decide(&get("github", &q), &config(), NOW);
            assert_eq!(refusal(&o), Some(Refusal::TargetNotAllowed), "{target}");
            assert_eq!(o.hint, Some(Hint::LoopbackTarget), "{target}");
            assert_eq!(o.detail, Some("loopback_target"), "{target}");
            assert_eq!(o.advice(), Some(Hint::LoopbackTarget.advice()));
            // The page and the JSON keep the code and carry the fixed advice, nothing
            // of the request.
            let page = crate::answer::answer(&o, false).body;
            let advice = crate::page::escape_html(Hint::LoopbackTarget.advice());
            assert!(
                page.contains(&format!("<p id=\"advice\">{advice}</p>")),
                "{page}"
            );
            assert!(page.contains("<code id=\"reason\">target_not_allowed</code>"));
            assert!(
                !page.contains("3000") && !page.contains("qqcodeqq") && !page.contains("[::1]"),
                "{page}"
            );
            let json: serde_json::Value =
                serde_json::from_str(&crate::answer::answer(&o, true).body).unwrap();
            assert_eq!(json["error"], "target_not_allowed");
            assert_eq!(json["advice"], Hint::LoopbackTarget.advice());
        }
        // A public origin off the allowlist, and names that only look loopback, get no
        // hint.
        for target in [
            "https://pr-3.preview.other.com/api/auth/callback/github",
            "https://localhost.example.com/api/auth/callback/github",
            "https://a.localhost/api/auth/callback/github",
        ] {
            let q = format!("code=abc&state={}", state(target, NOW));
            let o = decide(&get("github", &q), &config(), NOW);
            assert_eq!(refusal(&o), Some(Refusal::TargetNotAllowed), "{target}");
            assert_eq!(
                (o.hint, o.detail, o.advice()),
                (None, None, None),
                "{target}"
            );
            assert!(!crate::answer::answer(&o, false).body.contains("advice"));
        }
        // An allowed loopback target is bounced as before.
        let dev = Config::from_vars(
            [
                ("AUTH_SECRET", SECRET),
                ("AUTH_URL", "https://auth.example.com"),
                (
                    "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                    "http://localhost:3000",
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap();
        let target = "http://localhost:3000/api/auth/callback/github";
        let q = format!("code=abc&state={}", state(target, NOW));
        let o = decide(&get("github", &q), &dev, NOW);
        assert_eq!(refusal(&o), None);
        assert_eq!(o.hint, None);
        // Another refusal of a loopback target is not this hint's: the relay itself.
        let q = format!("code=abc&state={}", state(target, NOW));
        let mut req = get("github", &q);
        req.request_host = Some("localhost:3000");
        let o = decide(&req, &dev, NOW);
        assert_eq!(refusal(&o), Some(Refusal::TargetIsRelay));
        assert_eq!(o.hint, None);
    }

    #[test]
    fn a_legacy_unsigned_authjs_state_is_labelled_as_such() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let legacy =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"origin":"{TARGET}","random":"qqmarkerqq"}}"#));
        let q = format!("code=abc&state={legacy}");
        let o = decide(&get("github", &q), &config(), NOW);
        assert_eq!(refusal(&o), Some(Refusal::StateMalformed));
        assert_eq!(o.format, Some(StateFormat::AuthJsLegacy));
        assert_eq!(o.format.map(|f| f.as_str()), Some("authjs_legacy"));
        assert_eq!(o.detail, Some("legacy_unsigned"));
        assert_eq!(o.advice(), StateFormat::AuthJsLegacy.advice());
        assert!(o.advice().is_some());
        // The page and the JSON carry the fixed advice and nothing of the request.
        let page = crate::answer::answer(&o, false).body;
        let advice = crate::page::escape_html(o.advice().unwrap());
        assert!(
            page.contains(&format!("<p id=\"advice\">{advice}</p>")),
            "{page}"
        );
        assert!(
            !page.contains("qqmarkerqq") && !page.contains("pr-3"),
            "{page}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&crate::answer::answer(&o, true).body).unwrap();
        assert_eq!(json["error"], "state_malformed");
        assert_eq!(json["advice"], o.advice().unwrap());
        // A native state refused for its framing gets no advice.
        let o = decide(&get("github", "state=AQID"), &config(), NOW);
        assert_eq!((o.format, o.advice()), (Some(StateFormat::Native), None));
        assert!(!crate::answer::answer(&o, false).body.contains("advice"));
    }

    #[test]
    fn a_valid_get_redirects_with_the_parameters_appended() {
        let q = format!("code=abc&state={}", state(TARGET, NOW));
        let o = decide(&get("github", &q), &config(), NOW);
        let Decision::Redirect(loc) = &o.decision else {
            panic!("{o:?}")
        };
        assert_eq!(loc, &format!("{TARGET}?{q}"));
        assert_eq!(o.provider.as_deref(), Some("github"));
        assert_eq!(o.target_host.as_deref(), Some("pr-3.preview.example.com"));
        assert_eq!(o.format, Some(StateFormat::Native));
        assert_eq!(o.secret.as_deref(), Some("AUTH_SECRET"));
    }

    #[test]
    fn the_clock_is_an_input() {
        let q = format!("code=abc&state={}", state(TARGET, NOW));
        assert_eq!(
            refusal(&decide(&get("github", &q), &config(), NOW + 615)),
            None
        );
        assert_eq!(
            refusal(&decide(&get("github", &q), &config(), NOW + 616)),
            Some(Refusal::StateExpired)
        );
    }

    #[test]
    fn the_base_path_defaults_to_api_auth() {
        assert_eq!(config().base_path, "/api/auth");
        assert_eq!(
            config().callback_url("github"),
            "https://auth.example.com/api/auth/callback/github"
        );
    }

    #[test]
    fn refusals_come_in_the_documented_order() {
        let c = config();
        let sq = format!("state={}", state(TARGET, NOW));
        let cases = [
            (get("bad provider", "state=x"), Refusal::ProviderInvalid),
            (get("github", "code=1"), Refusal::StateMissing),
            (get("github", "state=%"), Refusal::ParamsMalformed),
            (get("github", "state=!!"), Refusal::StateMalformed),
            (get("google", &sq), Refusal::ProviderMismatch),
        ];
        for (req, want) in cases {
            assert_eq!(refusal(&decide(&req, &c, NOW)), Some(want), "{want:?}");
        }
        let relay = state("https://auth.example.com/api/auth/callback/github", NOW);
        let q = format!("state={relay}");
        assert_eq!(
            refusal(&decide(&get("github", &q), &c, NOW)),
            Some(Refusal::TargetIsRelay)
        );
    }

    #[test]
    fn a_target_on_the_request_host_counts_as_the_relay() {
        let c = config();
        let s = state(
            "https://relay.preview.example.com/api/auth/callback/github",
            NOW,
        );
        let q = format!("state={s}");
        let mut req = get("github", &q);
        assert_eq!(refusal(&decide(&req, &c, NOW)), None);
        req.request_host = Some("relay.preview.example.com");
        assert_eq!(
            refusal(&decide(&req, &c, NOW)),
            Some(Refusal::TargetIsRelay)
        );
        req.request_host = Some("relay.preview.example.com:8080");
        assert_eq!(refusal(&decide(&req, &c, NOW)), None);
    }

    #[test]
    fn a_form_post_carries_the_fields_and_the_target_origin() {
        let s = state(
            "https://pr-3.preview.example.com/api/auth/callback/apple",
            NOW,
        );
        let body = format!("code=a+b&state={s}&user=%7B%22a%22%3A1%7D");
        let req = CallbackRequest {
            method: CallbackMethod::Post,
            provider: "apple",
            query: "",
            body: body.as_bytes(),
            content_type: Some("application/x-www-form-urlencoded; charset=utf-8"),
            request_host: None,
        };
        let o = decide(&req, &config(), NOW);
        let Decision::FormPost {
            action,
            action_origin,
            fields,
        } = o.decision
        else {
            panic!()
        };
        assert_eq!(
            action,
            "https://pr-3.preview.example.com/api/auth/callback/apple"
        );
        assert_eq!(action_origin, "https://pr-3.preview.example.com");
        assert_eq!(fields[0], ("code".to_owned(), "a b".to_owned()));
        assert_eq!(fields[2], ("user".to_owned(), "{\"a\":1}".to_owned()));
    }

    #[test]
    fn every_loopback_name_of_the_relay_is_the_relay() {
        let c = Config::from_vars(
            [
                ("AUTH_SECRET", SECRET),
                ("AUTH_URL", "http://127.0.0.1:3000"),
                (
                    "AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS",
                    "http://localhost:*,http://127.0.0.1:*,http://[::1]:*",
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap();
        for (target, want) in [
            (
                "http://localhost:3000/api/auth/callback/github",
                Some(Refusal::TargetIsRelay),
            ),
            (
                "http://[::1]:3000/api/auth/callback/github",
                Some(Refusal::TargetIsRelay),
            ),
            (
                "http://127.0.0.2:3000/api/auth/callback/github",
                Some(Refusal::TargetIsRelay),
            ),
            ("http://localhost:8080/api/auth/callback/github", None),
        ] {
            let q = format!("state={}", state(target, NOW));
            let mut req = get("github", &q);
            req.request_host = None;
            assert_eq!(refusal(&decide(&req, &c, NOW)), want, "{target}");
        }
    }

    #[test]
    fn a_target_query_may_not_shadow_callback_parameters() {
        use authrelay_client::authjs::{self, AuthJsKey};
        let key = AuthJsKey::derive(&Secret::new(SECRET).unwrap());
        for (query, detail) in [
            ("code=INJECTED", Some("query_shadows_callback_params")),
            ("tenant=a&STATE=x", Some("query_shadows_callback_params")),
            ("x=1;code=INJECTED", Some("query_semicolon")),
            ("code[]=x", Some("query_name")),
            ("code%00=x", Some("query_name")),
            ("+code=x", Some("query_name")),
            ("code.=x", Some("query_name")),
            ("tenant=acme", None),
            ("app=1&x=2", None),
        ] {
            let origin = format!("{TARGET}?{query}");
            let s = authjs::encrypt(&key, &authjs::new_claims(&origin, NOW, 900));
            let q = format!("code=real&state={s}");
            let o = decide(&get("github", &q), &config(), NOW);
            let want = detail.map(|_| Refusal::TargetInvalid);
            assert_eq!(refusal(&o), want, "{origin}");
            assert_eq!(o.detail, detail, "{origin}");
            if detail.is_none() {
                let Decision::Redirect(loc) = &o.decision else {
                    panic!("{origin}: {o:?}")
                };
                assert_eq!(loc, &format!("{origin}&{q}"));
            }
        }
    }

    #[test]
    fn ipv6_targets_cannot_be_form_posted_but_can_be_redirected() {
        let c = Config::from_vars(
            [
                ("AUTH_SECRET", SECRET),
                ("AUTH_URL", "https://auth.example.com"),
                ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", "http://[::1]:*"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap();
        let body = format!(
            "state={}",
            state("http://[::1]:5173/api/auth/callback/apple", NOW)
        );
        let post = CallbackRequest {
            method: CallbackMethod::Post,
            provider: "apple",
            query: "",
            body: body.as_bytes(),
            content_type: Some("application/x-www-form-urlencoded"),
            request_host: None,
        };
        let o = decide(&post, &c, NOW);
        assert_eq!(refusal(&o), Some(Refusal::TargetInvalid));
        assert_eq!(o.detail, Some("ipv6_form_post"));
        assert_eq!(refusal(&decide(&get("apple", &body), &c, NOW)), None);
    }
}
