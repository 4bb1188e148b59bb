//! The public-suffix rule: a `*` may not cover a whole public suffix, nor, under a
//! registry's suffix, any part of the registrable name (see the module rules in
//! [`super`]).

use psl::Psl as _;

use super::{join_labels, port_suffix, Label, PatternError, PortRule, Scheme};

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

pub(super) fn check_public_suffix(
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

/// The warning for a pattern whose `*` is in the registrable name, directly under the
/// public suffix (allowed only under a platform's suffix, where the platform's naming
/// scheme scopes it): anyone who can deploy or register a matching name would receive
/// sign-ins. `p` is the canonical pattern.
pub(super) fn registrable_wildcard_warning(p: &str, labels: &[Label]) -> Option<String> {
    if !labels.iter().any(Label::is_wildcard) {
        return None;
    }
    let SuffixLayout {
        suffix_start,
        platform,
    } = suffix_layout(labels);
    let suffix = join_labels(labels.get(suffix_start..).unwrap_or_default());
    let label = suffix_start
        .checked_sub(1)
        .and_then(|i| labels.get(i))
        .filter(|l| l.is_wildcard())?;
    let example = label.to_string().replacen('*', "evil", 1);
    let (who, act) = if platform {
        ("anyone can deploy", "deploys a project whose name matches")
    } else {
        ("anyone can register names", "registers a domain matching")
    };
    Some(format!(
        "`{p}`: the `*` is in the name directly under the public suffix {suffix}, where {who}; \
         an attacker who {act} `{label}.{suffix}` (e.g. `{example}.{suffix}`) would receive sign-ins. \
         Keep the fixed parts specific to you, or use a domain you own (e.g. `https://*.preview.yourcompany.com`)"
    ))
}
