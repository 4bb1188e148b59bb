//! The authorize decision: `GET {base}/authorize/{provider}` from an unmodified OAuth
//! library, answered with a redirect to the provider's real authorization endpoint, or a
//! refusal. A pure function of the request, the configuration and the clock.
//!
//! The library is configured with the relay's authorize URL as its authorization
//! endpoint, the relay's callback as its `redirect_uri`, and a `return_to` parameter
//! (in the configured URL's own query) naming the preview's callback. The checks, in
//! order: the provider id; the app offers the route for it; the parameters decode, and
//! their names are plain and read the same to every parser, with no request object;
//! `redirect_uri` is exactly
//! the relay's callback for the provider; `client_id` is one the app lists;
//! `response_type` is `code`, once; the library's `state` is there, once, and fits an
//! envelope; the return
//! target is there, is a valid URL, is not the relay, is on the allowlist, and its path
//! matches the provider's callback-path pattern. Then the library's `state` is sealed
//! into an envelope with the target, the provider and an expiry, and every parameter but
//! `return_to` goes to the provider byte for byte, `state` replaced by the envelope.

use authrelay_client::envelope::{self, MAX_INNER_STATE_LEN};
use authrelay_client::keyring::StateFormat;
use authrelay_client::target::{is_plain_param_name, is_valid_provider_id, Target};
use url::Url;

use super::decide::target_lock;
use super::params::{parse_params, segments, Param};
use super::{Decision, Outcome, Refusal};
use crate::config::{Config, GUARDED_PARAMS, REQUEST_OBJECT_PARAMS, RETURN_PARAM};

/// An authorize request, reduced to what the decision needs. Its `Debug` gives the
/// query's length only: the query carries the library's `state`.
#[derive(Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    /// The `{provider}` path segment, as received.
    pub provider: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The `host[:port]` the request was addressed to, as far as the relay may believe
    /// it: a return target there is the relay itself.
    pub request_host: Option<&'a str>,
}

impl std::fmt::Debug for AuthorizeRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeRequest")
            .field("provider", &self.provider)
            .field("query_len", &self.query.len())
            .field("request_host", &self.request_host)
            .finish()
    }
}

