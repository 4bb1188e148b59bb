//! The operator's allowlist, `AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS`: which origins the
//! relay may send a browser to (the allowlist half of lock 2 in the product brief; the URL
//! rules are [`crate::target`]).
//!
//! Rules for one [`OriginPattern`]:
//!
//! - `scheme://host[:port]` and nothing else: no path (not even `/`), query, fragment or
//!   user-info; no whitespace, control characters or backslashes;
//! - the scheme is `https`, or `http` only for a loopback host (`localhost`, an IPv4
//!   address in `127.0.0.0/8`, `[::1]`);
//! - the host is compared after IDNA and case normalisation (stored lowercase, punycode);
//!   labels are letters, digits and inner hyphens; no empty label and no trailing dot;
//! - `*` stands for one or more characters inside one DNS label, never a dot; at most one
//!   `*` per label, and only in the leftmost label (elsewhere it could stand for part of a
//!   multi-label public suffix such as `s3.amazonaws.com`); under a registry's suffix
//!   (`.com`) not even a partial `*` in the registrable name (`x*.com`); a label with a `*` is plain ASCII; no `*` in the top-level label nor
//!   in an IP address;
//! - a `*` may not cover a whole public suffix: with the Public Suffix List, a pattern is
//!   refused when a `*` falls inside the public suffix, or when the label just left of it
//!   (the registrable name) is a bare `*` (`https://*.com`, `https://*.vercel.app`);
//! - no port means the scheme's default port only; `:3000` that port; `:*` any port;
//!   port 0 or above 65535 is refused;
//! - a pattern matches a [`Target`] when the schemes are equal, the hosts have the same
//!   number of labels and each label matches, and the port rule holds.
//!
//! An [`Allowlist`] is a comma-separated list of patterns; it may not be empty, and there
//! is no "allow everything".

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use psl::Psl as _;
use url::Host;

use crate::target::{is_ldh_label, Target};

/// Stands for a wildcard label when asking the Public Suffix List or the IDNA mapping
/// about a pattern's host. It matches no explicit rule, so the list answers for "some
/// label", and a list wildcard rule (`*.ck`) still catches it.
const PLACEHOLDER: &str = "authrelay-wildcard-placeholder";

/// Longest pattern shown back in an error message, in characters.
const MAX_SHOWN: usize = 200;

/// One origin pattern from `AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS`, e.g.
/// `https://*.preview.acme.dev`, `https://myapp-*-acme.vercel.app` or
/// `http://localhost:3000`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginPattern {
    canonical: String,
    scheme: Scheme,
    host: HostPattern,
    port: PortRule,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    /// Labels left to right.
    Domain(Vec<Label>),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    Exact(String),
    /// `prefix*suffix`, both possibly empty.
    Wildcard {
        prefix: String,
        suffix: String,
    },
}

impl Label {
    fn matches(&self, label: &str) -> bool {
        match self {
            Label::Exact(s) => s == label,
            // "One or more": the `*` must cover at least one character, so the fixed
            // parts cannot overlap or meet (`myapp-*-acme` does not match `myapp--acme`).
            Label::Wildcard { prefix, suffix } => {
                label.len() > prefix.len() + suffix.len()
                    && label.starts_with(prefix.as_str())
                    && label.ends_with(suffix.as_str())
            }
        }
    }

    fn is_wildcard(&self) -> bool {
        matches!(self, Label::Wildcard { .. })
    }

    fn is_bare_wildcard(&self) -> bool {
        matches!(self, Label::Wildcard { prefix, suffix } if prefix.is_empty() && suffix.is_empty())
    }

