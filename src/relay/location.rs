//! The `Location` of a redirect: the target with the callback's query appended.

use std::borrow::Cow;

use authrelay_client::target::Target;

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
pub(super) fn location(target: &Target, query: &str) -> String {
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
    // the url crate builds it.
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
    use super::*;

    const TARGET: &str = "https://pr-3.preview.example.com/api/auth/callback/github";

    #[test]
    fn the_location_is_what_the_url_crate_would_serialize() {
        // The url crate's own construction: clone the URL, set the combined query.
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
}
