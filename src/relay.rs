//! The relay's decision: a pure function of the request, the configuration and the clock.
//!
//! The actix handlers (and any other entry point) only translate HTTP into a
//! [`CallbackRequest`] and a [`Decision`] back into HTTP; everything that decides where a
//! browser goes is here, so it is tested without a network.

use authrelay_client::keyring::{Reason, Rejection, StateFormat, VerifiedState};
use authrelay_client::target::{is_valid_provider_id, Target, TargetError};
use percent_encoding::percent_decode;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use url::Url;

use crate::config::{is_loopback_host, Config};

/// The longest query string or form body looked at, in bytes.
pub const MAX_PARAMS_LEN: usize = 16 * 1024;
/// The most parameters a callback may carry.
pub const MAX_PARAMS: usize = 64;

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

/// Why a callback was refused. Each has a stable code, documented in
/// `docs/troubleshooting.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The provider path segment is not a valid provider id.
    ProviderInvalid,
    /// The query or form body cannot be decoded, or is too long or has too many fields.
    ParamsMalformed,
    /// A POST callback that is not a URL-encoded form.
    UnsupportedMediaType,
    /// A POST body over the size limit.
    BodyTooLarge,
    /// No `state` parameter.
    StateMissing,
    /// More than one `state` parameter.
    StateDuplicated,
    /// The state cannot be read.
    StateMalformed,
    /// The state does not verify with any configured secret, or breaks a rule.
    StateInvalid,
    /// The state is outside its validity window.
    StateExpired,
    /// The state verifies, but with another app's secrets (a multi-app relay).
    StateOtherApp,
    /// The target in the state is not a valid callback URL.
    TargetInvalid,
    /// The target is the relay itself.
    TargetIsRelay,
    /// The target's origin is not on the allowlist.
    TargetNotAllowed,
    /// The state or target is for another provider than the callback path says.
    ProviderMismatch,
    /// No route for this path.
    NotFound,
    /// The method is not GET or POST.
    MethodNotAllowed,
}

impl Refusal {
    /// Every refusal, for documentation tests.
    pub const ALL: [Refusal; 16] = [
        Refusal::ProviderInvalid,
        Refusal::ParamsMalformed,
        Refusal::UnsupportedMediaType,
        Refusal::BodyTooLarge,
        Refusal::StateMissing,
        Refusal::StateDuplicated,
        Refusal::StateMalformed,
        Refusal::StateInvalid,
        Refusal::StateExpired,
        Refusal::StateOtherApp,
        Refusal::TargetInvalid,
        Refusal::TargetIsRelay,
        Refusal::TargetNotAllowed,
        Refusal::ProviderMismatch,
        Refusal::NotFound,
        Refusal::MethodNotAllowed,
    ];

    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProviderInvalid => "provider_invalid",
            Self::ParamsMalformed => "params_malformed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge => "body_too_large",
            Self::StateMissing => "state_missing",
            Self::StateDuplicated => "state_duplicated",
            Self::StateMalformed => "state_malformed",
            Self::StateInvalid => "state_invalid",
            Self::StateExpired => "state_expired",
            Self::StateOtherApp => "state_other_app",
            Self::TargetInvalid => "target_invalid",
            Self::TargetIsRelay => "target_is_relay",
            Self::TargetNotAllowed => "target_not_allowed",
            Self::ProviderMismatch => "provider_mismatch",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }

    /// The HTTP status: 400 for input that cannot be read, 403 for a readable request
    /// that policy refuses.
    pub fn status(&self) -> u16 {
        match self {
            Self::ProviderInvalid
            | Self::ParamsMalformed
            | Self::StateMissing
            | Self::StateDuplicated
            | Self::StateMalformed => 400,
            Self::UnsupportedMediaType => 415,
            Self::BodyTooLarge => 413,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::StateInvalid
            | Self::StateExpired
            | Self::StateOtherApp
            | Self::TargetInvalid
            | Self::TargetIsRelay
            | Self::TargetNotAllowed
            | Self::ProviderMismatch => 403,
        }
    }

    /// One sentence for the person who sees the page. It contains no request input.
    pub fn message(&self) -> &'static str {
        match self {
            Self::ProviderInvalid => "The sign-in callback names a provider this relay cannot serve.",
            Self::ParamsMalformed => "The sign-in callback's parameters could not be read.",
            Self::UnsupportedMediaType => "The sign-in callback was posted in a format the relay does not accept.",
            Self::BodyTooLarge => "The sign-in callback was larger than the relay accepts.",
            Self::StateMissing => "The sign-in callback carries no state, so the relay cannot tell where the sign-in began.",
            Self::StateDuplicated => "The sign-in callback carries more than one state.",
            Self::StateMalformed => "The sign-in state could not be read.",
            Self::StateInvalid => "The sign-in state does not verify with this relay's secrets, or breaks one of its rules.",
            Self::StateExpired => "The sign-in took too long and its state has expired. Start the sign-in again.",
            Self::StateOtherApp => "The sign-in state was made for another app on this relay.",
            Self::TargetInvalid => "The sign-in state points to an address that is not a valid callback URL.",
            Self::TargetIsRelay => "The sign-in state points back at this relay.",
            Self::TargetNotAllowed => "The sign-in state points to an address this relay is not allowed to send you to.",
            Self::ProviderMismatch => "The sign-in state was made for a different provider.",
            Self::NotFound => "There is nothing at this address.",
            Self::MethodNotAllowed => "This address accepts only GET and POST.",
        }
    }
}