    fn for_psl(&self) -> &str {
        match self {
            Label::Exact(s) => s,
            Label::Wildcard { .. } => PLACEHOLDER,
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Exact(s) => f.write_str(s),
            Label::Wildcard { prefix, suffix } => write!(f, "{prefix}*{suffix}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortRule {
    /// The scheme's default port only.
    Default,
    Exact(u16),
    Any,
}

/// Why an origin pattern or allowlist was refused.
///
/// `Display` is one line that names the offending pattern (operator configuration, not a
/// secret) and says how to fix it. [`code`] gives a stable snake_case code.
///
/// [`code`]: PatternError::code
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The whole list is empty.
    #[error("the allowlist is empty; list the origins to allow, e.g. `https://*.preview.yourcompany.com` (there is no allow-all)")]
    EmptyList,
    /// One comma-separated item is empty.
    #[error("item {position} of the allowlist is empty; remove the doubled or trailing comma")]
    EmptyItem {
        /// 1-based position of the empty item.
        position: usize,
    },
    /// An empty pattern.
    #[error("the origin pattern is empty; write `scheme://host[:port]`, e.g. `https://*.preview.yourcompany.com`")]
    Empty,
    /// Whitespace, a control character or a backslash.
    #[error("`{}` contains whitespace, a control character or a backslash; write `scheme://host[:port]` with nothing else", shown(.pattern))]
    ForbiddenCharacter {
        /// The pattern as given.
        pattern: String,
    },
    /// No `scheme://`.
    #[error("{}", missing_scheme_message(.pattern))]
    MissingScheme {
        /// The pattern as given.
        pattern: String,
    },
    /// A scheme other than `http` or `https`.
    #[error("`{}` has an unsupported scheme; only `https://` (and `http://` for localhost, 127.0.0.0/8 or [::1]) is allowed", shown(.pattern))]
    Scheme {
        /// The pattern as given.
        pattern: String,
    },
    /// `http` for a host that is not loopback.
    #[error("`{}` uses plain http for a host that is not loopback; use `https://`, http is only for localhost, 127.0.0.0/8 and [::1]", shown(.pattern))]
    HttpNotLoopback {
        /// The pattern as given.
        pattern: String,
    },
    /// A user name or password.
    #[error("`{}` has user information (`…@`); a pattern is `scheme://host[:port]` only", shown(.pattern))]
    UserInfo {
        /// The pattern as given.
        pattern: String,
    },
    /// A path, even a lone `/`.
    #[error("`{}` has a path; a pattern is an origin, `scheme://host[:port]`, with nothing after the host or port (not even `/`)", shown(.pattern))]
    Path {
        /// The pattern as given.
        pattern: String,
    },
    /// A query.
    #[error("`{}` has a query; a pattern is `scheme://host[:port]` only", shown(.pattern))]
    Query {
        /// The pattern as given.
        pattern: String,
    },
    /// A fragment.
    #[error("`{}` has a fragment; a pattern is `scheme://host[:port]` only", shown(.pattern))]
    Fragment {
        /// The pattern as given.
        pattern: String,
    },
    /// No host.
    #[error("`{}` has no host; write `scheme://host[:port]`", shown(.pattern))]
    NoHost {
        /// The pattern as given.
        pattern: String,
    },
    /// The host is not a valid DNS name or IP address.
    #[error("`{}`: the host is not valid: {reason}", shown(.pattern))]
    InvalidHost {
        /// The pattern as given.
        pattern: String,
        /// What is wrong and how to fix it.
        reason: &'static str,
    },
    /// The host ends with a dot.
    #[error("`{}`: the host ends with a dot; remove the trailing dot", shown(.pattern))]
    TrailingDot {
        /// The pattern as given.
        pattern: String,
    },
    /// An empty label (`a..b`, `.a`).
    #[error("`{}`: the host has an empty label (`..` or a leading dot); remove the extra dot", shown(.pattern))]
    EmptyLabel {
        /// The pattern as given.
        pattern: String,
    },
    /// A port that is empty, not a number, 0 or above 65535.
    #[error("`{}`: the port must be a number from 1 to 65535, or `*` for any port", shown(.pattern))]
    Port {
        /// The pattern as given.
        pattern: String,
    },
    /// More than one `*` in one label.
    #[error("`{}`: the label `{}` has more than one `*`; use at most one `*` per label", shown(.pattern), shown(.label))]
    MultipleWildcards {
        /// The pattern as given.
        pattern: String,
        /// The offending label.
        label: String,
    },
    /// A label with a `*` has characters other than ASCII letters, digits and inner
    /// hyphens around it.
    #[error("`{}`: the label `{}` may contain only a `*` and ASCII letters, digits and hyphens (not at its start or end); write IDN labels in punycode (`xn--…`) or without a `*`", shown(.pattern), shown(.label))]
    InvalidWildcardLabel {
        /// The pattern as given.
        pattern: String,
        /// The offending label.
        label: String,
    },
    /// A `*` in an IP address.
    #[error("`{}`: IP addresses cannot have a `*`; list each address", shown(.pattern))]
    WildcardInIp {
        /// The pattern as given.
        pattern: String,
    },
    /// A `*` in the top-level label.
    #[error("`{}`: the top-level label (`.com`, `.app`…) cannot have a `*`; name it", shown(.pattern))]
    WildcardInTld {
        /// The pattern as given.
        pattern: String,
    },
    /// A `*` in a label other than the leftmost: with the Public Suffix List's
    /// multi-label suffixes (`s3.amazonaws.com`) it could stand for part of a suffix.
    #[error("`{}`: a `*` may stand only in the leftmost label (e.g. `https://pr-*.preview.example.com`)", shown(.pattern))]
    WildcardNotLeftmost {
        /// The pattern as given.
        pattern: String,
    },
    /// A `*` covers a whole public suffix, where anyone can register or deploy.
    #[error("{}", public_suffix_message(.pattern, .suffix, .suggestion, *.platform))]
    PublicSuffixWildcard {
        /// The pattern as given.
        pattern: String,
        /// The public suffix it covers, as in the pattern (e.g. `vercel.app`).
        suffix: String,
        /// A scoped pattern to use instead.
        suggestion: String,
        /// Whether the suffix is a platform's (the list's private section: anyone can
        /// deploy there) rather than a registry's (anyone can register a name).
        platform: bool,
    },
}

impl PatternError {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyList => "empty_list",
            Self::EmptyItem { .. } => "empty_item",
            Self::Empty => "empty",
            Self::ForbiddenCharacter { .. } => "forbidden_character",
            Self::MissingScheme { .. } => "missing_scheme",
            Self::Scheme { .. } => "scheme",
            Self::HttpNotLoopback { .. } => "http_not_loopback",
            Self::UserInfo { .. } => "userinfo",
            Self::Path { .. } => "path",
            Self::Query { .. } => "query",
            Self::Fragment { .. } => "fragment",
            Self::NoHost { .. } => "no_host",
            Self::InvalidHost { .. } => "invalid_host",
            Self::TrailingDot { .. } => "trailing_dot",
            Self::EmptyLabel { .. } => "empty_label",
            Self::Port { .. } => "port",
            Self::MultipleWildcards { .. } => "multiple_wildcards",
            Self::InvalidWildcardLabel { .. } => "invalid_wildcard_label",
            Self::WildcardInIp { .. } => "wildcard_in_ip",
            Self::WildcardInTld { .. } => "wildcard_in_tld",
            Self::WildcardNotLeftmost { .. } => "wildcard_not_leftmost",
            Self::PublicSuffixWildcard { .. } => "public_suffix_wildcard",
        }
    }
}

