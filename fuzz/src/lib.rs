//! What the fuzz targets share: the secrets, the relay configuration, state makers that
//! sign any bytes, and the hand-written model of the allowlist (from
//! `authrelay-test-support`, which the API tests use too) to check answers against.

use std::sync::LazyLock;

use authrelay::config::Config;
use authrelay_client::authjs::{self, AuthJsClaims, AuthJsKey};
use authrelay_client::keyring::Keyring;
use authrelay_client::native::NativeKey;
use authrelay_client::Secret;
use authrelay_test_support::{printable, sign_native_raw};
/// The allowlist the relay is configured with, and its model by hand.
pub use authrelay_test_support::{allowed, ALLOWED};

/// The newest secret (what seeds are signed with).
pub const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789";
/// An older rotation secret.
pub const OLD_SECRET: &str = "fuzz-old-secret-0123456789abcdef012345";
/// The relay's public URL.
pub const PUBLIC_URL: &str = "https://auth.example.test/api/auth";
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
    sign_native_raw(SECRET, target, iat, ttl)
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

/// Asserts a string is fit for a `Location` header or a form action: printable ASCII
/// with no CR, LF, NUL or anything below 0x21, and no DEL.
pub fn assert_printable(s: &str) {
    assert!(printable(s.as_bytes()), "unprintable byte in {s:?}");
}
