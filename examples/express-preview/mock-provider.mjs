// A real OpenID Connect provider for trying the example: oauth2-mock-server (discovery,
// /authorize with PKCE, /token, /userinfo, signed ID tokens), plus what it lacks:
// response_mode=form_post. For that mode the provider's page is an HTML form that the
// browser posts to redirect_uri with code and state, as Apple's is.
//
//   node mock-provider.mjs                  # HOST=127.0.0.3 PORT=9000 by default
//   import { startMockProvider } from "./mock-provider.mjs"
//
// oauth2-mock-server does not know form_post (its discovery says response_modes_supported:
// ["query"] and /authorize always answers 302). Only its public interface is used: for a
// form_post request, this server asks the mock's own /authorize (query mode) for the
// redirect it would send, and turns that redirect's parameters into the auto-submitting
// form. The code, PKCE challenge and tokens all stay the mock's.

import http from "node:http";
import { pathToFileURL } from "node:url";

import express from "express";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const DEFAULT_USER = { sub: "user-1", email: "ada@example.test", name: "Ada Lovelace" };

/**
 * Starts the provider on host:port (0: any free port). Resolves to { issuer, server,
 * authorizeRequests, stop() }.
 */
export async function startMockProvider({ host = "127.0.0.3", port = 0, user = DEFAULT_USER } = {}) {
  const issuer = new OAuth2Issuer();
  await issuer.keys.generate("RS256");
  const service = new OAuth2Service(issuer);
  const authorizeRequests = [];

  // The user's claims in the access token, the ID token and userinfo.
  service.on("beforeTokenSigning", (token) => {
    Object.assign(token.payload, { sub: user.sub, email: user.email, name: user.name });
  });
  service.on("beforeUserinfo", (response) => {
    response.body = { sub: user.sub, email: user.email, email_verified: true, name: user.name };
  });

  const app = express();
  app.disable("x-powered-by");
  app.get("/authorize", (req, res, next) => {
    if (req.get("x-mock-form-post") !== "inner") authorizeRequests.push(new URLSearchParams(req.url.split("?")[1] ?? ""));
    if (req.query.response_mode !== "form_post") return next();
    formPostAuthorize(req, res, issuer.url).catch(next);
  });
  app.use(service.requestHandler);

  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  issuer.url = `http://${host}:${server.address().port}`;

  return {
    issuer: issuer.url,
    server,
    authorizeRequests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
        setTimeout(resolve, 2000).unref();
      }),
  };
}

async function formPostAuthorize(req, res, issuerUrl) {
  const query = new URLSearchParams(req.url.split("?")[1] ?? "");
  query.delete("response_mode");
  const inner = await fetch(`${issuerUrl}/authorize?${query}`, {
    headers: { "x-mock-form-post": "inner" },
    redirect: "manual",
    signal: AbortSignal.timeout(5000),
  });
  await inner.arrayBuffer();
  const location = inner.headers.get("location");
  if (inner.status !== 302 || !location) {
    res.status(400).json({ error: "invalid_request", error_description: "authorize failed" });
    return;
  }
  const target = new URL(location);
  const fields = [...target.searchParams];
  const action = `${target.origin}${target.pathname}`;
  const inputs = fields
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join("");
  res.set("Cache-Control", "no-store");
  res.type("html").send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head>
<body><form id="provider-form" method="post" action="${escapeHtml(action)}">${inputs}
<noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById("provider-form").submit();</script></body></html>`);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Run as a script.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const host = process.env.HOST || "127.0.0.3";
  const port = Number(process.env.PORT || 9000);
  const user = {
    sub: process.env.MOCK_SUB || DEFAULT_USER.sub,
    email: process.env.MOCK_EMAIL || DEFAULT_USER.email,
    name: process.env.MOCK_NAME || DEFAULT_USER.name,
  };
  const provider = await startMockProvider({ host, port, user });
  console.log(`mock OpenID provider: issuer ${provider.issuer} (any client id and secret; user ${user.email})`);
  const stop = () => provider.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
