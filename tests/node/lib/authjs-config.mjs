// The Auth.js configuration every preview in the tests shares: the one generic OIDC
// provider ("mock", registered with the relay's callback) and the callbacks that put the
// provider's subject into the session as `user.sub` (Auth.js's own `token.sub` is a random
// id it makes), so a test can tell the preview really exchanged the code at the provider.
//
// Plain JavaScript with no imports: the previews load it next to whichever Auth.js
// version they run.

export const PROVIDER_ID = "mock";

/** The mock OpenID Connect provider at `issuer`, as Auth.js's `providers` entry. */
export function mockOidcProvider({ issuer, clientId, clientSecret }) {
  return {
    id: PROVIDER_ID,
    name: "Mock OIDC",
    type: "oidc",
    issuer,
    clientId,
    clientSecret,
  };
}

/** Auth.js `callbacks` that carry the provider's subject into the session as `user.sub`. */
export function providerSubCallbacks() {
  return {
    jwt({ token, profile }) {
      if (profile?.sub) token.providerSub = profile.sub;
      return token;
    },
    session({ session, token }) {
      if (session.user) session.user.sub = token.providerSub;
      return session;
    },
  };
}
