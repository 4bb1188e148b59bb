// A preview deployment that does OAuth 2.0 / OpenID Connect by hand, through authrelay.
//
//   GET  /login                      → state from authrelay-client, PKCE, an HttpOnly
//                                      cookie, 302 to the provider's authorize endpoint
//                                      with redirect_uri = the relay's callback
//   GET  /api/auth/callback/:provider → (query callbacks, bounced by the relay with a 302)
//   POST /api/auth/callback/:provider → (form_post callbacks, re-posted by the relay's page)
//                                      state == cookie, code exchange with the relay's
//                                      redirect_uri and the PKCE verifier, session cookie
//   GET  /                           → "Signed in as <email>" or a sign-in link
//   POST /logout                     → clears the session
//
// Everything provider-specific comes from OIDC discovery (OIDC_ISSUER). See README.md.

import { timingSafeEqual } from "node:crypto";

import { createRelay, verifyState } from "authrelay-client";
import express from "express";

const STATE_COOKIE = "authrelay_oauth";
const SESSION_COOKIE = "preview_session";
const CALLBACK_PATH = "/api/auth/callback";
const SESSION_SECONDS = 8 * 3600;
const HTTP_TIMEOUT_MS = 10_000;

/**
 * Reads the configuration from environment variables (see README.md). Throws one clear
 * line for a missing or bad value; never prints a secret.
 */
