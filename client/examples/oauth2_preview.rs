//! Run: cargo run -p authrelay-client --example oauth2_preview
//!
//! A preview's sign-in start with the `oauth2` crate: the authorize URL goes to the
//! provider with the relay's `redirect_uri` and a state made by authrelay-client, passed
//! through oauth2's `CsrfToken`.

use authrelay_client::{Preview, Secret};
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope, TokenUrl};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = Secret::new(
        std::env::var("AUTH_SECRET")
            .unwrap_or_else(|_| "example-secret-example-secret-0000".to_owned()),
    )?;
    let relay = Preview::new("https://auth.example.com/api/auth", &secret)?;
    let sign_in = relay.sign_in(
        "github",
        "https://pr-42.preview.example.com/api/auth/callback/github",
    )?;

    let client = BasicClient::new(ClientId::new("my-client-id".to_owned()))
        .set_auth_uri(AuthUrl::new(
            "https://github.com/login/oauth/authorize".to_owned(),
        )?)
        .set_token_uri(TokenUrl::new(
            "https://github.com/login/oauth/access_token".to_owned(),
        )?)
        // The relay's callback, also used later for the code exchange.
        .set_redirect_uri(RedirectUrl::new(sign_in.redirect_uri.clone())?);

    let (pkce_challenge, _pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let state = sign_in.state.clone();
    let (authorize_url, csrf) = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scope(Scope::new("read:user".to_owned()))
        .set_pkce_challenge(pkce_challenge)
        .url();

    // Keep `csrf.secret()` (the state) and the PKCE verifier in the preview's cookie; on
    // the callback, compare the returned `state` with it before exchanging the code.
    assert_eq!(csrf.secret(), &sign_in.state);
    println!("redirect the browser to:\n{authorize_url}");
    Ok(())
}