/// The pattern for an error message: on one line, control characters escaped, and not
/// absurdly long.
fn shown(pattern: &str) -> String {
    crate::one_line(pattern, MAX_SHOWN)
}

/// What is left of a pattern without `://` once slashes and a mangled `https:` are
/// removed, for the suggested fix (`//a.com` and `https:/a.com` become `a.com`).
fn missing_scheme_message(pattern: &str) -> String {
    let rest = without_scheme_remnant(pattern);
    // A bare `*` (an attempt at allow-all) would get a hint that is refused in turn.
    if rest.contains('.') && !rest.starts_with("*.")
        || rest.starts_with("*.") && rest.matches('.').count() >= 2
    {
        format!(
            "`{}` has no scheme; write it as `https://{}`",
            shown(pattern),
            shown(rest)
        )
    } else {
        format!(
            "`{}` has no scheme: write `https://host[:port]`, e.g. `https://*.preview.example.com` (there is no allow-all)",
            shown(pattern)
        )
    }
}

fn without_scheme_remnant(pattern: &str) -> &str {
    let rest = pattern.trim_start_matches('/');
    let rest = match rest.split_once(':') {
        Some((scheme, after))
            if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") =>
        {
            after
        }
        _ => rest,
    };
    rest.trim_start_matches('/')
}

