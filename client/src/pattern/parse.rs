//! Parsing one origin pattern into its canonical form.

use std::str::FromStr;

use url::Host;

use super::public_suffix::check_public_suffix;
use super::{
    join_labels, port_suffix, HostPattern, Label, OriginPattern, PatternError, PortRule, Scheme,
    PLACEHOLDER,
};
use crate::target::is_ldh_label;

impl FromStr for OriginPattern {
    type Err = PatternError;

    /// Parses one pattern. Surrounding whitespace is not trimmed here (it is refused);
    /// [`Allowlist::parse`](super::Allowlist::parse) trims each item.
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

fn canonical_string(scheme: Scheme, host: &HostPattern, port: PortRule) -> String {
    let host = match host {
        HostPattern::Domain(labels) => join_labels(labels),
        HostPattern::Ipv4(a) => a.to_string(),
        HostPattern::Ipv6(a) => format!("[{a}]"),
    };
    format!("{}://{}{}", scheme.as_str(), host, port_suffix(port))
}
