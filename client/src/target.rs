//! Callback targets: the URL rules a preview's callback must pass before the relay sends a
//! browser to it (the URL half of lock 2, "the target is allowed", in `docs/security.md`;
//! the operator's allowlist is [`crate::pattern`]).
//!
//! A [`Target`] exists only when the raw string passed every rule below, checked in this
//! order (the first failure is the reported [`TargetError`]):
//!
//! - at most [`MAX_TARGET_LEN`] bytes, and not empty;
//! - printable ASCII only: no control characters (CR, LF, TAB, NUL…), spaces, DEL,
//!   backslashes or non-ASCII characters — IDN hosts must be written in punycode;
//! - no fragment (no `#` at all);
//! - absolute, with the scheme `https`, or `http` only for a loopback host (`localhost`,
//!   `127.0.0.0/8`, `[::1]`); no `javascript:`, `data:`, `ftp:`, protocol-relative `//host`…;
//! - no user-info (`user@`, `user:pass@`, or even a bare `@` before the host);
//! - the host is a DNS name made of letter/digit/hyphen labels (no empty label, no label
//!   starting or ending with `-`, no trailing dot) or an IP address; no IPv6 zone id; no
//!   port 0 and none above 65535;
//! - in the path: no encoded `/`, `\`, `.`, `%` or NUL (`%2f %5c %2e %25 %00`, any case),
//!   no `.` or `..` segment and no empty segment (`//`);
//! - the raw string is exactly the `url` crate's serialization of itself;
//! - a query, if there is one, is plain: see [below](#the-query).
//!
//! The last rule is the main defence against parser differentials: whatever the `url`
//! crate would have rewritten (uppercase, IPv4 in octal/hex/decimal, a default port written
//! out, stripped tabs and newlines, resolved dot segments, characters it percent-encodes…)
//! is refused instead of being normalised, so the string that was signed, the string that
//! was checked against the allowlist and the `Location` the browser follows are the same
//! bytes. A query is allowed and kept when the relay forwards; a fragment is not.
//!
//! # The query
//!
//! The relay appends the provider's parameters after a target's own query, so a target's
//! query must not be readable, by any parser a preview may use, as holding a callback
//! parameter ([`CALLBACK_PARAMS`]): the preview would see two `code`s and might take the
//! one the state's signer put there. Parsers disagree on what a query holds (WHATWG
//! splits on `&` only; legacy Go and Python also split on `;`; PHP turns ` `, `.` and `[`
//! in a name into `_` and reads `code[]` as `code`; Rack reads `code[]` as `code` too;
//! some decode `+` and `%XX` in names, some stop a name at NUL), so the rule allows only
//! what every one of them reads the same way. A query is empty (`?`) or
//! `name=value` pairs joined by `&`, where:
//!
//! - there is no `;` anywhere in the query ([`TargetError::QuerySemicolon`]);
//! - every pair has a `=` and a name of one or more ASCII letters, digits, `-` and `_`,
//!   nothing else: no `%`, `+`, `.`, `[`, `]`, space… and no empty pair (`&&`, a trailing
//!   `&`) ([`TargetError::QueryName`]);
//! - no name is a callback parameter, compared case-insensitively
//!   ([`TargetError::QueryCallbackParam`]).
//!
//! A value may hold anything else the canonical form allows, percent-escapes included:
//! every parser splits the pairs before it decodes them.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use url::{Host, Url};

/// The longest callback URL accepted, in bytes. Checked before anything else, so that no
/// parser ever sees a longer input.
pub const MAX_TARGET_LEN: usize = 1024;

/// Longest DNS name (RFC 1035, without the trailing dot) and label.
const MAX_HOST_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// The parameters a provider may send to a callback. A target's own query never names
/// one, in any case (see [the query rule](crate::target#the-query)).
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

/// Longest provider id accepted by [`is_valid_provider_id`].
pub const MAX_PROVIDER_ID_LEN: usize = 64;

/// A callback URL that passed every URL rule of this module (not the allowlist: see
/// [`crate::pattern::Allowlist`]).
///
/// Parse, don't validate: the only constructor is [`Target::parse`], so holding a `Target`
/// proves the rules were checked, and its string form is exactly the string that was
/// checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    url: Url,
}