fn public_suffix_message(pattern: &str, suffix: &str, suggestion: &str, platform: bool) -> String {
    let pattern = shown(pattern);
    if platform {
        format!(
            "`{pattern}` lets anyone who can deploy to {suffix} receive sign-ins; scope the wildcard to your own names, e.g. `{suggestion}`"
        )
    } else {
        format!("`{pattern}` lets anyone who can register a name under .{suffix} receive sign-ins; use e.g. `{suggestion}`")
    }
}

impl FromStr for OriginPattern {
    type Err = PatternError;

    /// Parses one pattern. Surrounding whitespace is not trimmed here (it is refused);
    /// [`Allowlist::parse`] trims each item.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_pattern(s)
    }
}

fn parse_pattern(s: &str) -> Result<OriginPattern, PatternError> {
    let pattern = || s.to_owned();
    if s.is_empty() {
        return Err(PatternError::Empty);
    }
    if s.chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(PatternError::ForbiddenCharacter { pattern: pattern() });
    }
    let Some((scheme_raw, rest)) = s.split_once("://") else {
        return Err(PatternError::MissingScheme { pattern: pattern() });
    };
    let scheme = if scheme_raw.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else if scheme_raw.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else {
        return Err(PatternError::Scheme { pattern: pattern() });
    };
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at_checked(i).unwrap_or((rest, "")),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(PatternError::UserInfo { pattern: pattern() });
    }
    match tail.chars().next() {
        Some('/') => return Err(PatternError::Path { pattern: pattern() }),
        Some('?') => return Err(PatternError::Query { pattern: pattern() }),
        Some('#') => return Err(PatternError::Fragment { pattern: pattern() }),
        _ => {}
    }
    let (host_raw, port_raw) =
        split_host_port(authority).map_err(|reason| PatternError::InvalidHost {
            pattern: pattern(),
            reason,
        })?;
    if host_raw.is_empty() {
        return Err(PatternError::NoHost { pattern: pattern() });
    }
    let port =
        parse_port(port_raw, scheme).ok_or_else(|| PatternError::Port { pattern: pattern() })?;
    let host = parse_host(host_raw, s)?;
    if scheme == Scheme::Http && !host.is_loopback() {
        return Err(PatternError::HttpNotLoopback { pattern: pattern() });
    }
    if let HostPattern::Domain(labels) = &host {
        check_public_suffix(labels, scheme, port, s)?;
        if labels.iter().skip(1).any(Label::is_wildcard) {
            return Err(PatternError::WildcardNotLeftmost { pattern: pattern() });
        }
    }
    let canonical = canonical_string(scheme, &host, port);
    Ok(OriginPattern {
        canonical,
        scheme,
        host,
        port,
    })
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    if authority.starts_with('[') {
        let Some(end) = authority.find(']') else {
            return Err("an IPv6 address is missing its closing `]`");
        };
        let Some((host, after)) = authority.split_at_checked(end + 1) else {
            return Err("an IPv6 address is missing its closing `]`");
        };
        if after.is_empty() {
            Ok((host, None))
        } else if let Some(port) = after.strip_prefix(':') {
            Ok((host, Some(port)))
        } else {
            Err("unexpected text after the IPv6 address; write `[address]:port`")
        }
    } else {
        match authority.split_once(':') {
            None => Ok((authority, None)),
            Some((host, port)) if !port.contains(':') => Ok((host, Some(port))),
            Some(_) => Err("write IPv6 addresses in brackets, e.g. `http://[::1]:3000`"),
        }
    }
}

