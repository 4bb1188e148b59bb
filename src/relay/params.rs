//! The callback's parameters: a query string or a form body, decoded strictly.

use std::borrow::Cow;

use percent_encoding::percent_decode;

use super::Refusal;

/// The longest query string or form body looked at, in bytes.
pub const MAX_PARAMS_LEN: usize = 16 * 1024;
/// The most parameters a callback may carry.
pub const MAX_PARAMS: usize = 64;

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
    for pair in segments(raw) {
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

/// The non-empty `&`-separated segments of a query or form body, raw: one per
/// parameter [`parse_params`] returns, in the same order.
pub fn segments(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    raw.split(|&b| b == b'&').filter(|s| !s.is_empty())
}

/// Characters a form-encoded component keeps as they are: ASCII letters and digits and
/// `-._~`.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value encoded for a query: every byte but ASCII letters, digits and `-._~` as a
/// percent escape.
pub fn encode_component(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, COMPONENT).to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