/// Why a string is not an acceptable callback URL.
///
/// `Display` gives a short reason in plain words that never repeats the input: these
/// reasons end up on refusal pages, and the input is attacker-controlled. [`code`]
/// gives a stable snake_case code for logs, metrics and JSON.
///
/// [`code`]: TargetError::code
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The string is empty.
    #[error("the callback URL is empty")]
    Empty,
    /// The string is longer than [`MAX_TARGET_LEN`] bytes.
    #[error("the callback URL is longer than {MAX_TARGET_LEN} bytes")]
    TooLong,
    /// A control character, space, DEL, backslash or non-ASCII character.
    #[error(
        "the callback URL contains a space, control character, backslash or non-ASCII character"
    )]
    ForbiddenCharacter,
    /// A `#` fragment, even an empty one.
    #[error("the callback URL has a fragment (#)")]
    Fragment,
    /// Not an absolute URL (a path, a protocol-relative `//host`, a bare host name…).
    #[error("the callback URL is not an absolute URL")]
    NotAbsolute,
    /// The URL parser refused it for a reason not covered by a more specific variant.
    #[error("the callback URL could not be parsed")]
    Unparseable,
    /// The scheme is neither `https` nor `http`.
    #[error("the callback URL's scheme is not https")]
    Scheme,
    /// `http` with a host that is not loopback.
    #[error(
        "the callback URL uses plain http for a host other than localhost, 127.0.0.0/8 or [::1]"
    )]
    HttpNotLoopback,
    /// A user name, password or bare `@` before the host.
    #[error("the callback URL has user information (an @ before the host)")]
    UserInfo,
    /// No host.
    #[error("the callback URL has no host")]
    NoHost,
    /// The host is not a valid DNS name or IP address.
    #[error("the callback URL's host is not a valid DNS name or IP address")]
    InvalidHost,
    /// The host name ends with a dot.
    #[error("the callback URL's host ends with a dot")]
    TrailingDot,
    /// An IPv6 address with a zone id (`%25eth0`).
    #[error("the callback URL's IPv6 host has a zone id")]
    Ipv6ZoneId,
    /// Port 0, or a port above 65535.
    #[error("the callback URL's port is not between 1 and 65535")]
    Port,
    /// `%2f`, `%5c`, `%2e`, `%25` or `%00` (any case) in the path.
    #[error(
        "the callback URL's path contains an encoded slash, backslash, dot, percent sign or NUL"
    )]
    EncodedSeparator,
    /// A `.` or `..` path segment.
    #[error("the callback URL's path contains a . or .. segment")]
    DotSegment,
    /// An empty path segment (`//`).
    #[error("the callback URL's path contains an empty segment (//)")]
    EmptySegment,
    /// The string differs from its canonical serialization.
    #[error("the callback URL is not in canonical form (lowercase host, no default port, nothing a URL parser would rewrite)")]
    NotCanonical,
    /// A `;` in the query, which some parsers read as a separator between pairs.
    #[error("the callback URL's query contains a semicolon")]
    QuerySemicolon,
    /// A part of the query that is not `name=value` with a name of ASCII letters, digits,
    /// `-` and `_` (an empty pair, a pair without `=`, an empty name, or a name with `%`,
    /// `+`, `.`, `[`, `]` or any other character).
    #[error(
        "the callback URL's query is not name=value pairs with names of letters, digits, - and _"
    )]
    QueryName,
    /// A name in the query is a callback parameter ([`CALLBACK_PARAMS`], any case).
    #[error("the callback URL's query carries a callback parameter such as code or state")]
    QueryCallbackParam,
}

impl TargetError {
    /// A stable snake_case code for this error (logs, metrics, JSON refusals).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::ForbiddenCharacter => "forbidden_character",
            Self::Fragment => "fragment",
            Self::NotAbsolute => "not_absolute",
            Self::Unparseable => "unparseable",
            Self::Scheme => "scheme",
            Self::HttpNotLoopback => "http_not_loopback",
            Self::UserInfo => "userinfo",
            Self::NoHost => "no_host",
            Self::InvalidHost => "invalid_host",
            Self::TrailingDot => "trailing_dot",
            Self::Ipv6ZoneId => "ipv6_zone_id",
            Self::Port => "port",
            Self::EncodedSeparator => "encoded_separator",
            Self::DotSegment => "dot_segment",
            Self::EmptySegment => "empty_segment",
            Self::NotCanonical => "not_canonical",
            Self::QuerySemicolon => "query_semicolon",
            Self::QueryName => "query_name",
            Self::QueryCallbackParam => "query_shadows_callback_params",
        }
    }
}

