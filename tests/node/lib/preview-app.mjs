// A real Auth.js preview deployment: express + @auth/express, mounted at /api/auth (the
// next-auth base path) or at `basePath` (e.g. /auth, the default of the other Auth.js
// integrations), with one generic OIDC provider and a redirect proxy.
//
//   const preview = await startPreview({ host: "127.0.0.2", issuer, secrets: [newS, oldS],
//                                        redirectProxyUrl: relay.baseUrl });
//   preview.origin                 // http://127.0.0.2:<port>
//   preview.callbackUrl            // http://127.0.0.2:<port>/api/auth/callback/mock
//   preview.errors                 // what Auth.js logged as errors, in order
//   preview.oauthErrors            // error answers from the provider, as Auth.js read them
//   await preview.stop();
//
// Besides Auth.js's own routes it serves `/`, a page that says who is signed in (for the
// browser test's screenshot). The session carries `user.sub`, the provider's subject
// (Auth.js's own `token.sub` is a random id it makes), so a test can tell that the
// preview really exchanged the code at the provider.

import { createServer } from "node:http";

import { ExpressAuth, getSession } from "@auth/express";
import express from "express";

import { PROVIDER_ID, mockOidcProvider, providerSubCallbacks } from "./authjs-config.mjs";
import { listenOnFreePort, stopServer } from "./http.mjs";
import { CLIENT_ID, CLIENT_SECRET } from "./provider.mjs";

export { PROVIDER_ID };
export const DEFAULT_BASE_PATH = "/api/auth";

// Auth.js fills unset options from process.env (AUTH_URL, AUTH_SECRET, AUTH_REDIRECT_PROXY_URL,
// …). A preview here is configured only by its arguments, whoever runs the tests.
for (const name of Object.keys(process.env)) {
  if (/^(AUTH_|NEXTAUTH_)/.test(name)) delete process.env[name];
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Starts a preview on `host` and a free port. `secrets` is Auth.js's `secret` array (the
 * first one encrypts); `redirectProxyUrl` is the relay's URL with its base path.
 */
export async function startPreview({
  host,
  issuer,
  secrets,
  redirectProxyUrl,
  basePath = DEFAULT_BASE_PATH,
  name = "preview",
}) {
  const errors = [];
  const warnings = [];
  const oauthErrors = [];
  const authConfig = {
    providers: [mockOidcProvider({ issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })],
    secret: secrets,
    redirectProxyUrl,
    trustHost: true,
    logger: {
      error: (error) => errors.push(error),
      warn: (code) => warnings.push(code),
      // Auth.js reports an error answer from the provider (error=…) only at debug level.
      debug: (message, metadata) => {
        if (message === "OAuthCallbackError") oauthErrors.push(metadata);
      },
    },
    callbacks: providerSubCallbacks(),
  };

  const app = express();
  // @auth/express takes its base path from where it is mounted.
  app.use(basePath, ExpressAuth(authConfig));
  app.get("/", async (req, res, next) => {
    try {
      const session = await getSession(req, authConfig);
      const body = session?.user
        ? `<h1>Signed in</h1><p id="user">Signed in as <b>${escapeHtml(session.user.name)}</b> ` +
          `&lt;${escapeHtml(session.user.email)}&gt; (sub <code>${escapeHtml(session.user.sub)}</code>)</p>`
        : `<h1>Not signed in</h1><p><a href="${basePath}/signin">Sign in</a></p>`;
      res
        .type("html")
        .send(`<!doctype html><html><head><title>${escapeHtml(name)}</title></head><body>` +
          `<p>${escapeHtml(name)} on ${escapeHtml(req.get("host"))}</p>${body}</body></html>`);
    } catch (error) {
      next(error);
    }
  });

  const server = createServer(app);
  const origin = `http://${host}:${await listenOnFreePort(server, host)}`;
  return {
    name,
    origin,
    baseUrl: `${origin}${basePath}`,
    callbackUrl: `${origin}${basePath}/callback/${PROVIDER_ID}`,
    errors,
    warnings,
    oauthErrors,
    stop: () => stopServer(server),
  };
}
