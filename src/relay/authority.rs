//! Whether a target is the relay itself: on `AUTH_URL`'s host and port, or on the host
//! the request was addressed to.

use std::cell::RefCell;

use authrelay_client::target::Target;
use url::Url;

use crate::config::is_loopback_host;
use crate::recent::Recent;

/// Whether the target is on the relay's own host and port: `AUTH_URL`'s, or the one the
/// request was addressed to. Schemes are not compared: one host and port serve one
/// scheme, and a relay behind a TLS proxy sees plain HTTP.
pub(super) fn is_relay_authority(
    target: &Target,
    public_url: &Url,
    request_host: Option<&str>,
) -> bool {
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
/// the same few `Host` values, so each worker thread remembers the last one it parsed
/// (a URL parse per request is about a fifth of a native decision).
fn with_parsed_authority<R>(authority: &str, f: impl FnOnce(&ParsedAuthority) -> R) -> R {
    thread_local! {
        static LAST: RefCell<Recent<(String, ParsedAuthority), 1>> = const { RefCell::new(Recent::new()) };
    }
    // Longer values are parsed every time rather than kept.
    const MAX_CACHED: usize = 256;
    LAST.with_borrow_mut(|last| {
        if let Some((_, parsed)) = last.find(|(raw, _)| raw == authority) {
            return f(parsed);
        }
        let parsed = parse_authority(authority);
        let r = f(&parsed);
        if authority.len() <= MAX_CACHED {
            last.keep((authority.to_owned(), parsed));
        }
        r
    })
}

/// The host a request was addressed to, as far as the relay may believe it: the first
/// `X-Forwarded-Host` value with `AUTH_TRUST_HOST`, else `Host`.
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

#[cfg(test)]
mod tests {
    use super::*;

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