impl Target {
    /// Checks `raw` against every rule of this module (see the module docs) and keeps it.
    ///
    /// Never panics, whatever the input.
    pub fn parse(raw: &str) -> Result<Target, TargetError> {
        // Length first: nothing else, not even a scan for bad bytes, sees a huge input.
        if raw.len() > MAX_TARGET_LEN {
            return Err(TargetError::TooLong);
        }
        if raw.is_empty() {
            return Err(TargetError::Empty);
        }
        // The URL parser silently strips tabs and newlines and turns backslashes into
        // slashes; browsers and frameworks disagree on the rest. Refusing them outright
        // leaves nothing for parsers to disagree about.
        if raw.bytes().any(is_forbidden_byte) {
            return Err(TargetError::ForbiddenCharacter);
        }
        if raw.contains('#') {
            return Err(TargetError::Fragment);
        }
        check_scheme_prefix(raw)?;
        let parts = RawParts::split(raw);
        if let Some(p) = &parts {
            // A zone id names an interface on the relay's side of the network, never a
            // preview; the parser reports it only as a malformed address.
            if p.authority.contains('[') && p.authority.contains('%') {
                return Err(TargetError::Ipv6ZoneId);
            }
        }
        let url = Url::parse(raw).map_err(map_parse_error)?;
        let scheme = url.scheme();
        if scheme != "https" && scheme != "http" {
            return Err(TargetError::Scheme);
        }
        // The parser drops an empty user-info (`https://@host/`), so look at the raw
        // authority too; the canonical check would catch it, but not by name.
        let raw_at = parts.as_ref().is_some_and(|p| p.authority.contains('@'));
        if raw_at || !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::UserInfo);
        }
        let loopback = match url.host() {
            None => return Err(TargetError::NoHost),
            Some(Host::Domain(d)) => {
                check_domain(d)?;
                d == "localhost"
            }
            Some(Host::Ipv4(a)) => a.is_loopback(),
            Some(Host::Ipv6(a)) => a == Ipv6Addr::LOCALHOST,
        };
        if url.port() == Some(0) {
            return Err(TargetError::Port);
        }
        if scheme == "http" && !loopback {
            return Err(TargetError::HttpNotLoopback);
        }
        // The raw path gives the precise reason (the parser resolves `..` and `%2e`
        // before we could see them); the parsed path is checked too so the rules hold
        // for the URL we keep even if the raw split was not meaningful.
        if let Some(p) = &parts {
            check_path(p.path)?;
        }
        check_path(url.path())?;
        if url.as_str() != raw {
            return Err(TargetError::NotCanonical);
        }
        if let Some(query) = url.query() {
            check_query(query)?;
        }
        Ok(Target { url })
    }

    /// The URL, exactly as it was given (which is also its canonical form).
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        self.url.scheme()
    }

    /// The host: ASCII, lowercase, punycode for IDNs; an IPv6 address in brackets, as the
    /// `url` crate serializes it (`[::1]`).
    pub fn host(&self) -> &str {
        // Every Target has a host (checked in parse); "" is unreachable but not a panic.
        self.url.host_str().unwrap_or("")
    }

    /// The port, or the scheme's default port (443 for https, 80 for http) when none is
    /// written.
    pub fn port_or_default(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(0)
    }

    /// `scheme://host[:port]`, the `url` crate's ASCII serialization of the origin (no
    /// port when it is the scheme's default).
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// Whether the URL has a query (`?`, even an empty one). The relay keeps it and
    /// appends the callback parameters after it; the query passed
    /// [the query rule](crate::target#the-query).
    pub fn has_query(&self) -> bool {
        self.url.query().is_some()
    }

    /// `Some(id)` when the path ends in `/callback/<id>`: the last segment is a valid
    /// provider id (see [`is_valid_provider_id`]) and the segment before it is
    /// `callback`. `None` otherwise (including a trailing slash after the id).
    pub fn callback_provider(&self) -> Option<&str> {
        let mut segments = self.url.path_segments()?.rev();
        let id = segments.next()?;
        let parent = segments.next()?;
        (parent == "callback" && is_valid_provider_id(id)).then_some(id)
    }

    /// Whether scheme, host and port (defaults filled in) equal those of `other`, for
    /// instance the relay's own public URL. A trailing dot on `other`'s host is ignored,
    /// since it names the same host.
    pub fn same_origin_as(&self, other: &Url) -> bool {
        if self.url.scheme() != other.scheme()
            || self.url.port_or_known_default() != other.port_or_known_default()
        {
            return false;
        }
        match (self.url.host(), other.host()) {
            (Some(Host::Domain(a)), Some(Host::Domain(b))) => {
                let b = b.strip_suffix('.').unwrap_or(b);
                a.eq_ignore_ascii_case(b)
            }
            (Some(Host::Ipv4(a)), Some(Host::Ipv4(b))) => a == b,
            (Some(Host::Ipv6(a)), Some(Host::Ipv6(b))) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::parse(s)
    }
}