fn parse_port(raw: Option<&str>, scheme: Scheme) -> Option<PortRule> {
    let Some(raw) = raw else {
        return Some(PortRule::Default);
    };
    if raw == "*" {
        return Some(PortRule::Any);
    }
    if raw.is_empty() || raw.len() > 5 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u16 = raw.parse().ok()?;
    if n == 0 {
        None
    } else if n == scheme.default_port() {
        // `https://a.com:443` means exactly what `https://a.com` means; one form only.
        Some(PortRule::Default)
    } else {
        Some(PortRule::Exact(n))
    }
}

fn parse_host(host_raw: &str, s: &str) -> Result<HostPattern, PatternError> {
    let pattern = || s.to_owned();
    let invalid = |reason| PatternError::InvalidHost {
        pattern: pattern(),
        reason,
    };
    if host_raw.starts_with('[') {
        if host_raw.contains('*') {
            return Err(PatternError::WildcardInIp { pattern: pattern() });
        }
        if host_raw.contains('%') {
            return Err(invalid("an IPv6 zone id (`%…`) is not allowed"));
        }
        return match Host::parse(host_raw) {
            Ok(Host::Ipv6(a)) => Ok(HostPattern::Ipv6(a)),
            _ => Err(invalid("it is not a valid IPv6 address")),
        };
    }
    // Percent-decoding would let one written label become several.
    if host_raw.contains('%') {
        return Err(invalid(
            "percent-encoding is not allowed in a host; write the name itself",
        ));
    }
    if host_raw.ends_with('.') {
        return Err(PatternError::TrailingDot { pattern: pattern() });
    }
    let raw_labels: Vec<&str> = host_raw.split('.').collect();
    if raw_labels.iter().any(|l| l.is_empty()) {
        return Err(PatternError::EmptyLabel { pattern: pattern() });
    }
    let has_wildcard = host_raw.contains('*');
    let mut wildcards: Vec<Option<Label>> = Vec::with_capacity(raw_labels.len());
    for label in &raw_labels {
        wildcards.push(if label.contains('*') {
            Some(parse_wildcard_label(label, s)?)
        } else {
            None
        });
    }
    if has_wildcard {
        let mut fixed = raw_labels.iter().filter(|l| !l.contains('*')).peekable();
        let numeric =
            fixed.peek().is_some() && fixed.all(|l| l.bytes().all(|b| b.is_ascii_digit()));
        if numeric {
            return Err(PatternError::WildcardInIp { pattern: pattern() });
        }
        if raw_labels.last().is_some_and(|l| l.contains('*')) {
            return Err(PatternError::WildcardInTld { pattern: pattern() });
        }
    }
    // IDNA-map the fixed labels with the wildcard labels stood in for, so that the
    // mapping sees a whole name (numeric last labels, bidi rules) exactly as it would
    // for a target.
    let joined: Vec<&str> = raw_labels
        .iter()
        .map(|l| if l.contains('*') { PLACEHOLDER } else { l })
        .collect();
    let parsed = match Host::parse(&joined.join(".")) {
        Ok(h) => h,
        Err(url::ParseError::InvalidIpv4Address) if has_wildcard => {
            return Err(PatternError::WildcardInIp { pattern: pattern() })
        }
        Err(_) => return Err(invalid("it is not a valid host name or IP address")),
    };
    let domain = match parsed {
        Host::Ipv4(a) if !has_wildcard => return Ok(HostPattern::Ipv4(a)),
        Host::Ipv4(_) => return Err(PatternError::WildcardInIp { pattern: pattern() }),
        Host::Ipv6(_) => {
            return Err(invalid(
                "write IPv6 addresses in brackets, e.g. `http://[::1]:3000`",
            ))
        }
        Host::Domain(d) => d,
    };
    if domain.ends_with('.') {
        return Err(PatternError::TrailingDot { pattern: pattern() });
    }
    let mapped: Vec<&str> = domain.split('.').collect();
    if mapped.len() != raw_labels.len() {
        // Fullwidth and ideographic dots (`．`, `。`) become dots under IDNA.
        return Err(invalid(
            "it contains a character that IDNA turns into a dot; write plain `.` between labels",
        ));
    }
    let mut labels = Vec::with_capacity(mapped.len());
    for (mapped, wildcard) in mapped.iter().zip(wildcards) {
        match wildcard {
            Some(w) if *mapped == PLACEHOLDER => labels.push(w),
            Some(_) => {
                return Err(invalid(
                    "IDNA moved its labels around; write plain `.` between labels",
                ))
            }
            None if mapped.is_empty() => return Err(PatternError::EmptyLabel { pattern: pattern() }),
            None if is_ldh_label(mapped) => labels.push(Label::Exact((*mapped).to_owned())),
            None => {
                return Err(invalid(
                    "labels may contain only letters, digits and hyphens (not at their start or end), up to 63 characters",
                ))
            }
        }
    }
    let len: usize = labels.iter().map(|l| l.to_string().len() + 1).sum();
    if len > 254 {
        return Err(invalid("it is longer than 253 characters"));
    }
    Ok(HostPattern::Domain(labels))
}

