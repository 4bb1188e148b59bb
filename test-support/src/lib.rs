//! What the API tests and the fuzz targets share: the allowlist they configure the relay
//! with, a model of it written by hand (independent of the relay's own pattern rules), the
//! check that a string is fit for a `Location` header, and a native-state signer that signs
//! any target bytes, so that targets the client library refuses to sign can still reach the
//! relay validly signed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The allowlist the tests and fuzz targets give the relay; [`allowed`] is the same, by hand.
pub const ALLOWED: &str =
    "https://*.preview.example.com,https://app.example.com,http://localhost:*";

/// [`ALLOWED`], by hand: `https` to `app.example.com` or to one label under
/// `preview.example.com` on the default port, or `http` to `localhost` on any port.
pub fn allowed(url: &url::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    match url.scheme() {
        "https" => {
            url.port().is_none()
                && (host == "app.example.com"
                    || (labels.len() == 4
                        && !labels[0].is_empty()
                        && labels[1..] == ["preview", "example", "com"]))
        }
        "http" => host == "localhost",
        _ => false,
    }
}

/// Whether bytes are fit for a `Location` header or a form action: printable ASCII only,
/// so no CR, LF, NUL, space or other control byte, no DEL and nothing above 0x7e.
pub fn printable(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| (0x21..0x7f).contains(b))
}

/// A native state around any target bytes, signed by hand from the format spec with the
/// keys derived from `secret`, issued at `iat` and valid for `ttl` seconds (the expiry
/// saturates rather than wraps).
pub fn sign_native_raw(secret: &str, target: &[u8], iat: u64, ttl: u64) -> String {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"authrelay"), secret.as_bytes());
    let mut mac_key = [0u8; 32];
    let mut kid = [0u8; 4];
    hk.expand(b"authrelay native state v1 mac key", &mut mac_key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    hk.expand(b"authrelay native state v1 key id", &mut kid)
        .expect("4 bytes is a valid HKDF-SHA256 output length");
    let mut body = vec![1u8];
    body.extend_from_slice(&kid);
    body.extend_from_slice(&iat.to_be_bytes());
    body.extend_from_slice(&iat.saturating_add(ttl).to_be_bytes());
    body.extend_from_slice(&[3u8; 16]);
    body.extend_from_slice(target);
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key).expect("HMAC takes any key length");
    mac.update(b"authrelay-state-v1\0");
    mac.update(&body);
    body.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn the_model_allows_exactly_the_three_patterns() {
        for yes in [
            "https://app.example.com/cb",
            "https://pr-1.preview.example.com/cb",
            "http://localhost:3000/cb",
            "http://localhost/cb",
        ] {
            assert!(allowed(&url(yes)), "{yes}");
        }
        for no in [
            "http://app.example.com/cb",
            "https://app.example.com:444/cb",
            "https://preview.example.com/cb",
            "https://a.b.preview.example.com/cb",
            "https://localhost/cb",
            "https://evil.example.net/cb",
            "javascript://app.example.com/cb",
        ] {
            assert!(!allowed(&url(no)), "{no}");
        }
    }

    #[test]
    fn printable_refuses_controls_space_del_and_non_ascii() {
        assert!(printable(b"https://a.example/?q=%0D"));
        for bad in [&b"a b"[..], b"a\r\n", b"a\0", b"a\x7f", "é".as_bytes()] {
            assert!(!printable(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_raw_state_carries_its_target_and_times_and_never_wraps_its_expiry() {
        let raw = URL_SAFE_NO_PAD
            .decode(sign_native_raw("s", b"\xfftarget", 10, u64::MAX))
            .unwrap();
        assert_eq!(raw[0], 1);
        assert_eq!(raw[5..13], 10u64.to_be_bytes());
        assert_eq!(raw[13..21], u64::MAX.to_be_bytes());
        assert_eq!(&raw[37..raw.len() - 32], b"\xfftarget");
    }
}