/// The one value of parameter `name`: `Ok(None)` when absent, `Err(())` when repeated.
fn one<'p>(params: &'p [Param<'_>], name: &str) -> Result<Option<&'p str>, ()> {
    let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    match (values.next(), values.next()) {
        (Some(_), Some(_)) => Err(()),
        (v, _) => Ok(v.map(|v| v.as_ref())),
    }
}

/// The relay's decision for an authorize request to `config`'s app at `now` (Unix
/// seconds).
pub fn authorize(req: &AuthorizeRequest<'_>, config: &Config, now: u64) -> Outcome {
    let mut outcome = decide_unnamed(req, config, now);
    outcome.app = Some(config.name.clone());
    outcome.authorize = true;
    if outcome.provider.is_none() && is_valid_provider_id(req.provider) {
        outcome.path_provider = Some(req.provider.to_owned());
    }
    outcome
}

fn refused(refusal: Refusal, detail: &'static str) -> Outcome {
    Outcome {
        detail: Some(detail),
        ..Outcome::refused(refusal)
    }
}

fn decide_unnamed(req: &AuthorizeRequest<'_>, config: &Config, now: u64) -> Outcome {
    if !is_valid_provider_id(req.provider) {
        return Outcome::refused(Refusal::ProviderInvalid);
    }
    let Some(settings) = config.authorize.get(req.provider) else {
        return Outcome::refused(Refusal::AuthorizeNotConfigured);
    };
    let params = match parse_params(req.query.as_bytes()) {
        Ok(p) => p,
        Err(r) => return Outcome::refused(r),
    };
    if let Err(detail) = check_names(req.query) {
        return refused(Refusal::ParamsMalformed, detail);
    }
    if params
        .iter()
        .any(|(k, _)| REQUEST_OBJECT_PARAMS.contains(&k.as_ref()))
    {
        return refused(Refusal::ParamsMalformed, "request_object");
    }
    match one(&params, "redirect_uri") {
        Ok(Some(uri)) if uri == config.callback_url(req.provider) => {}
        Ok(Some(_)) => return refused(Refusal::RedirectUriMismatch, "redirect_uri_other"),
        Ok(None) => return refused(Refusal::RedirectUriMismatch, "redirect_uri_missing"),
        Err(()) => return refused(Refusal::RedirectUriMismatch, "redirect_uri_duplicated"),
    }
    match one(&params, "client_id") {
        Ok(Some(id)) if settings.client_ids.iter().any(|c| c == id) => {}
        Ok(Some(_)) => return refused(Refusal::ClientIdUnknown, "client_id_other"),
        Ok(None) => return refused(Refusal::ClientIdUnknown, "client_id_missing"),
        Err(()) => return refused(Refusal::ClientIdUnknown, "client_id_duplicated"),
    }
    match one(&params, "response_type") {
        Ok(Some("code")) => {}
        Ok(Some(_)) => return refused(Refusal::ResponseTypeUnsupported, "response_type_other"),
        Ok(None) => return refused(Refusal::ResponseTypeUnsupported, "response_type_missing"),
        Err(()) => return refused(Refusal::ResponseTypeUnsupported, "response_type_duplicated"),
    }
    let inner = match one(&params, "state") {
        Ok(Some(s)) if s.len() > MAX_INNER_STATE_LEN => {
            return refused(Refusal::ParamsMalformed, "state_too_long")
        }
        Ok(Some(s)) if !s.is_empty() => s,
        Ok(_) => return Outcome::refused(Refusal::StateMissing),
        Err(()) => return Outcome::refused(Refusal::StateDuplicated),
    };
    let raw_target = match one(&params, RETURN_PARAM) {
        Ok(Some(t)) if !t.is_empty() => t,
        Ok(_) => return Outcome::refused(Refusal::TargetMissing),
        Err(()) => return refused(Refusal::TargetMissing, "return_to_duplicated"),
    };
    let target = match Target::parse(raw_target) {
        Ok(t) => t,
        Err(e) => return refused(Refusal::TargetInvalid, e.code()),
    };
    let mut outcome = Outcome {
        format: Some(StateFormat::Envelope),
        target_host: Some(target.host().to_owned()),
        ..Outcome::refused(Refusal::StateInvalid)
    };
    let refusal = match target_lock(&target, config, req.request_host) {
        Err(refused) => Some(refused),
        Ok(())
            if !settings
                .callback_path
                .matches(target.url().path(), req.provider) =>
        {
            Some((Refusal::TargetNotCallback, None))
        }
        Ok(()) => None,
    };
    if let Some((r, hint)) = refusal {
        return outcome.refuse(r, hint);
    }
    // The newest secret seals; the keyring holds at least one. The provider id and the
    // state's length were checked above, so sealing cannot fail.
    let sealed = config.keyring.envelope_keys().first().and_then(|key| {
        let expires_at = now.saturating_add(config.state_max_age);
        envelope::seal(key, req.provider, &target, inner, expires_at).ok()
    });
    let Some(sealed) = sealed else {
        return refused(Refusal::StateInvalid, "seal_failed");
    };
    outcome.secret = Some(config.secrets.name(0).to_owned());
    outcome.provider = Some(req.provider.to_owned());
    outcome.decision = Decision::Redirect(provider_location(
        &settings.endpoint,
        req.query,
        &params,
        &sealed,
    ));
    outcome
}

/// Whether the query's parameter names read the same to every parser, as the relay
/// forwards them to a provider whose parser it does not know: no `;` (a separator to some
/// servers), every name plain ([`is_plain_param_name`], the rule of a target's own
/// query), and none that a case-insensitive parser takes for a parameter the relay checks
/// ([`GUARDED_PARAMS`]) unless it is that parameter exactly. The `Err` is the detail code.
fn check_names(query: &str) -> Result<(), &'static str> {
    if query.contains(';') {
        return Err("query_semicolon");
    }
    for segment in segments(query.as_bytes()) {
        let name = segment.split(|&b| b == b'=').next().unwrap_or_default();
        if !is_plain_param_name(name) {
            return Err("param_name_not_plain");
        }
        if GUARDED_PARAMS
            .iter()
            .any(|g| g.as_bytes().eq_ignore_ascii_case(name) && g.as_bytes() != name)
        {
            return Err("param_name_ambiguous");
        }
    }
    Ok(())
}

