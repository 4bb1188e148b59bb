// A preview whose sign-in is real Passport (passport + passport-oauth2 + express-session),
// unchanged but for its configuration: its authorization URL is the relay's authorize
// route, with return_to naming the preview's own callback, and its callback URL is the
// relay's callback. It holds no relay secret and runs no relay code.
//
//   const preview = await startPassportPreview({ host, relay, providerId, issuer, clientId, clientSecret });
//   preview.origin, preview.signInUrl, preview.callbackUrl
//   GET /auth/<provider>            → passport.authenticate: 302 to the relay's authorize route
//   GET|POST /auth/<provider>/callback → passport.authenticate: checks its own state, exchanges
//                                     the code (redirect_uri = the relay's callback), then 302 /me
//   GET /me                         → { user } once signed in, 401 before
//   GET /failed                     → the failure message passport recorded
//
//   const stack = await startPassportStack({ user, formPost });   // provider, front, relay, preview
//   await stack.stop();
//
// With `formPost`, the authorization request asks for response_mode=form_post, and the
// session cookie is SameSite=None; Secure, which form_post needs (docs/form-post.md):
// Chromium keeps Secure cookies from loopback http origins, and express-session is told
// the connection is secure because the browser counts it so.

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";

import express from "express";
import { listenOnFreePort, stopServer } from "./http.mjs";
import { CLIENT_ID, CLIENT_SECRET, startFormPostAuthorize, startProvider } from "./provider.mjs";
import { startRelay } from "./relay.mjs";
import session from "express-session";
import passport from "passport";
import OAuth2Strategy from "passport-oauth2";

/** The path of the preview's callback for `providerId`: Passport's usual shape. */
export const passportCallbackPath = (providerId) => `/auth/${providerId}/callback`;

export async function startPassportPreview({
  host = "127.0.0.2",
  relay,
  providerId,
  issuer,
  clientId,
  clientSecret,
  formPost = false,
  returnTo,
}) {
  const app = express();
  app.disable("x-powered-by");
  const server = createServer(app);
  const origin = `http://${host}:${await listenOnFreePort(server, host)}`;
  const callbackPath = passportCallbackPath(providerId);
  const target = returnTo ?? `${origin}${callbackPath}`;

  const authenticator = new passport.Passport();
  const strategy = new OAuth2Strategy(
    {
      authorizationURL: `${relay.baseUrl}/authorize/${providerId}?return_to=${encodeURIComponent(target)}`,
      tokenURL: `${issuer}/token`,
      clientID: clientId,
      clientSecret,
      callbackURL: relay.callbackUrl(providerId),
      scope: ["openid", "email"],
      state: true,
      pkce: true,
    },
    (accessToken, _refreshToken, params, _profile, done) => {
      const idToken = params.id_token?.split(".")[1];
      const claims = idToken ? JSON.parse(Buffer.from(idToken, "base64url").toString("utf8")) : {};
      done(null, { sub: claims.sub, email: claims.email, hasAccessToken: Boolean(accessToken) });
    },
  );
  if (formPost) {
    strategy.authorizationParams = () => ({ response_mode: "form_post" });
  }
  authenticator.use(providerId, strategy);
  authenticator.serializeUser((user, done) => done(null, user));
  authenticator.deserializeUser((user, done) => done(null, user));

  if (formPost) {
    app.use((req, _res, next) => {
      req.headers["x-forwarded-proto"] = "https";
      next();
    });
  }
  app.use(
    session({
      secret: `preview-session-${Math.random()}`,
      resave: false,
      saveUninitialized: false,
      proxy: formPost,
      cookie: formPost ? { sameSite: "none", secure: true, httpOnly: true } : { sameSite: "lax", httpOnly: true },
    }),
  );
  app.use(express.urlencoded({ extended: false }));
  app.use(authenticator.initialize());
  app.use(authenticator.session());

  /** Every callback request as it arrived: method and its parameters (query or form). */
  const callbacks = [];
  app.get(`/auth/${providerId}`, authenticator.authenticate(providerId));
  const finish = [
    (req, _res, next) => {
      callbacks.push({ method: req.method, params: req.method === "POST" ? { ...req.body } : { ...req.query } });
      next();
    },
    authenticator.authenticate(providerId, { failureRedirect: "/failed", failureMessage: true }),
    (_req, res) => res.redirect(303, "/me"),
  ];
  app.get(callbackPath, ...finish);
  app.post(callbackPath, ...finish);
  app.get("/me", (req, res) => {
    if (!req.user) return res.status(401).json({ user: null });
    res.type("html").send(`<!doctype html><title>me</title><p id="me">${req.user.sub}</p><pre>${JSON.stringify(req.user)}</pre>`);
  });
  app.get("/failed", (req, res) => res.status(403).json({ messages: req.session?.messages ?? [] }));
  app.use((error, _req, res, _next) => res.status(500).json({ error: String(error?.message ?? error) }));

  return {
    origin,
    signInUrl: `${origin}/auth/${providerId}`,
    callbackUrl: `${origin}${callbackPath}`,
    callbacks,
    stop: () => stopServer(server),
  };
}

/**
 * The three parties of a Passport sign-in through the authorize route: oauth2-mock-server
 * on 127.0.0.3, the relay binary on 127.0.0.1 (authorize route for `providerId`,
 * callback path /auth/{provider}/callback, allowlist http://127.0.0.2:*) and the Passport
 * preview on 127.0.0.2. `stop()` stops whatever started, also after a failed start.
 */
export async function startPassportStack({ user, providerId = "mock", formPost = false }) {
  const stops = [];
  const stop = () => Promise.allSettled(stops.reverse().map((s) => s()));
  try {
    const provider = await startProvider({ host: "127.0.0.3", user });
    stops.push(() => provider.stop());
    // With form_post, the relay forwards to an authorization endpoint that answers with
    // a posted form; the token endpoint stays the mock's.
    const front = formPost ? await startFormPostAuthorize(provider) : undefined;
    if (front) stops.push(() => front.stop());
    const authorizeUrl = front?.authorizeUrl ?? `${provider.issuer}/authorize`;
    const relay = await startRelay({
      secret: `passport-${randomBytes(24).toString("base64url")}`,
      allowedOrigins: "http://127.0.0.2:*",
      extraEnv: {
        AUTH_AUTHORIZE_ENDPOINTS: `${providerId}=${authorizeUrl}`,
        AUTH_AUTHORIZE_CLIENT_IDS: `${providerId}=${CLIENT_ID}`,
        AUTH_AUTHORIZE_CALLBACK_PATH: "/auth/{provider}/callback",
      },
    });
    stops.push(() => relay.stop());
    const preview = await startPassportPreview({
      relay,
      providerId,
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      formPost,
    });
    stops.push(() => preview.stop());
    return { provider, front, relay, preview, providerId, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