/// What the relay does with a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer 302 with this `Location`.
    Redirect(String),
    /// Answer with a page that posts these fields to `action`.
    FormPost {
        /// The target URL.
        action: String,
        /// The target's origin, for the page's CSP `form-action`.
        action_origin: String,
        /// The fields, in order, decoded.
        fields: Vec<(String, String)>,
    },
    /// Refuse.
    Refuse(Refusal),
}

/// The decision and what the logs and metrics say about it. Nothing here holds `code`,
/// `state` or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// The state format, when a state was seen.
    pub format: Option<StateFormat>,
    /// The provider, once the state is verified to be for it.
    pub provider: Option<String>,
    /// The target's host, once the state verified.
    pub target_host: Option<String>,
    /// A precise reason for logs (e.g. `bad_signature`), beyond the public code.
    pub detail: Option<&'static str>,
    /// Why the state did not verify, when it did not.
    pub rejection: Option<Rejection>,
    /// The variable name of the secret that verified the state.
    pub secret: Option<String>,
    /// The app the callback was for.
    pub app: Option<String>,
    /// The provider named in the callback path, when it is a valid id but the state did
    /// not (yet) confirm it: for logs, never for metric labels.
    pub path_provider: Option<String>,
}

impl Outcome {
    /// An outcome that refuses before anything was read.
    pub fn refused(refusal: Refusal) -> Self {
        Self::refuse(refusal)
    }

    fn refuse(refusal: Refusal) -> Self {
        Self {
            decision: Decision::Refuse(refusal),
            format: None,
            provider: None,
            target_host: None,
            detail: None,
            rejection: None,
            secret: None,
            app: None,
            path_provider: None,
        }
    }

    /// `redirect`, `form_post` or `refused`, for logs and metrics.
    pub fn outcome_label(&self) -> &'static str {
        match self.decision {
            Decision::Redirect(_) => "redirect",
            Decision::FormPost { .. } => "form_post",
            Decision::Refuse(_) => "refused",
        }
    }

    /// The reason code, or `ok`.
    pub fn reason_label(&self) -> &'static str {
        match &self.decision {
            Decision::Refuse(r) => r.code(),
            _ => "ok",
        }
    }
}