export function configFromEnv(env = process.env) {
  const need = (name) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const host = env.HOST || "127.0.0.1";
  const port = Number(env.PORT || 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("PORT must be a port number");
  const responseMode = env.RESPONSE_MODE || "query";
  if (responseMode !== "query" && responseMode !== "form_post") throw new Error("RESPONSE_MODE must be query or form_post");
  const sameSite = (env.STATE_COOKIE_SAMESITE || (responseMode === "form_post" ? "none" : "lax")).toLowerCase();
  if (!["lax", "none", "strict"].includes(sameSite)) throw new Error("STATE_COOKIE_SAMESITE must be lax, none or strict");
  return {
    host,
    port,
    publicUrl: (env.PUBLIC_URL || `http://${host}:${port}`).replace(/\/+$/, ""),
    relayUrl: need("RELAY_URL"),
    authSecret: need("AUTH_SECRET"),
    issuer: need("OIDC_ISSUER").replace(/\/+$/, ""),
    clientId: need("CLIENT_ID"),
    clientSecret: env.CLIENT_SECRET || "",
    providerId: env.PROVIDER_ID || "oidc",
    scope: env.SCOPE || "openid email profile",
    responseMode,
    stateCookieSameSite: sameSite,
  };
}

export function createApp(config) {
  const relay = createRelay({ relayBaseUrl: config.relayUrl, secret: config.authSecret });
  const provider = config.providerId;
  const callbackUrl = `${config.publicUrl}${CALLBACK_PATH}/${provider}`;
  const https = config.publicUrl.startsWith("https://");
  const sessionKey = deriveSessionKey(config.authSecret);
  sessionKey.catch(() => {});

  // The state cookie. SameSite decides whether the browser sends it back on the callback:
  // a query callback arrives as a top-level GET (Lax is enough); a form_post callback is a
  // cross-site POST from the relay's page, which only SameSite=None cookies survive, and
  // None requires Secure. See docs/form-post.md.
  const stateCookieAttributes = [
    `Path=${CALLBACK_PATH}`,
    "HttpOnly",
    `SameSite=${{ lax: "Lax", none: "None", strict: "Strict" }[config.stateCookieSameSite]}`,
    ...(https || config.stateCookieSameSite === "none" ? ["Secure"] : []),
  ];
  const sessionCookieAttributes = ["Path=/", "HttpOnly", "SameSite=Lax", ...(https ? ["Secure"] : [])];

  let discovery;
  const discover = () => {
    discovery ??= fetchDiscovery(config.issuer).catch((error) => {
      discovery = undefined; // try again on the next sign-in
      throw error;
    });
    return discovery;
  };

  const app = express();
  app.disable("x-powered-by");
  app.use((req, res, next) => {
    res.set({
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    });
    next();
  });

  app.get("/", async (req, res) => {
    const user = await readSession(await sessionKey, cookies(req)[SESSION_COOKIE]);
    if (user) {
      res.send(page("Preview", `<p id="user">Signed in as ${escapeHtml(user.email || user.name || user.sub)}</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`));
    } else {
      res.send(page("Preview", `<p id="anonymous">Not signed in.</p><p><a id="signin" href="/login">Sign in</a></p>`));
    }
  });

  app.get("/login", async (req, res, next) => {
    try {
      const oidc = await discover();
      const { redirectUri, state } = await relay.signIn(provider, callbackUrl);
      const verifier = randomBase64url(32);
      const challenge = await s256(verifier);
      const authorize = new URL(oidc.authorization_endpoint);
      authorize.searchParams.set("response_type", "code");
      authorize.searchParams.set("client_id", config.clientId);
      authorize.searchParams.set("redirect_uri", redirectUri);
      authorize.searchParams.set("scope", config.scope);
      authorize.searchParams.set("state", state);
      authorize.searchParams.set("code_challenge", challenge);
      authorize.searchParams.set("code_challenge_method", "S256");
      if (config.responseMode === "form_post") authorize.searchParams.set("response_mode", "form_post");
      // One single-use cookie: the state to compare, and the PKCE verifier for the exchange.
      res.append("Set-Cookie", cookie(STATE_COOKIE, `${state}.${verifier}`, [...stateCookieAttributes, `Max-Age=${relay.ttlSeconds}`]));
      res.redirect(302, authorize.href);
    } catch (error) {
      next(error);
    }
  });

  const callback = async (req, res, next) => {
    try {
      if (req.params.provider !== provider) return fail(res, 404, "unknown_provider", "This preview has no such provider.");
      const params = req.method === "POST" ? (req.body ?? {}) : req.query;
      const saved = cookies(req)[STATE_COOKIE];
      // Single use: whatever happens next, the cookie is gone.
      res.append("Set-Cookie", cookie(STATE_COOKIE, "", [...stateCookieAttributes, "Max-Age=0"]));

      if (typeof params.error === "string") {
        return fail(res, 400, "provider_error", `The provider refused the sign-in: ${params.error.slice(0, 100)}.`);
      }
      const state = params.state;
      const code = params.code;
      if (typeof state !== "string" || typeof code !== "string" || !state || !code) {
        return fail(res, 400, "bad_callback", "The callback has no code or no state.");
      }
      if (!saved) {
        return fail(res, 400, "state_cookie_missing", "The browser did not send the sign-in cookie back (see SameSite in docs/form-post.md).");
      }
      const dot = saved.lastIndexOf(".");
      const [savedState, verifier] = [saved.slice(0, dot), saved.slice(dot + 1)];
      if (dot < 1 || !constantTimeEqual(state, savedState)) {
        return fail(res, 400, "state_mismatch", "The state does not belong to this browser's sign-in.");
      }
      // Not needed after the cookie check, but cheap: the state is one of ours, for this
      // callback, and not expired.
      const checked = await verifyState({ secrets: [config.authSecret], state });
      if (!checked.ok || checked.target !== callbackUrl) {
        return fail(res, 400, checked.ok ? "state_target" : checked.code, "The sign-in state is not valid for this preview.");
      }
      const oidc = await discover();
      if (typeof params.iss === "string" && params.iss !== oidc.issuer) {
        return fail(res, 400, "issuer_mismatch", "The callback comes from another issuer (RFC 9207).");
      }

      const tokens = await exchangeCode(oidc, config, { code, verifier, redirectUri: relay.redirectUri(provider) });
      const user = await readUser(oidc, config, tokens);
      const value = await writeSession(await sessionKey, user);
      res.append("Set-Cookie", cookie(SESSION_COOKIE, value, [...sessionCookieAttributes, `Max-Age=${SESSION_SECONDS}`]));
      res.redirect(303, "/");
    } catch (error) {
      next(error);
    }
  };
  app.get(`${CALLBACK_PATH}/:provider`, callback);
  app.post(`${CALLBACK_PATH}/:provider`, express.urlencoded({ extended: false, limit: "16kb" }), callback);

  app.post("/logout", (req, res) => {
    res.append("Set-Cookie", cookie(SESSION_COOKIE, "", [...sessionCookieAttributes, "Max-Age=0"]));
    res.redirect(303, "/");
  });

  // Errors: a fixed page; the detail goes to the log, without tokens or codes.
  app.use((error, req, res, _next) => {
    console.error(`express-preview: ${req.method} ${req.path}: ${error?.message ?? error}`);
    fail(res, 502, "sign_in_failed", "The sign-in could not be completed. Try again.");
  });

  return app;
}

// ---------------------------------------------------------------------------------------
// OpenID Connect

async function fetchJson(url, init = {}) {
  const res = await fetch(url, { ...init, redirect: "error", signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${new URL(url).pathname} answered ${res.status}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${new URL(url).pathname} did not answer JSON`);
  }
}

async function fetchDiscovery(issuer) {
  const doc = await fetchJson(`${issuer}/.well-known/openid-configuration`, { headers: { accept: "application/json" } });
  if (doc.issuer !== issuer) throw new Error("the discovery document names another issuer");
  for (const field of ["authorization_endpoint", "token_endpoint"]) {
    if (typeof doc[field] !== "string") throw new Error(`the discovery document has no ${field}`);
  }
  return doc;
}

async function exchangeCode(oidc, config, { code, verifier, redirectUri }) {
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    // The relay's callback: what the provider saw in the authorize request.
    redirect_uri: redirectUri,
    code_verifier: verifier,
  });
  const headers = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  if (config.clientSecret) {
    // client_secret_basic (RFC 6749 §2.3.1: form-encode, then Basic).
    const id = encodeURIComponent(config.clientId);
    const secret = encodeURIComponent(config.clientSecret);
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
  } else {
    body.set("client_id", config.clientId);
  }
  const tokens = await fetchJson(oidc.token_endpoint, { method: "POST", headers, body });
  if (typeof tokens.access_token !== "string") throw new Error("the token endpoint returned no access_token");
  return tokens;
}

/**
 * The user's claims. The ID token came straight from the token endpoint over the
 * connection this server opened, so its claims may be read without checking its signature
 * (OpenID Connect Core §3.1.3.7: TLS server validation instead) — over https. Its issuer
 * and audience are still checked. Userinfo, when offered, must be about the same subject.
 */
async function readUser(oidc, config, tokens) {
  let claims = {};
  if (typeof tokens.id_token === "string") {
    claims = decodeJwtPayload(tokens.id_token);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== oidc.issuer || !aud.includes(config.clientId)) throw new Error("the ID token is not for this client");
  }
  if (typeof oidc.userinfo_endpoint === "string") {
    const info = await fetchJson(oidc.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}`, accept: "application/json" },
    });
    if (claims.sub !== undefined && info.sub !== claims.sub) throw new Error("userinfo is about another subject");
    claims = { ...claims, ...info };
  }
  if (typeof claims.sub !== "string") throw new Error("no subject in the ID token or userinfo");
  return { sub: claims.sub, email: stringOrUndefined(claims.email), name: stringOrUndefined(claims.name) };
}