impl AsRef<str> for Target {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Whether `id` is a provider id as it appears in `…/callback/<id>`: 1 to
/// [`MAX_PROVIDER_ID_LEN`] characters of `A-Z a-z 0-9 _ -`, the first a letter or digit.
pub fn is_valid_provider_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok
        && id.len() <= MAX_PROVIDER_ID_LEN
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_forbidden_byte(b: u8) -> bool {
    // <= 0x20: C0 controls and space; 0x7f: DEL; >= 0x80: any non-ASCII (UTF-8) byte.
    b <= 0x20 || b == 0x7f || b >= 0x80 || b == b'\\'
}

/// Refuses strings without a scheme (`//evil.com`, `/path`, `evil.com`) and schemes other
/// than http(s), before the parser gives them a meaning of its own.
fn check_scheme_prefix(raw: &str) -> Result<(), TargetError> {
    let Some((scheme, _)) = raw.split_once(':') else {
        return Err(TargetError::NotAbsolute);
    };
    let mut bytes = scheme.bytes();
    let well_formed = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !well_formed {
        return Err(TargetError::NotAbsolute);
    }
    if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
        Ok(())
    } else {
        Err(TargetError::Scheme)
    }
}

/// The raw string cut where a canonical http(s) URL has its parts. Only meaningful when
/// the string is in that shape; anything else fails the canonical check later.
struct RawParts<'a> {
    authority: &'a str,
    path: &'a str,
}

impl<'a> RawParts<'a> {
    fn split(raw: &'a str) -> Option<Self> {
        let (_, rest) = raw.split_once("://")?;
        let (before_query, _) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at_checked(i)?,
            None => (before_query, ""),
        };
        Some(RawParts { authority, path })
    }
}

fn map_parse_error(e: url::ParseError) -> TargetError {
    use url::ParseError as E;
    match e {
        E::RelativeUrlWithoutBase | E::RelativeUrlWithCannotBeABaseBase => TargetError::NotAbsolute,
        E::EmptyHost => TargetError::NoHost,
        E::InvalidPort => TargetError::Port,
        E::IdnaError
        | E::InvalidIpv4Address
        | E::InvalidIpv6Address
        | E::InvalidDomainCharacter => TargetError::InvalidHost,
        _ => TargetError::Unparseable,
    }
}

/// The parser accepts far more than DNS names (`_`, `*`, `!`, empty labels, a trailing
/// dot). None of it is a real preview host, and `*` or empty labels would muddle
/// label-by-label allowlist matching, so only LDH labels pass.
fn check_domain(domain: &str) -> Result<(), TargetError> {
    if domain.ends_with('.') {
        return Err(TargetError::TrailingDot);
    }
    if domain.len() > MAX_HOST_LEN {
        return Err(TargetError::InvalidHost);
    }
    if is_ldh_name(domain) {
        Ok(())
    } else {
        Err(TargetError::InvalidHost)
    }
}

/// Whether every dot-separated label of `domain` is an LDH label: 1 to 63 bytes of
/// lowercase letters, digits and inner hyphens. One pass over the bytes, without a split
/// iterator, since every target's host goes through it (a property test checks it against
/// the label-by-label definition).
fn is_ldh_name(domain: &str) -> bool {
    let mut len = 0;
    let mut prev = b'.';
    for &b in domain.as_bytes() {
        if b == b'.' {
            if len == 0 || prev == b'-' {
                return false;
            }
            len = 0;
        } else {
            if !(b.is_ascii_lowercase() || b.is_ascii_digit() || (b == b'-' && len > 0)) {
                return false;
            }
            len += 1;
            if len > MAX_LABEL_LEN {
                return false;
            }
        }
        prev = b;
    }
    len > 0 && prev != b'-'
}

/// `parse(raw)`, accepted only when the target's string is `raw` itself. This always
/// holds for [`Target::parse`], which accepts nothing but its own canonical form; it keeps
/// a caller's parser (see `Keyring::verify_with`) from answering a verified state with a
/// target the state never carried.
pub(crate) fn parse_own(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<Target, TargetError>,
) -> Result<Target, TargetError> {
    let target = parse(raw)?;
    if target.as_str() == raw {
        Ok(target)
    } else {
        Err(TargetError::NotCanonical)
    }
}

/// A DNS label of lowercase letters, digits and inner hyphens, 1 to 63 bytes. The `url`
/// crate has already lowercased and punycoded the host.
pub(crate) fn is_ldh_label(label: &str) -> bool {
    !label.contains('.') && is_ldh_name(label)
}

