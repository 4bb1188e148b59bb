// A real OpenID Connect provider for the tests: oauth2-mock-server, with a signing key,
// discovery, /authorize, /token and an ID token that carries the test user.
//
//   const provider = await startProvider({ user: { sub, email, name } });
//   provider.issuer                 // http://127.0.0.3:<port>
//   provider.authorizeRequests      // the query of every /authorize request, in order
//   provider.failNextAuthorize({ error: "access_denied" })   // the next /authorize
//                                   // redirects back with this error instead of a code
//   await provider.stop();
//
//   const front = await startFormPostAuthorize(provider);   // a form_post /authorize
//   front.authorizeUrl, front.requests, await front.stop();

import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

import { OAuth2Server } from "oauth2-mock-server";

import { listenOnFreePort, stopServer } from "./http.mjs";

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

/** Escapes text for HTML element content and double-quoted attribute values. */
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An authorization endpoint that answers as a response_mode=form_post provider does
 * (Apple's, Microsoft's): with a page whose form posts `code`, `state` and the rest to
 * `redirect_uri`, sent by its button (#go) as the user would. oauth2-mock-server answers
 * /authorize with a 302 only, so this asks it (without response_mode) for the redirect it
 * would send and turns that redirect's parameters into the form: the code, PKCE and
 * tokens stay the mock's. Listens on `provider`'s host and a free port.
 */
export async function startFormPostAuthorize(provider) {
  const requests = [];
  const server = createServer((req, res) => {
    const asked = new URL(req.url, "http://front.invalid");
    if (asked.pathname !== "/authorize") {
      // The browser's own requests (a favicon).
      res.writeHead(404).end();
      return;
    }
    requests.push(asked.searchParams);
    const query = new URLSearchParams(asked.searchParams);
    query.delete("response_mode");
    fetch(`${provider.issuer}/authorize?${query}`, { redirect: "manual", signal: AbortSignal.timeout(5000) })
      .then(async (inner) => {
        await inner.arrayBuffer();
        const back = new URL(inner.headers.get("location"));
        const inputs = [...back.searchParams]
          .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
          .join("");
        const action = `${back.origin}${back.pathname}`;
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(`<!doctype html><title>provider</title><form method="post" action="${escapeHtml(action)}">${inputs}<button id="go">Continue</button></form>`);
      })
      .catch((error) => res.writeHead(502).end(String(error)));
  });
  const host = new URL(provider.issuer).hostname;
  const port = await listenOnFreePort(server, host);
  return {
    authorizeUrl: `http://${host}:${port}/authorize`,
    requests,
    stop: () => stopServer(server),
  };
}