function decodeJwtPayload(jwt) {
  const part = jwt.split(".")[1];
  if (!part) throw new Error("the ID token is not a JWT");
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

const stringOrUndefined = (v) => (typeof v === "string" ? v : undefined);

// ---------------------------------------------------------------------------------------
// PKCE, cookies, sessions

function randomBase64url(n) {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("base64url");
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString("base64url");
}

function constantTimeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (name && !(name in out)) out[name] = part.slice(i + 1).trim();
  }
  return out;
}

function cookie(name, value, attributes) {
  return [`${name}=${value}`, ...attributes].join("; ");
}

// The session cookie is the claims, signed with a key derived from AUTH_SECRET by HKDF
// with this app's own label, so it never meets the relay's state key.
async function deriveSessionKey(secret) {
  const ikm = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new TextEncoder().encode("express-preview"), info: new TextEncoder().encode("session cookie v1") },
    ikm,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

async function writeSession(key, user) {
  const payload = Buffer.from(JSON.stringify({ ...user, exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS })).toString("base64url");
  const tag = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload));
  return `${payload}.${Buffer.from(tag).toString("base64url")}`;
}

async function readSession(key, value) {
  if (!value || value.length > 4096) return null;
  const [payload, tag, extra] = value.split(".");
  if (!payload || !tag || extra !== undefined) return null;
  const ok = await crypto.subtle.verify("HMAC", key, Buffer.from(tag, "base64url"), new TextEncoder().encode(payload));
  if (!ok) return null;
  const user = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  return user.exp > Date.now() / 1000 ? user : null;
}

// ---------------------------------------------------------------------------------------
// Pages

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function fail(res, status, reason, message) {
  res.status(status).send(page("Sign-in failed", `<p>${escapeHtml(message)}</p><p>Reason: <code id="reason">${escapeHtml(reason)}</code></p><p><a href="/">Back</a></p>`));
}
