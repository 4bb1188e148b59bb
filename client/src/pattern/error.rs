//! [`PatternError`]: why an origin pattern or allowlist was refused, and the one-line
//! messages that name the pattern and say how to fix it.

/// Longest pattern shown back in an error message, in characters.
pub(super) const MAX_SHOWN: usize = 200;

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