fn parse_wildcard_label(label: &str, s: &str) -> Result<Label, PatternError> {
    let Some((prefix, suffix)) = label.split_once('*') else {
        return Ok(Label::Exact(label.to_owned()));
    };
    if suffix.contains('*') {
        return Err(PatternError::MultipleWildcards {
            pattern: s.to_owned(),
            label: label.to_owned(),
        });
    }
    let ldh = |part: &str| part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    // A matched label would start or end with the hyphen, which no target host has.
    if !ldh(prefix)
        || !ldh(suffix)
        || prefix.starts_with('-')
        || suffix.ends_with('-')
        || label.len() > 63
    {
        return Err(PatternError::InvalidWildcardLabel {
            pattern: s.to_owned(),
            label: label.to_owned(),
        });
    }
    Ok(Label::Wildcard {
        prefix: prefix.to_ascii_lowercase(),
        suffix: suffix.to_ascii_lowercase(),
    })
}

/// Where a pattern's host sits relative to its public suffix.
struct SuffixLayout {
    /// Index of the first label of the public suffix.
    suffix_start: usize,
    /// Whether the suffix is in the list's private section (a platform such as
    /// vercel.app) rather than a registry's.
    platform: bool,
}

fn suffix_layout(labels: &[Label]) -> SuffixLayout {
    let name: Vec<&str> = labels.iter().map(Label::for_psl).collect();
    let name = name.join(".");
    let (suffix_labels, platform) = match psl::List.suffix(name.as_bytes()) {
        Some(s) => (
            s.as_bytes().split(|b| *b == b'.').count(),
            s.typ() == Some(psl::Type::Private),
        ),
        // No answer at all: take the last label, as the list's default rule does.
        None => (1, false),
    };
    SuffixLayout {
        suffix_start: labels.len().saturating_sub(suffix_labels),
        platform,
    }
}

fn check_public_suffix(
    labels: &[Label],
    scheme: Scheme,
    port: PortRule,
    s: &str,
) -> Result<(), PatternError> {
    if !labels.iter().any(Label::is_wildcard) {
        return Ok(());
    }
    let SuffixLayout {
        suffix_start,
        platform,
    } = suffix_layout(labels);
    let suffix_part = labels.get(suffix_start..).unwrap_or_default();
    let in_suffix = suffix_part.iter().any(Label::is_wildcard);
    let registrable = suffix_start.checked_sub(1).and_then(|i| labels.get(i));
    // Under a registry's suffix even a partial wildcard (`x*.com`) matches names anyone
    // can register; under a platform's (`myapp-*-acme.vercel.app`) it is allowed, with a
    // warning, because the platform's naming scheme scopes it.
    let bare_registrable =
        registrable.is_some_and(|l| l.is_bare_wildcard() || (l.is_wildcard() && !platform));
    if !in_suffix && !bare_registrable {
        return Ok(());
    }
    let suffix = join_labels(suffix_part);
    let scoped = if platform {
        "myapp-*-yourteam"
    } else {
        "yourcompany"
    };
    let mut suggested: Vec<String> = Vec::with_capacity(labels.len() + 1);
    for (i, label) in labels.iter().enumerate() {
        if i + 1 == suffix_start && label.is_wildcard() && !label.is_bare_wildcard() && !platform {
            // `x*.com` becomes `x*.yourcompany.com`.
            suggested.push(label.to_string());
            suggested.push(scoped.to_owned());
        } else if i + 1 == suffix_start && label.is_bare_wildcard() {
            // `*.com` becomes `*.yourcompany.com`: keep the subdomain wildcard the
            // operator meant, under a name they own.
            if i == 0 && !platform {
                suggested.push("*".to_owned());
            }
            suggested.push(scoped.to_owned());
        } else if i >= suffix_start && label.is_wildcard() {
            suggested.push("yourname".to_owned());
        } else {
            suggested.push(label.to_string());
        }
    }
    let host = suggested.join(".");
    let suggestion = format!("{}://{}{}", scheme.as_str(), host, port_suffix(port));
    Err(PatternError::PublicSuffixWildcard {
        pattern: s.to_owned(),
        suffix,
        suggestion,
        platform,
    })
}