/// A decoded `name=value` pair of a query or form body.
pub type Param<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Decodes `application/x-www-form-urlencoded` text strictly: every percent escape must
/// be valid and the result valid UTF-8, so that what is forwarded is exactly what arrived.
/// A component without escapes is borrowed from `raw`, not copied.
pub fn parse_params(raw: &[u8]) -> Result<Vec<Param<'_>>, Refusal> {
    if raw.len() > MAX_PARAMS_LEN {
        return Err(Refusal::ParamsMalformed);
    }
    let mut out = Vec::new();
    for pair in raw.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        if out.len() == MAX_PARAMS {
            return Err(Refusal::ParamsMalformed);
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        out.push((decode_component(k)?, decode_component(v)?));
    }
    Ok(out)
}

fn decode_component(raw: &[u8]) -> Result<Cow<'_, str>, Refusal> {
    // A state or a code is printable ASCII without '%' or '+': it is its own decoding,
    // and one scan tells so (the checks below would all pass).
    // (A fold rather than `all`: no early exit, so the compiler vectorises it.)
    let plain = raw.iter().fold(true, |plain, &b| {
        plain & (b.wrapping_sub(0x21) < 0x7f - 0x21) & (b != b'%') & (b != b'+')
    });
    if plain {
        return std::str::from_utf8(raw)
            .map(Cow::Borrowed)
            .map_err(|_| Refusal::ParamsMalformed);
    }
    // A '%' not followed by two hex digits is malformed: lenient decoders pass it through,
    // which would make the relay forward something other than what it checked.
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'%' {
            let ok = raw.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && raw.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(Refusal::ParamsMalformed);
            }
            i += 3;
        } else if b < 0x21 || b == 0x7f || b >= 0x80 {
            return Err(Refusal::ParamsMalformed);
        } else {
            i += 1;
        }
    }
    // Every byte is now printable ASCII or part of a valid escape, with a '%' or '+'.
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| Refusal::ParamsMalformed)
}

/// Whether the target is on the relay's own host and port: `AUTH_URL`'s, or the one the
/// request was addressed to. Schemes are not compared: one host and port serve one
/// scheme, and a relay behind a TLS proxy sees plain HTTP.
fn is_relay_authority(target: &Target, public_url: &Url, request_host: Option<&str>) -> bool {
    let port = target.port_or_default();
    // Hosts compare without a trailing dot (`auth.example.com.` is the same host), and
    // every loopback name is the same machine: a relay on 127.0.0.1:3000 is also
    // localhost:3000 and [::1]:3000.
    let same_host = |h: &str| {
        let h = h.strip_suffix('.').unwrap_or(h);
        h.eq_ignore_ascii_case(target.host())
            || (is_loopback_host(h) && is_loopback_host(target.host()))
    };
    let same_as_public = public_url.host_str().is_some_and(same_host)
        && public_url.port_or_known_default() == Some(port);
    let same_as_request = request_host.is_some_and(|authority| {
        with_parsed_authority(authority, |parsed| match parsed {
            Some((host, Some(p))) => same_host(host) && *p == port,
            Some((host, None)) => same_host(host) && (port == 80 || port == 443),
            None => false,
        })
    });
    same_as_public || same_as_request
}

/// A request authority (`Host` or `X-Forwarded-Host`) in the normal form of a URL's host
/// and port, or `None` when it is not one.
type ParsedAuthority = Option<(String, Option<u16>)>;

fn parse_authority(authority: &str) -> ParsedAuthority {
    // Parse as the authority of a URL so that IPv6 literals and IDNA hosts compare in
    // the same normal form as the target's.
    match Url::parse(&format!("http://{}/", authority.trim())) {
        Ok(u) if u.username().is_empty() && u.path() == "/" => {
            u.host_str().map(|h| (h.to_owned(), u.port()))
        }
        _ => None,
    }
}