/// The `Location` of the redirect to the provider: the configured endpoint (its own
/// query kept), then every segment of the request's query as received, in order, except
/// `return_to`, with `state`'s value replaced by the envelope. `params` are the query's
/// decoded parameters, one per segment.
fn provider_location(endpoint: &Url, query: &str, params: &[Param<'_>], envelope: &str) -> String {
    let mut out = endpoint.as_str().to_owned();
    let mut first = match endpoint.query() {
        Some("") => true,
        Some(_) => false,
        None => {
            out.push('?');
            true
        }
    };
    for (segment, (name, _)) in segments(query.as_bytes()).zip(params) {
        if name == RETURN_PARAM {
            continue;
        }
        if !first {
            out.push('&');
        }
        first = false;
        if name == "state" {
            out.push_str("state=");
            out.push_str(envelope);
        } else {
            // Every segment is printable ASCII: the parameter check passed.
            out.push_str(std::str::from_utf8(segment).unwrap_or_default());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use authrelay_client::keyring::Keyring;

    use super::*;
    use crate::config::AuthorizeProvider;
    use crate::relay::{decide, CallbackMethod, CallbackRequest, Hint};

    const SECRET: &str = "unit-test-secret-0123456789abcdef00";
    const NOW: u64 = 1_800_000_000;
    const RETURN: &str = "https://pr-3.preview.example.com/auth/github/callback";
    const CALLBACK: &str = "https://auth.example.com/api/auth/callback/github";

    fn config() -> Config {
        let mut c = Config::from_vars(
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
        .unwrap();
        c.authorize.insert(
            "github".into(),
            AuthorizeProvider::new(
                "github",
                "https://github.example/login/oauth/authorize?allow_signup=false",
                &["client-1", "client-2"],
                Some("/auth/{provider}/callback"),
            )
            .unwrap(),
        );
        c
    }

    fn enc(s: &str) -> String {
        super::super::params::encode_component(s)
    }

    fn query(pairs: &[(&str, &str)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("response_type", "code"),
            ("redirect_uri", CALLBACK),
            ("scope", "read:user user:email"),
            ("state", "lib-state-0123456789"),
            ("client_id", "client-1"),
            ("return_to", RETURN),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
    }

    fn ask(q: &str) -> Outcome {
        let req = AuthorizeRequest {
            provider: "github",
            query: q,
            request_host: Some("auth.example.com"),
        };
        authorize(&req, &config(), NOW)
    }

    fn refusal(o: &Outcome) -> Option<Refusal> {
        match o.decision {
            Decision::Refuse(r) => Some(r),
            _ => None,
        }
    }

    /// A GET to the `github` callback with `query`.
    fn callback_get(query: &str) -> CallbackRequest<'_> {
        CallbackRequest {
            method: CallbackMethod::Get,
            provider: "github",
            query,
            body: b"",
            content_type: None,
            request_host: Some("auth.example.com"),
        }
    }

    fn envelope_of(location: &str) -> String {
        let q = location.split_once('?').unwrap().1;
        q.split('&')
            .find_map(|s| s.strip_prefix("state="))
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_good_request_goes_to_the_provider_with_every_parameter_but_return_to() {
        // A parameter written with other escapes than the relay would choose stays so.
        let q = format!("{}&nonce=a%2Bb%7e+c", query(&good()));
        let o = ask(&q);
        let Decision::Redirect(loc) = &o.decision else {
            panic!("{o:?}")
        };
        let env = envelope_of(loc);
        let want = q
            .split('&')
            .filter(|s| !s.starts_with("return_to="))
            .map(|s| {
                if s.starts_with("state=") {
                    format!("state={env}")
                } else {
                    s.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(
            loc,
            &format!("https://github.example/login/oauth/authorize?allow_signup=false&{want}")
        );
        assert_eq!(o.outcome_label(), "authorize");
        assert_eq!(o.format, Some(StateFormat::Envelope));
        assert_eq!(o.secret.as_deref(), Some("AUTH_SECRET"));
        assert_eq!(o.target_host.as_deref(), Some("pr-3.preview.example.com"));
        // The envelope opens with the app's keyring and holds the library's state.
        let keyring = Keyring::new(config().secrets.secrets());
        let v = keyring.verify(&env, NOW, 900).unwrap();
        assert_eq!(v.target.as_str(), RETURN);
        assert_eq!(v.provider.as_deref(), Some("github"));
        assert_eq!(v.inner_state.unwrap().expose(), "lib-state-0123456789");
        assert_eq!(v.expires_at, NOW + 900);
    }

    #[test]
    fn each_check_refuses_with_its_code() {
        let with = |name: &str, value: Option<&str>| {
            let mut pairs: Vec<(&str, &str)> = good();
            pairs.retain(|(k, _)| *k != name);
            let mut q = query(&pairs);
            if let Some(v) = value {
                q.push_str(&format!("&{name}={}", enc(v)));
            }
            ask(&q)
        };
        let cases: Vec<(Outcome, Refusal)> = vec![
            (with("redirect_uri", None), Refusal::RedirectUriMismatch),
            (
                with(
                    "redirect_uri",
                    Some("https://auth.example.com/api/auth/callback/google"),
                ),
                Refusal::RedirectUriMismatch,
            ),
            (
                with(
                    "redirect_uri",
                    Some("https://pr-3.preview.example.com/auth/github/callback"),
                ),
                Refusal::RedirectUriMismatch,
            ),
            (with("client_id", None), Refusal::ClientIdUnknown),
            (
                with("client_id", Some("client-3")),
                Refusal::ClientIdUnknown,
            ),
            (
                with("client_id", Some("CLIENT-1")),
                Refusal::ClientIdUnknown,
            ),
            (with("state", None), Refusal::StateMissing),
            (with("state", Some("")), Refusal::StateMissing),
            (
                with("state", Some(&"s".repeat(256))),
                Refusal::ParamsMalformed,
            ),
            (with("return_to", None), Refusal::TargetMissing),
            (
                with(
                    "return_to",
                    Some("https://evil.example/auth/github/callback"),
                ),
                Refusal::TargetNotAllowed,
            ),
            (
                with(
                    "return_to",
                    Some("https://pr-3.preview.example.com/account/delete"),
                ),
                Refusal::TargetNotCallback,
            ),
            (
                with(
                    "return_to",
                    Some("https://pr-3.preview.example.com/auth/google/callback"),
                ),
                Refusal::TargetNotCallback,
            ),
            (
                with(
                    "return_to",
                    Some("https://pr-3.preview.example.com/x/auth/github/callback"),
                ),
                Refusal::TargetNotCallback,
            ),
            (
                with(
                    "return_to",
                    Some("https://pr-3.preview.example.com/auth/github/callback#x"),
                ),
                Refusal::TargetInvalid,
            ),
            (
                with(
                    "return_to",
                    Some("https://auth.example.com/auth/github/callback"),
                ),
                Refusal::TargetIsRelay,
            ),
            (ask("state=%zz"), Refusal::ParamsMalformed),
        ];
        for (o, want) in cases {
            assert_eq!(refusal(&o), Some(want), "{o:?}");
            assert_eq!(o.app.as_deref(), Some("default"));
        }
        let dup = format!("{}&client_id=client-2", query(&good()));
        assert_eq!(refusal(&ask(&dup)), Some(Refusal::ClientIdUnknown));
        let dup = format!("{}&state=again", query(&good()));
        assert_eq!(refusal(&ask(&dup)), Some(Refusal::StateDuplicated));
        let req = AuthorizeRequest {
            provider: "google",
            query: &query(&good()),
            request_host: None,
        };
        assert_eq!(
            refusal(&authorize(&req, &config(), NOW)),
            Some(Refusal::AuthorizeNotConfigured)
        );
        let loopback = with(
            "return_to",
            Some("http://localhost:3000/auth/github/callback"),
        );
        assert_eq!(loopback.hint, Some(Hint::LoopbackTarget));
    }

    #[test]
    fn only_response_type_code_once_goes_to_the_provider() {
        let with = |extra: &str, drop: bool| {
            let mut pairs = good();
            if drop {
                pairs.retain(|(k, _)| *k != "response_type");
            }
            ask(&format!("{}{extra}", query(&pairs)))
        };
        for (o, detail) in [
            (with("", true), "response_type_missing"),
            (with("&response_type=token", true), "response_type_other"),
            (with("&response_type=id_token", true), "response_type_other"),
            (
                with("&response_type=code+id_token", true),
                "response_type_other",
            ),
            (with("&response_type=CODE", true), "response_type_other"),
            (with("&response_type=", true), "response_type_other"),
            (
                with("&response_type=code", false),
                "response_type_duplicated",
            ),
            (
                with("&response_type=token", false),
                "response_type_duplicated",
            ),
        ] {
            assert_eq!(refusal(&o), Some(Refusal::ResponseTypeUnsupported), "{o:?}");
            assert_eq!(o.detail, Some(detail));
        }
    }

    #[test]
    fn a_name_another_parser_could_read_as_a_checked_parameter_is_refused() {
        // Each would reach the provider beside the checked parameter, to be read as
        // `state`, `redirect_uri`, … by a parser that decodes names, cuts at NUL or `;`,
        // folds case or reads `.` or `[` as `_` (PHP).
        for (extra, detail) in [
            ("%73tate=forged", "param_name_not_plain"),
            ("state%00=forged", "param_name_not_plain"),
            ("state+=forged", "param_name_not_plain"),
            ("state[]=forged", "param_name_not_plain"),
            (
                "redirect%5Furi=https%3A%2F%2Fevil.example%2Fcb",
                "param_name_not_plain",
            ),
            ("=forged", "param_name_not_plain"),
            (
                "request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax",
                "request_object",
            ),
            ("request=eyJhbGciOiJub25lIn0.e30.", "request_object"),
            (
                "Request_URI=https%3A%2F%2Fevil.example%2Fr",
                "param_name_ambiguous",
            ),
            ("scope=x;state=forged", "query_semicolon"),
            ("STATE=forged", "param_name_ambiguous"),
            (
                "Redirect_URI=https%3A%2F%2Fevil.example%2Fcb",
                "param_name_ambiguous",
            ),
            (
                "redirect.uri=https%3A%2F%2Fevil.example%2Fcb",
                "param_name_not_plain",
            ),
            ("Response_Type=token", "param_name_ambiguous"),
            (
                "RETURN_TO=https%3A%2F%2Fevil.example%2Fcb",
                "param_name_ambiguous",
            ),
        ] {
            let o = ask(&format!("{}&{extra}", query(&good())));
            assert_eq!(refusal(&o), Some(Refusal::ParamsMalformed), "{extra}");
            assert_eq!(o.detail, Some(detail), "{extra}");
        }
        // Names of other parameters are forwarded in any case, and a `;` or `+` in an
        // escaped value is no separator.
        let q = format!(
            "{}&Login_Hint=a%3Bb+c&ui_locales=de-CH&max-age=1",
            query(&good())
        );
        assert!(matches!(ask(&q).decision, Decision::Redirect(_)), "{q}");
    }

    #[test]
    fn the_callback_restores_the_library_state_and_forwards_the_rest() {
        let Decision::Redirect(loc) = ask(&query(&good())).decision else {
            panic!()
        };
        let env = envelope_of(&loc);
        let q = format!("code=c0de&state={env}&iss=https%3A%2F%2Fgithub.example");
        let req = callback_get(&q);
        let o = decide(&req, &config(), NOW + 10);
        assert_eq!(
            o.decision,
            Decision::Redirect(format!(
                "{RETURN}?code=c0de&state=lib-state-0123456789&iss=https%3A%2F%2Fgithub.example"
            ))
        );
        assert_eq!(o.format, Some(StateFormat::Envelope));
        // Another provider's callback, or an app that stopped offering the route, refuses.
        let other = CallbackRequest {
            provider: "google",
            ..req
        };
        assert_eq!(
            refusal(&decide(&other, &config(), NOW)),
            Some(Refusal::ProviderMismatch)
        );
        let mut off = config();
        off.authorize.clear();
        assert_eq!(
            refusal(&decide(&req, &off, NOW)),
            Some(Refusal::AuthorizeNotConfigured)
        );
        // A form post gets the library's state in its field.
        let body = format!("code=c0de&state={env}");
        let post = CallbackRequest {
            method: CallbackMethod::Post,
            body: body.as_bytes(),
            query: "",
            content_type: Some("application/x-www-form-urlencoded"),
            ..req
        };
        let Decision::FormPost { fields, action, .. } = decide(&post, &config(), NOW).decision
        else {
            panic!()
        };
        assert_eq!(action, RETURN);
        assert_eq!(
            fields,
            vec![
                ("code".to_owned(), "c0de".to_owned()),
                ("state".to_owned(), "lib-state-0123456789".to_owned())
            ]
        );
    }

    #[test]
    fn debug_output_never_holds_a_code_or_a_state() {
        let q = query(&good());
        let req = AuthorizeRequest {
            provider: "github",
            query: &q,
            request_host: None,
        };
        let o = ask(&q);
        let Decision::Redirect(loc) = &o.decision else {
            panic!()
        };
        let env = envelope_of(loc);
        let back = format!("code=c0de-secret&state={env}");
        let get = decide(&callback_get(&back), &config(), NOW);
        let post = CallbackRequest {
            method: CallbackMethod::Post,
            body: back.as_bytes(),
            query: "",
            content_type: Some("application/x-www-form-urlencoded"),
            ..callback_get("")
        };
        let post = decide(&post, &config(), NOW);
        assert!(matches!(get.decision, Decision::Redirect(_)));
        assert!(matches!(post.decision, Decision::FormPost { .. }));
        for seen in [
            format!("{req:?}"),
            format!("{o:?}"),
            format!("{get:?}"),
            format!("{post:?}"),
        ] {
            for secret in ["lib-state-0123456789", "c0de-secret", &env[..20]] {
                assert!(!seen.contains(secret), "{secret} in {seen}");
            }
        }
        assert!(format!("{post:?}").contains(r#"fields: ["code", "state"]"#));
        assert!(format!("{get:?}").contains(RETURN));
    }

    #[test]
    fn a_library_state_with_special_characters_comes_back_decoded_the_same() {
        let mut pairs = good();
        pairs.retain(|(k, _)| *k != "state");
        pairs.push(("state", "a b+c/d=e&f%g~h"));
        let Decision::Redirect(loc) = ask(&query(&pairs)).decision else {
            panic!()
        };
        let q = format!("code=1&state={}", envelope_of(&loc));
        let Decision::Redirect(back) = decide(&callback_get(&q), &config(), NOW).decision else {
            panic!()
        };
        let back_query = back.split_once('?').unwrap().1;
        let decoded = parse_params(back_query.as_bytes()).unwrap();
        assert_eq!(decoded[1].1, "a b+c/d=e&f%g~h");
    }
}