fn join_labels(labels: &[Label]) -> String {
    labels
        .iter()
        .map(Label::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn port_suffix(port: PortRule) -> String {
    match port {
        PortRule::Default => String::new(),
        PortRule::Exact(p) => format!(":{p}"),
        PortRule::Any => ":*".to_owned(),
    }
}

fn canonical_string(scheme: Scheme, host: &HostPattern, port: PortRule) -> String {
    let host = match host {
        HostPattern::Domain(labels) => join_labels(labels),
        HostPattern::Ipv4(a) => a.to_string(),
        HostPattern::Ipv6(a) => format!("[{a}]"),
    };
    format!("{}://{}{}", scheme.as_str(), host, port_suffix(port))
}

impl HostPattern {
    fn is_loopback(&self) -> bool {
        match self {
            HostPattern::Domain(labels) => {
                matches!(labels.as_slice(), [Label::Exact(l)] if l == "localhost")
            }
            HostPattern::Ipv4(a) => a.is_loopback(),
            HostPattern::Ipv6(a) => *a == Ipv6Addr::LOCALHOST,
        }
    }

    fn matches(&self, host: Option<Host<&str>>) -> bool {
        match (self, host) {
            (HostPattern::Domain(labels), Some(Host::Domain(d))) => {
                let mut target = d.split('.');
                let mut pattern = labels.iter();
                loop {
                    match (pattern.next(), target.next()) {
                        (None, None) => return true,
                        (Some(p), Some(t)) if p.matches(t) => {}
                        _ => return false,
                    }
                }
            }
            (HostPattern::Ipv4(a), Some(Host::Ipv4(b))) => *a == b,
            (HostPattern::Ipv6(a), Some(Host::Ipv6(b))) => *a == b,
            _ => false,
        }
    }
}

impl OriginPattern {
    /// Whether `target`'s scheme, host (label by label, same number of labels) and port
    /// satisfy this pattern.
    pub fn matches(&self, target: &Target) -> bool {
        let port = target.port_or_default();
        let port_ok = match self.port {
            PortRule::Default => port == self.scheme.default_port(),
            PortRule::Exact(p) => port == p,
            PortRule::Any => true,
        };
        port_ok && target.scheme() == self.scheme.as_str() && self.host.matches(target.url().host())
    }

    /// The canonical form: lowercase, punycode, no default port (`https://*.preview.acme.dev`,
    /// `http://[::1]:3000`, `https://xn--bcher-kva.example:*`).
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// Whether the host has a `*`. (A `:*` port does not count: see [`any_port`].)
    ///
    /// [`any_port`]: OriginPattern::any_port
    pub fn has_wildcard(&self) -> bool {
        matches!(&self.host, HostPattern::Domain(labels) if labels.iter().any(Label::is_wildcard))
    }

    /// Whether the pattern allows any port (`:*`).
    pub fn any_port(&self) -> bool {
        self.port == PortRule::Any
    }

    /// Whether the host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        self.host.is_loopback()
    }

    /// The warnings that apply to this pattern alone; `production` says whether the
    /// allowlist it belongs to also has non-loopback origins.
    fn warnings(&self, production: bool) -> Vec<String> {
        let mut out = Vec::new();
        let p = &self.canonical;
        if let HostPattern::Domain(labels) = &self.host {
            if labels.iter().any(Label::is_wildcard) {
                let SuffixLayout {
                    suffix_start,
                    platform,
                } = suffix_layout(labels);
                let registrable_index = suffix_start.checked_sub(1);
                let suffix = join_labels(labels.get(suffix_start..).unwrap_or_default());
                if let Some(label) = registrable_index
                    .and_then(|i| labels.get(i))
                    .filter(|l| l.is_wildcard())
                {
                    let example = label.to_string().replacen('*', "evil", 1);
                    let (who, act) = if platform {
                        ("anyone can deploy", "deploys a project whose name matches")
                    } else {
                        ("anyone can register names", "registers a domain matching")
                    };
                    out.push(format!(
                        "`{p}`: the `*` is in the name directly under the public suffix {suffix}, where {who}; \
                         an attacker who {act} `{label}.{suffix}` (e.g. `{example}.{suffix}`) would receive sign-ins. \
                         Keep the fixed parts specific to you, or use a domain you own (e.g. `https://*.preview.yourcompany.com`)"
                    ));
                }
            }
        }
        let loopback = self.host.is_loopback();
        if self.port == PortRule::Any && (!loopback || production) {
            let pinned = p.strip_suffix(":*").unwrap_or(p);
            let whom = if loopback {
                "any program on a user's machine"
            } else {
                "any other service on the matching hosts"
            };
            out.push(format!(
                "`{p}` accepts every port, so {whom} listening on another port could receive sign-ins; pin the port, e.g. `{pinned}:3000`"
            ));
        }
        if self.scheme == Scheme::Http && production {
            out.push(format!(
                "`{p}` allows plain-http loopback callbacks next to public origins; that is for local development, \
                 remove it from a production relay (any program on a user's machine listening there could receive their sign-in code)"
            ));
        }
        out
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// The parsed `AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS`: a target is allowed when any pattern
/// matches it. Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowlist(Vec<OriginPattern>);

impl Allowlist {
    /// Parses a comma-separated list of patterns. Whitespace around each item is trimmed;
    /// an empty item or an empty list is refused (there is no allow-all), and so is the
    /// whole list when any pattern is refused.
    pub fn parse(list: &str) -> Result<Allowlist, PatternError> {
        if list.trim().is_empty() {
            return Err(PatternError::EmptyList);
        }
        let mut patterns = Vec::new();
        for (i, item) in list.split(',').enumerate() {
            let item = item.trim();
            if item.is_empty() {
                return Err(PatternError::EmptyItem { position: i + 1 });
            }
            patterns.push(item.parse()?);
        }
        Ok(Allowlist(patterns))
    }

    /// Whether any pattern matches `target`.
    pub fn matches(&self, target: &Target) -> bool {
        self.0.iter().any(|p| p.matches(target))
    }

    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[OriginPattern] {
        &self.0
    }

    /// Warnings for `authrelay check` about patterns that are allowed but risky: a `*`
    /// in the registrable name on a public suffix (`https://myapp-*-acme.vercel.app`:
    /// anyone who can deploy a matching name gets sign-ins), `:*` ports, plain-http loopback patterns next to public origins (what looks like
    /// production), and duplicates.
    pub fn warnings(&self) -> Vec<String> {
        let production = self.0.iter().any(|p| !p.is_loopback());
        let mut out = Vec::new();
        for (i, p) in self.0.iter().enumerate() {
            if self.0.iter().take(i).any(|q| q.canonical == p.canonical) {
                out.push(format!("`{p}` is listed more than once"));
                continue;
            }
            out.extend(p.warnings(production));
        }
        out
    }
}

impl FromStr for Allowlist {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Allowlist::parse(s)
    }
}

impl fmt::Display for Allowlist {
    /// The canonical patterns, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for p in &self.0 {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(p.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
}