/// Calls `f` with [`parse_authority`] of `authority`. Every callback to a relay carries
/// the same few `Host` values, so each worker thread remembers the last one it parsed:
/// the answer is a pure function of the string, so the cache changes nothing but the
/// cost (a URL parse per request, about a fifth of a native decision).
fn with_parsed_authority<R>(authority: &str, f: impl FnOnce(&ParsedAuthority) -> R) -> R {
    thread_local! {
        static LAST: RefCell<Option<(String, ParsedAuthority)>> = const { RefCell::new(None) };
    }
    // Longer values are parsed every time rather than kept.
    const MAX_CACHED: usize = 256;
    LAST.with(|cell| {
        let mut last = cell.borrow_mut();
        match &*last {
            Some((raw, parsed)) if raw == authority => f(parsed),
            _ => {
                let parsed = parse_authority(authority);
                let r = f(&parsed);
                if authority.len() <= MAX_CACHED {
                    *last = Some((authority.to_owned(), parsed));
                }
                r
            }
        }
    })
}

/// Callback parameters a target's own query must not carry: the preview would see two
/// values and might take the one the state's signer put there.
pub const CALLBACK_PARAMS: [&str; 10] = [
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
    "user",
    "id_token",
    "session_state",
    "scope",
];

fn shadows_callback_params(target: &Target) -> bool {
    target
        .url()
        .query_pairs()
        .any(|(k, _)| CALLBACK_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)))
}

/// The host a request was addressed to, as far as the relay may believe it: the first
/// `X-Forwarded-Host` value with `AUTH_TRUST_HOST`, else `Host`. Every adapter uses this.
pub fn request_host<'a>(
    host: Option<&'a str>,
    forwarded_host: Option<&'a str>,
    trust_host: bool,
) -> Option<&'a str> {
    let forwarded = forwarded_host
        .filter(|_| trust_host)
        .and_then(|v| v.split(',').next());
    forwarded.or(host)
}

impl Outcome {
    /// The one log event per callback, the same from every adapter. Never code, state or
    /// secrets: only what the outcome holds.
    pub fn log(&self, elapsed: std::time::Duration) {
        tracing::info!(
            app = self.app.as_deref().unwrap_or(""),
            outcome = self.outcome_label(),
            reason = self.reason_label(),
            detail = self.detail.unwrap_or(""),
            provider = self
                .provider
                .as_deref()
                .or(self.path_provider.as_deref())
                .unwrap_or("unknown"),
            target_host = self.target_host.as_deref().unwrap_or(""),
            format = self.format.map_or("none", |f| f.as_str()),
            secret = self.secret.as_deref().unwrap_or(""),
            latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "callback"
        );
    }
}

/// The relay's decision for a callback at time `now` (Unix seconds).
pub fn decide(req: &CallbackRequest<'_>, config: &Config, now: u64) -> Outcome {
    let mut outcome = decide_unnamed(req, config, now);
    outcome.app = Some(config.name.clone());
    if outcome.provider.is_none() && is_valid_provider_id(req.provider) {
        outcome.path_provider = Some(req.provider.to_owned());
    }
    outcome
}

fn decide_unnamed(req: &CallbackRequest<'_>, config: &Config, now: u64) -> Outcome {
    if !is_valid_provider_id(req.provider) {
        return Outcome::refuse(Refusal::ProviderInvalid);
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
                return Outcome::refuse(Refusal::UnsupportedMediaType);
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
        Err(r) => return Outcome::refuse(r),
    };
    let mut states = params.iter().filter(|(k, _)| k == "state").map(|(_, v)| v);
    let state = match (states.next(), states.next()) {
        (None, _) => return Outcome::refuse(Refusal::StateMissing),
        (Some(_), Some(_)) => return Outcome::refuse(Refusal::StateDuplicated),
        (Some(s), None) if s.is_empty() => return Outcome::refuse(Refusal::StateMissing),
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
                return Outcome {
                    format: Some(rejection.format()),
                    detail: Some(rejection.detail_code()),
                    rejection: Some(rejection),
                    ..Outcome::refuse(refusal)
                };
            }
        };
    let target: &Target = &verified.target;
    let mut outcome = Outcome {
        format: Some(verified.format),
        target_host: Some(target.host().to_owned()),
        secret: Some(config.secrets.name(verified.secret_index).to_owned()),
        ..Outcome::refuse(Refusal::StateInvalid)
    };
    let is_relay = is_relay_authority(target, &config.public_url, req.request_host);
    let refusal = if is_relay {
        Some(Refusal::TargetIsRelay)
    } else if shadows_callback_params(target) {
        outcome.detail = Some("query_shadows_callback_params");
        Some(Refusal::TargetInvalid)
    } else if !config.allowlist.matches(target) {
        Some(Refusal::TargetNotAllowed)
    } else if target.callback_provider() != Some(req.provider)
        || verified
            .provider
            .as_deref()
            .is_some_and(|p| p != req.provider)
    {
        Some(Refusal::ProviderMismatch)
    } else {
        None
    };
    if let Some(r) = refusal {
        outcome.decision = Decision::Refuse(r);
        return outcome;
    }
    outcome.provider = Some(req.provider.to_owned());
    outcome.decision = match req.method {
        CallbackMethod::Get => {
            // The query is forwarded byte for byte: every component was checked above
            // (valid escapes, printable ASCII, UTF-8), so nothing needs re-encoding, and
            // previews see exactly what the provider sent. A target's own query is kept.
            Decision::Redirect(location(target, req.query))
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
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        },
    };
    outcome
}

