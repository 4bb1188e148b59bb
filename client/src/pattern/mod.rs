//! The operator's allowlist, `AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS`: which origins the
//! relay may send a browser to (the allowlist half of lock 2, "the target is allowed", in
//! `docs/security.md`; the URL rules are [`crate::target`]).
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
//!
//! This module holds [`OriginPattern`], [`Allowlist`] and matching; `parse` turns one
//! pattern into its canonical form, `public_suffix` applies the public-suffix rule, and
//! `error` is [`PatternError`] with its messages.

mod error;
mod parse;
mod public_suffix;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use url::Host;

use crate::target::Target;

pub use error::PatternError;
use public_suffix::registrable_wildcard_warning;

/// Stands for a wildcard label when asking the Public Suffix List or the IDNA mapping
/// about a pattern's host. It matches no explicit rule, so the list answers for "some
/// label", and a list wildcard rule (`*.ck`) still catches it.
const PLACEHOLDER: &str = "authrelay-wildcard-placeholder";

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
            out.extend(registrable_wildcard_warning(p, labels));
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