fn check_path(path: &str) -> Result<(), TargetError> {
    // Servers and frameworks that decode before routing would see a different path than
    // the one checked; %25 is included because a second decode turns %252f into %2f.
    // Most paths have neither `%` nor `.`: one fast byte search each skips the scans.
    let encoded = path.contains('%')
        && path.as_bytes().windows(3).any(|w| match w {
            [b'%', hi, lo] => matches!(
                (hi.to_ascii_lowercase(), lo.to_ascii_lowercase()),
                (b'2', b'f') | (b'5', b'c') | (b'2', b'e') | (b'2', b'5') | (b'0', b'0')
            ),
            _ => false,
        });
    if encoded {
        return Err(TargetError::EncodedSeparator);
    }
    if path.contains('.') && path.split('/').any(|s| s == "." || s == "..") {
        return Err(TargetError::DotSegment);
    }
    if path.contains("//") {
        return Err(TargetError::EmptySegment);
    }
    Ok(())
}

/// Whether a query parameter's name, as written, reads the same to every parser: one or
/// more ASCII letters, digits, `-` and `_`, so no percent-escape, `+`, `.`, `[`, NUL or
/// anything else that some parsers decode, fold or cut. The relay's authorize route
/// holds the names of a request it forwards to the same rule.
pub fn is_plain_param_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// [The query rule](crate::target#the-query), on a query already in canonical form.
fn check_query(query: &str) -> Result<(), TargetError> {
    if query.is_empty() {
        return Ok(());
    }
    if query.contains(';') {
        return Err(TargetError::QuerySemicolon);
    }
    for pair in query.split('&') {
        let Some((name, _)) = pair.split_once('=') else {
            return Err(TargetError::QueryName);
        };
        if !is_plain_param_name(name.as_bytes()) {
            return Err(TargetError::QueryName);
        }
        if CALLBACK_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p)) {
            return Err(TargetError::QueryCallbackParam);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The LDH label rule written plainly, as the reference for the one-pass check.
    fn plain_ldh_label(label: &str) -> bool {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    proptest::proptest! {
        /// The one-pass checks say what the plain definition says, for names and labels.
        #[test]
        fn ldh_name_is_split_and_check(domain in "[a-z0-9.-]{0,80}|[a-zA-Z0-9._ -]{0,12}|([a-z]{1,64}\\.){1,3}[a-z-]{0,66}") {
            proptest::prop_assert_eq!(is_ldh_name(&domain), domain.split('.').all(plain_ldh_label), "{:?}", domain);
            proptest::prop_assert_eq!(is_ldh_label(&domain), plain_ldh_label(&domain), "{:?}", domain);
        }
    }

    fn code(raw: &str) -> &'static str {
        match Target::parse(raw) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn verdicts() {
        let long_ok = format!("https://a.example.com/{}", "x".repeat(MAX_TARGET_LEN - 22));
        let too_long = format!("https://a.example.com/{}", "x".repeat(MAX_TARGET_LEN - 21));
        assert_eq!(long_ok.len(), MAX_TARGET_LEN);
        let cases: &[(&str, &str)] = &[
            // accepted
            ("https://app.example.com/api/auth/callback/github", "ok"),
            ("https://app.example.com/", "ok"),
            ("https://app.example.com/cb?x=1&y=%2F", "ok"),
            ("https://app.example.com/cb?", "ok"),
            ("https://app.example.com:8443/cb", "ok"),
            ("https://app.example.com/a/", "ok"),
            ("https://xn--cme-5cd.com/cb", "ok"),
            ("https://1.2.3.4/cb", "ok"),
            ("https://[2001:db8::1]/cb", "ok"),
            ("http://localhost:3000/api/auth/callback/github", "ok"),
            ("http://localhost/cb", "ok"),
            ("http://127.0.0.1:3000/cb", "ok"),
            ("http://127.9.8.7/cb", "ok"),
            ("http://[::1]:3000/cb", "ok"),
            ("https://a.example.com/caf%C3%A9", "ok"),
            ("https://a.example.com/;x", "ok"),
            // empty, length
            ("", "empty"),
            (&too_long, "too_long"),
            // characters
            (" https://a.example.com/", "forbidden_character"),
            ("https://a.example.com/ ", "forbidden_character"),
            ("https://a.example.com/\t", "forbidden_character"),
            ("https://a.exa\tmple.com/", "forbidden_character"),
            (
                "https://a.example.com/\r\nLocation: https://evil.com/",
                "forbidden_character",
            ),
            ("https://a.example.com/\0", "forbidden_character"),
            ("https://a.example.com/\u{7f}", "forbidden_character"),
            ("https://a.example.com\\@evil.com/", "forbidden_character"),
            ("https:\\\\evil.com/", "forbidden_character"),
            ("https://аcme.com/", "forbidden_character"),
            ("https://ｅvil.com/", "forbidden_character"),
            ("https://straße.de/", "forbidden_character"),
            ("https://a.example.com/\u{200b}", "forbidden_character"),
            // fragment
            ("https://a.example.com/cb#", "fragment"),
            ("https://a.example.com/cb#x", "fragment"),
            ("https://evil.com#@a.example.com/", "fragment"),
            // not absolute
            ("//evil.com/", "not_absolute"),
            ("/api/auth/callback/github", "not_absolute"),
            ("evil.com", "not_absolute"),
            ("1https://a.example.com/", "not_absolute"),
            (":https://a.example.com/", "not_absolute"),
            // scheme
            ("javascript:alert(1)", "scheme"),
            ("JavaScript:alert(1)//https://a.example.com/", "scheme"),
            ("data:text/html,<script>alert(1)</script>", "scheme"),
            ("ftp://a.example.com/", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("ws://a.example.com/", "scheme"),
            ("httpx://a.example.com/", "scheme"),
            ("localhost:3000/cb", "scheme"),
            // http
            ("http://a.example.com/cb", "http_not_loopback"),
            ("http://localhost.evil.com/cb", "http_not_loopback"),
            ("http://10.0.0.1/cb", "http_not_loopback"),
            ("http://[::ffff:7f00:1]/cb", "http_not_loopback"),
            ("http://128.0.0.1/cb", "http_not_loopback"),
            // user-info
            ("https://user@a.example.com/", "userinfo"),
            ("https://user:pw@a.example.com/", "userinfo"),
            ("https://a.example.com@evil.com/", "userinfo"),
            ("https://@a.example.com/", "userinfo"),
            ("https://:@a.example.com/", "userinfo"),
            ("https:/user@a.example.com/", "userinfo"),
            // host
            ("https://a..example.com/", "invalid_host"),
            ("https://.a.example.com/", "invalid_host"),
            ("https://a_b.example.com/", "invalid_host"),
            ("https://a*b.example.com/", "invalid_host"),
            ("https://a,b.example.com/", "invalid_host"),
            ("https://-a.example.com/", "invalid_host"),
            ("https://a-.example.com/", "invalid_host"),
            ("https://xn--a.com/", "invalid_host"),
            ("https://x.1.2.3/", "invalid_host"),
            ("https://ex%00ample.com/", "invalid_host"),
            ("https://a.example.com<x/", "invalid_host"),
            ("https://a.example.com./", "trailing_dot"),
            ("http://localhost./cb", "trailing_dot"),
            ("http://[fe80::1%25eth0]/", "ipv6_zone_id"),
            ("http://[fe80::1%eth0]/", "ipv6_zone_id"),
            ("https://a.example.com:0/", "port"),
            ("https://a.example.com:65536/", "port"),
            ("https://a.example.com:99999999/", "port"),
            ("https:///", "no_host"),
            // path
            ("https://a.example.com/%2f%2fevil.com", "encoded_separator"),
            ("https://a.example.com/a%2Fb", "encoded_separator"),
            ("https://a.example.com/a%5cb", "encoded_separator"),
            ("https://a.example.com/%2e%2e/x", "encoded_separator"),
            ("https://a.example.com/%2E/x", "encoded_separator"),
            ("https://a.example.com/a%00", "encoded_separator"),
            ("https://a.example.com/a%252f", "encoded_separator"),
            ("https://a.example.com/a/../b", "dot_segment"),
            ("https://a.example.com/a/./b", "dot_segment"),
            ("https://a.example.com/..", "dot_segment"),
            ("https://a.example.com/.", "dot_segment"),
            ("https://a.example.com//evil.com", "empty_segment"),
            ("https://a.example.com/a//b", "empty_segment"),
            // canonical form
            ("https://A.example.com/", "not_canonical"),
            ("HTTPS://a.example.com/", "not_canonical"),
            ("https://XN--cme-5cd.com/", "not_canonical"),
            ("https://a.example.com", "not_canonical"),
            ("https://a.example.com?x=1", "not_canonical"),
            ("https://a.example.com:443/", "not_canonical"),
            ("http://localhost:80/", "not_canonical"),
            ("https://a.example.com:00443/", "not_canonical"),
            ("https://a.example.com:/x", "not_canonical"),
            ("https:a.example.com/", "not_canonical"),
            ("https:/a.example.com/", "not_canonical"),
            ("https:///a.example.com/", "not_canonical"),
            ("https:////evil.com/", "empty_segment"),
            ("http://0x7f.1/", "not_canonical"),
            ("http://2130706433/", "not_canonical"),
            ("http://0177.0.0.1/", "not_canonical"),
            ("http://127.1/", "not_canonical"),
            ("https://1.2.3.4./", "not_canonical"),
            ("http://[0:0::1]/", "not_canonical"),
            ("http://[::FFFF:127.0.0.1]/", "http_not_loopback"),
            ("https://a%2eexample.com/", "not_canonical"),
            ("https://%61.example.com/", "not_canonical"),
            ("https://a.example.com/\"x", "not_canonical"),
            ("https://a.example.com/{x}", "not_canonical"),
            ("https://a.example.com/<x>", "not_canonical"),
            ("https://a.example.com/cb?q='x", "not_canonical"),
            ("https://a.example.com/cb?q=\"x", "not_canonical"),
            // query: plain name=value pairs, no callback parameter
            ("https://a.example.com/cb?tenant=acme", "ok"),
            ("https://a.example.com/cb?app=1&x=2", "ok"),
            (
                "https://a.example.com/cb?a-b_C9=&next=/x?y=%3B%26code%3D1",
                "ok",
            ),
            ("https://a.example.com/cb?codes=1&my_state=2&code-x=3", "ok"),
            (
                "https://a.example.com/cb?x=1;code=INJECTED",
                "query_semicolon",
            ),
            ("https://a.example.com/cb?x=1;y=2", "query_semicolon"),
            ("https://a.example.com/cb?code=x;", "query_semicolon"),
            ("https://a.example.com/cb?code[]=x", "query_name"),
            ("https://a.example.com/cb?code%00=x", "query_name"),
            ("https://a.example.com/cb?+code=x", "query_name"),
            ("https://a.example.com/cb?code.=x", "query_name"),
            ("https://a.example.com/cb?x", "query_name"),
            ("https://a.example.com/cb?=x", "query_name"),
            ("https://a.example.com/cb?x=1&", "query_name"),
            ("https://a.example.com/cb?&x=1", "query_name"),
            (
                "https://a.example.com/cb?code=x",
                "query_shadows_callback_params",
            ),
            (
                "https://a.example.com/cb?x=1&STATE=2",
                "query_shadows_callback_params",
            ),
            (
                "https://a.example.com/cb?Id_Token=",
                "query_shadows_callback_params",
            ),
        ];
        let mut failures = Vec::new();
        for (raw, want) in cases {
            let got = code(raw);
            if got != *want {
                failures.push(format!("{raw:?}: want {want}, got {got}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert_eq!(code(&long_ok), "ok");
        assert!(cases.len() >= 100, "{}", cases.len());
    }

    #[test]
    fn length_is_checked_before_anything_else() {
        let huge = format!("javascript:{}", "\\".repeat(10_000));
        assert_eq!(Target::parse(&huge), Err(TargetError::TooLong));
        let huge_non_ascii = "é".repeat(MAX_TARGET_LEN);
        assert_eq!(Target::parse(&huge_non_ascii), Err(TargetError::TooLong));
    }

    #[test]
    fn every_forbidden_byte_is_refused_everywhere() {
        for b in (0u8..=0x20).chain([0x7f, b'\\']) {
            let c = char::from(b);
            for raw in [
                format!("{c}https://a.example.com/cb"),
                format!("https://a.example.com/cb{c}"),
                format!("https://a.exa{c}mple.com/cb"),
                format!("https://a.example.com/c{c}b?x=1"),
                format!("https://a.example.com/cb?x={c}"),
            ] {
                assert_eq!(
                    Target::parse(&raw),
                    Err(TargetError::ForbiddenCharacter),
                    "{raw:?}"
                );
            }
        }
    }

    #[test]
    fn accessors() {
        let t = Target::parse("https://app.example.com/api/auth/callback/github?x=1").unwrap();
        assert_eq!(
            t.as_str(),
            "https://app.example.com/api/auth/callback/github?x=1"
        );
        assert_eq!(t.to_string(), t.as_str());
        assert_eq!(t.scheme(), "https");
        assert_eq!(t.host(), "app.example.com");
        assert_eq!(t.port_or_default(), 443);
        assert_eq!(t.origin(), "https://app.example.com");
        assert!(t.has_query());
        assert_eq!(t.callback_provider(), Some("github"));
        assert_eq!(t.url().path(), "/api/auth/callback/github");

        let t = Target::parse("http://[::1]:3000/callback/google").unwrap();
        assert_eq!(t.host(), "[::1]");
        assert_eq!(t.port_or_default(), 3000);
        assert_eq!(t.origin(), "http://[::1]:3000");
        assert!(!t.has_query());
        assert_eq!(t.callback_provider(), Some("google"));

        let t = Target::parse("http://localhost/cb").unwrap();
        assert_eq!(t.port_or_default(), 80);
        assert_eq!(t.origin(), "http://localhost");
        assert_eq!(
            "https://a.example.com/"
                .parse::<Target>()
                .map(|t| t.host().to_owned()),
            Ok("a.example.com".into())
        );
    }

    #[test]
    fn callback_provider_needs_callback_then_a_valid_id_at_the_end() {
        let cases = [
            (
                "https://a.example.com/api/auth/callback/github",
                Some("github"),
            ),
            (
                "https://a.example.com/callback/azure-ad_b2c",
                Some("azure-ad_b2c"),
            ),
            (
                "https://a.example.com/callback/github?next=callback/x",
                Some("github"),
            ),
            ("https://a.example.com/callback/github/", None),
            ("https://a.example.com/callback/", None),
            ("https://a.example.com/callback", None),
            ("https://a.example.com/github", None),
            ("https://a.example.com/callbacks/github", None),
            ("https://a.example.com/Callback/github", None),
            ("https://a.example.com/callback/-x", None),
            ("https://a.example.com/callback/git%68ub", None),
            ("https://a.example.com/callback/github;x", None),
            ("https://a.example.com/", None),
        ];
        for (raw, want) in cases {
            let t = Target::parse(raw).unwrap();
            assert_eq!(t.callback_provider(), want, "{raw}");
        }
        let long = format!("https://a.example.com/callback/{}", "a".repeat(65));
        assert_eq!(Target::parse(&long).unwrap().callback_provider(), None);
    }

    #[test]
    fn provider_ids() {
        for ok in [
            "github",
            "google",
            "a",
            "0",
            "azure-ad",
            "azure_ad_b2c",
            "X1",
            &"a".repeat(64),
        ] {
            assert!(is_valid_provider_id(ok), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "_x",
            "a.b",
            "a/b",
            "a b",
            "gïthub",
            "a%2f",
            &"a".repeat(65),
            "a\0",
        ] {
            assert!(!is_valid_provider_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn same_origin() {
        let t = Target::parse("https://auth.example.com/api/auth/callback/github").unwrap();
        let yes = [
            "https://auth.example.com/api/auth",
            "https://AUTH.example.com:443/",
            "https://auth.example.com./x",
        ];
        for u in yes {
            assert!(t.same_origin_as(&Url::parse(u).unwrap()), "{u}");
        }
        let no = [
            "http://auth.example.com/",
            "https://auth.example.com:8443/",
            "https://example.com/",
            "https://a.auth.example.com/",
            "mailto:auth.example.com",
        ];
        for u in no {
            assert!(!t.same_origin_as(&Url::parse(u).unwrap()), "{u}");
        }
        let t = Target::parse("http://127.0.0.1:3000/cb").unwrap();
        assert!(t.same_origin_as(&Url::parse("http://127.0.0.1:3000/api/auth").unwrap()));
        assert!(!t.same_origin_as(&Url::parse("http://localhost:3000/").unwrap()));
        let t = Target::parse("http://[::1]:3000/cb").unwrap();
        assert!(t.same_origin_as(&Url::parse("http://[0::1]:3000/").unwrap()));
    }

    #[test]
    fn errors_never_echo_input_and_codes_are_unique() {
        let all = [
            TargetError::Empty,
            TargetError::TooLong,
            TargetError::ForbiddenCharacter,
            TargetError::Fragment,
            TargetError::NotAbsolute,
            TargetError::Unparseable,
            TargetError::Scheme,
            TargetError::HttpNotLoopback,
            TargetError::UserInfo,
            TargetError::NoHost,
            TargetError::InvalidHost,
            TargetError::TrailingDot,
            TargetError::Ipv6ZoneId,
            TargetError::Port,
            TargetError::EncodedSeparator,
            TargetError::DotSegment,
            TargetError::EmptySegment,
            TargetError::NotCanonical,
            TargetError::QuerySemicolon,
            TargetError::QueryName,
            TargetError::QueryCallbackParam,
        ];
        let mut codes: Vec<&str> = all.iter().map(TargetError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for e in all {
            let msg = e.to_string();
            assert!(
                msg.is_ascii() && !msg.contains('\n') && !msg.is_empty(),
                "{msg}"
            );
            assert!(e
                .code()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
        // The message for a hostile input is the fixed sentence, nothing of the input.
        let e = Target::parse("https://evil.example<script>/").unwrap_err();
        assert!(!e.to_string().contains("evil") && !e.to_string().contains("script"));
    }

    #[test]
    fn accepted_targets_are_their_own_serialization() {
        for raw in [
            "https://app.example.com/api/auth/callback/github",
            "http://[::1]:3000/cb?x=%20",
            "https://1.2.3.4:8443/x",
        ] {
            let t = Target::parse(raw).unwrap();
            assert_eq!(t.as_str(), raw);
            assert_eq!(Target::parse(t.as_str()), Ok(t.clone()));
        }
    }
}