/// How many parsed targets each thread keeps (see [`parse_target`]).
const TARGETS_KEPT: usize = 16;

thread_local! {
    /// The distinct targets this thread parsed last, newest first.
    static RECENT_TARGETS: RefCell<VecDeque<Target>> = const { RefCell::new(VecDeque::new()) };
}

/// [`Target::parse`], remembering the last few distinct targets this thread parsed
/// (first in, first out). A state's target is the callback URL of the preview (or
/// production app) it came from, the same string for every sign-in there, and the URL
/// parser is the largest single part of a native decision. `Target::parse` accepts only
/// a string that is its own canonical form, and a string is answered from memory only
/// when it is byte for byte a kept target's, so the answer is the one `Target::parse`
/// gives; a string that fails is parsed, and refused, every time. It runs only on
/// targets of states that verified.
fn parse_target(raw: &str) -> Result<Target, TargetError> {
    let kept = RECENT_TARGETS.with_borrow(|kept| kept.iter().find(|t| t.as_str() == raw).cloned());
    if let Some(target) = kept {
        return Ok(target);
    }
    let target = Target::parse(raw)?;
    RECENT_TARGETS.with_borrow_mut(|kept| {
        kept.truncate(TARGETS_KEPT - 1);
        kept.push_front(target.clone());
    });
    Ok(target)
}

/// Whether `q` holds one of the characters the `url` crate percent-encodes in an http(s)
/// query. A fold rather than `any`, and a function of its own: no early exit and a small
/// loop, so the compiler vectorises the scan (an Auth.js state makes it ~560 bytes).
#[inline(never)]
fn has_url_query_special(q: &[u8]) -> bool {
    q.iter().fold(false, |found, &b| {
        found | (b == b'"') | (b == b'#') | (b == b'<') | (b == b'>') | (b == b'\'')
    })
}

