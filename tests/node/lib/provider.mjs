// A real OpenID Connect provider for the tests: oauth2-mock-server, with a signing key,
// discovery, /authorize, /token and an ID token that carries the test user.
//
//   const provider = await startProvider({ user: { sub, email, name } });
//   provider.issuer                 // http://127.0.0.3:<port>
//   provider.authorizeRequests      // the query of every /authorize request, in order
//   provider.failNextAuthorize({ error: "access_denied" })   // the next /authorize
//                                   // redirects back with this error instead of a code
//   await provider.stop();

import { setTimeout as sleep } from "node:timers/promises";

import { OAuth2Server } from "oauth2-mock-server";

export const CLIENT_ID = "authrelay-e2e";
export const CLIENT_SECRET = "authrelay-e2e-client-secret";

/**
 * Starts the provider on `host` and a free port.
 * With `sendIss` (default true) the authorization response carries `iss` (RFC 9207), so
 * the tests see the relay forward it.
 */
export async function startProvider({ host = "127.0.0.3", user, sendIss = true }) {
  const server = new OAuth2Server();
  await server.issuer.keys.generate("RS256");
  await server.start(0, host);
  // oauth2-mock-server names itself http://localhost:<port>, which is not where it
  // listens: name it by the address it is bound to.
  const issuer = `http://${host}:${server.address().port}`;
  server.issuer.url = issuer;
  const authorizeRequests = [];
  const authorizeRedirects = [];
  let nextFailure;

  // Both the access token and the ID token get the user's claims; Auth.js builds the
  // profile from the ID token's.
  server.service.on("beforeTokenSigning", (token) => {
    Object.assign(token.payload, { sub: user.sub, email: user.email, name: user.name });
  });
  server.service.on("beforeAuthorizeRedirect", (redirect, req) => {
    authorizeRequests.push(new URL(req.url, issuer).searchParams);
    const params = redirect.url.searchParams;
    if (nextFailure) {
      params.delete("code");
      for (const [k, v] of Object.entries(nextFailure)) params.set(k, v);
      nextFailure = undefined;
    }
    if (sendIss) params.set("iss", issuer);
    authorizeRedirects.push(redirect.url.href);
  });

  return {
    server,
    issuer,
    authorizeRequests,
    authorizeRedirects,
    failNextAuthorize(params) {
      nextFailure = params;
    },
    stop: () => Promise.race([server.stop().catch(() => {}), sleep(3000, undefined, { ref: false })]),
  };
}
