//! authrelay-client: the state formats, signing and target rules shared by authrelay
//! and the previews that use it.
// (crate docs are written in full once the modules land)

pub mod authjs;
pub mod keyring;
pub mod native;
pub mod pattern;
pub mod preview;
pub mod secret;
pub mod target;

pub use secret::{Secret, SecretError};

/// Fills an array from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is unrecoverable and never caused by input.
    getrandom::fill(&mut buf).expect("the operating system's random source is unavailable");
    buf
}