/// The `Location` for a GET callback: the target with `query` appended after its own
/// query, if it has one.
fn location(target: &Target, query: &str) -> String {
    let (base, own) = match target.as_str().split_once('?') {
        Some((base, own)) => (base, Some(own)),
        None => (target.as_str(), None),
    };
    let query: Cow<'_, str> = match own {
        Some(own) if !own.is_empty() => format!("{own}&{query}").into(),
        _ => query.into(),
    };
    // The url crate percent-encodes only these (and controls, space and non-ASCII, which
    // the parameter check refused) in the query of an http(s) URL. Without them, its
    // serialization is exactly `base?query`, so the string is built directly; with them,
    // the url crate builds it, as before.
    if has_url_query_special(query.as_bytes()) {
        let mut url = target.url().clone();
        url.set_query(Some(&query));
        return url.into();
    }
    let mut out = String::with_capacity(base.len() + 1 + query.len());
    out.push_str(base);
    out.push('?');
    out.push_str(&query);
    out
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
            assert_eq!(kept[0].as_str(), newest);
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
        for (origin, want) in [
            (
                format!("{TARGET}?code=INJECTED"),
                Some(Refusal::TargetInvalid),
            ),
            (
                format!("{TARGET}?tenant=a&STATE=x"),
                Some(Refusal::TargetInvalid),
            ),
            (format!("{TARGET}?tenant=acme"), None),
        ] {
            let s = authjs::encrypt(&key, &authjs::new_claims(&origin, NOW, 900));
            let q = format!("code=real&state={s}");
            assert_eq!(
                refusal(&decide(&get("github", &q), &config(), NOW)),
                want,
                "{origin}"
            );
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

    #[test]
    fn params_are_decoded_strictly() {
        assert_eq!(
            parse_params(b"a=1&b=%2B&c=+&d&&e=%E2%9C%93").unwrap(),
            [("a", "1"), ("b", "+"), ("c", " "), ("d", ""), ("e", "✓")]
                .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)))
        );
        for bad in [
            &b"a=%"[..],
            b"a=%4",
            b"a=%zz",
            b"a=%ff",
            b"a=b c",
            b"a=\x80",
            b"a=\n",
        ] {
            assert_eq!(parse_params(bad), Err(Refusal::ParamsMalformed), "{bad:?}");
        }
        let many = "a=1&".repeat(MAX_PARAMS + 1);
        assert_eq!(parse_params(many.as_bytes()), Err(Refusal::ParamsMalformed));
    }

    #[test]
    fn every_refusal_is_a_4xx_with_a_distinct_code() {
        let mut codes: Vec<&str> = Refusal::ALL.iter().map(|r| r.code()).collect();
        for r in Refusal::ALL {
            assert!((400..500).contains(&r.status()), "{r:?}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Refusal::ALL.len());
    }

    #[test]
    fn every_refusal_code_is_documented() {
        let doc = include_str!("../docs/troubleshooting.md");
        for r in Refusal::ALL {
            assert!(
                doc.contains(&format!("| `{}` | {} |", r.code(), r.status())),
                "{r:?}"
            );
        }
    }

    #[test]
    fn the_location_is_what_the_url_crate_would_serialize() {
        // The former construction: clone the URL, set the combined query.
        fn via_url(target: &Target, query: &str) -> String {
            let mut url = target.url().clone();
            let query = match url.query() {
                Some(own) if !own.is_empty() => format!("{own}&{query}"),
                _ => query.to_owned(),
            };
            url.set_query(Some(&query));
            url.into()
        }
        let targets = [
            TARGET,
            "https://pr-3.preview.example.com/api/auth/callback/github?",
            "https://pr-3.preview.example.com/api/auth/callback/github?app=1&x=%41",
            "http://127.0.0.1:3000/cb/callback/github",
            "http://[::1]:3000/api/auth/callback/github?a=b",
        ];
        let queries = [
            "code=abc&state=xyz",
            "code=a+b&state=%2F%25&iss=https%3A%2F%2Fi.example",
            "state=\"quoted\"&x='1'&y=<a>&z=#frag",
            "state=~!$&'()*,;=:@/?[]{}|^`",
            "state=",
        ];
        for t in targets {
            let target = Target::parse(t).unwrap();
            for q in queries {
                assert_eq!(location(&target, q), via_url(&target, q), "{t} {q}");
            }
        }
    }

    #[test]
    fn the_authority_cache_answers_as_a_fresh_parse() {
        for authority in [
            "auth.example.com",
            "AUTH.example.com:443",
            "auth.example.com.",
            "[::1]:3000",
            "127.1:3000",
            "user@auth.example.com",
            "auth.example.com/x",
            "",
            "auth.example.com",
        ] {
            let fresh = parse_authority(authority);
            assert_eq!(with_parsed_authority(authority, |p| p.clone()), fresh);
            assert_eq!(with_parsed_authority(authority, |p| p.clone()), fresh);
        }
    }
}
