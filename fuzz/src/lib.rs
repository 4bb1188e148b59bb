//! What the fuzz targets share: the secrets, the relay configuration, state makers that
//! sign any bytes, and a hand-written model of the allowlist to check answers against.

use std::sync::LazyLock;

use authrelay::config::Config;
use authrelay_client::authjs::{self, AuthJsClaims, AuthJsKey};
use authrelay_client::keyring::Keyring;
use authrelay_client::native::NativeKey;
use authrelay_client::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The newest secret (what seeds are signed with).
pub const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789";
/// An older rotation secret.
pub const OLD_SECRET: &str = "fuzz-old-secret-0123456789abcdef012345";
/// The relay's public URL.
pub const PUBLIC_URL: &str = "https://auth.example.test/api/auth";
/// The allowlist; [`allowed`] is the same, by hand.
pub const ALLOWED: &str =
    "https://*.preview.example.com,https://app.example.com,http://localhost:*";
/// The clock the fuzz targets run at.
pub const NOW: u64 = 1_800_000_000;

/// The relay configuration, built once.
pub static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_vars(
        [
            ("AUTH_SECRET", SECRET),
            ("AUTH_SECRET_1", OLD_SECRET),
            ("AUTH_URL", PUBLIC_URL),
            ("AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS", ALLOWED),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .expect("the fuzz configuration is valid")
});

/// Both secrets' keys (newest first), built once.
pub static KEYRING: LazyLock<Keyring> = LazyLock::new(|| {
    Keyring::new(&[
        Secret::new(SECRET).unwrap(),
        Secret::new(OLD_SECRET).unwrap(),
    ])
});

/// The native keys, newest first.
pub static NATIVE_KEYS: LazyLock<Vec<NativeKey>> = LazyLock::new(|| KEYRING.native_keys().to_vec());

/// The Auth.js keys, newest first.
pub static AUTHJS_KEYS: LazyLock<Vec<AuthJsKey>> = LazyLock::new(|| KEYRING.authjs_keys().to_vec());

/// A native state around any target bytes, signed by hand from the format spec with
/// [`SECRET`], issued at `iat`, valid for `ttl` seconds.
pub fn native_state(target: &[u8], iat: u64, ttl: u64) -> String {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"authrelay"), SECRET.as_bytes());
    let mut mac_key = [0u8; 32];
    let mut kid = [0u8; 4];
    hk.expand(b"authrelay native state v1 mac key", &mut mac_key)
        .unwrap();
    hk.expand(b"authrelay native state v1 key id", &mut kid)
        .unwrap();
    let mut body = vec![1u8];
    body.extend_from_slice(&kid);
    body.extend_from_slice(&iat.to_be_bytes());
    body.extend_from_slice(&iat.saturating_add(ttl).to_be_bytes());
    body.extend_from_slice(&[3u8; 16]);
    body.extend_from_slice(target);
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key).unwrap();
    mac.update(b"authrelay-state-v1\0");
    mac.update(&body);
    body.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(body)
}

/// An Auth.js state with any origin, made deterministically (fixed IV and random fields).
pub fn authjs_state(origin: &str, iat: u64, ttl: u64) -> String {
    let claims = AuthJsClaims {
        origin: origin.to_owned(),
        random: Some("fuzz".to_owned()),
        iat: Some(iat),
        exp: Some(iat.saturating_add(ttl)),
        nbf: None,
        jti: Some("00000000-0000-4000-8000-000000000000".to_owned()),
    };
    let json = serde_json::to_vec(&claims).unwrap();
    authjs::encrypt_with_iv(&AUTHJS_KEYS[0], &json, [7; 16])
}

/// [`ALLOWED`], by hand, independently of the relay's rules.
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

/// Asserts a string is fit for a `Location` header or a form action: printable ASCII
/// with no CR, LF, NUL or anything below 0x21, and no DEL.
pub fn assert_printable(s: &str) {
    assert!(
        s.bytes().all(|b| (0x21..0x7f).contains(&b)),
        "unprintable byte in {s:?}"
    );
}
