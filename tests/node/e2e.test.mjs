// End-to-end: a real Auth.js preview signs in through the real relay with a real OpenID
// Connect provider, every hop driven by hand (fetch, redirect: "manual", a cookie jar) so
// each one can be checked.
//
//   provider   oauth2-mock-server          127.0.0.3:<random>
//   previews   express + @auth/express     127.0.0.2:<random> (allowed), 127.0.0.4:<random> (not)
//   relay      the authrelay binary        127.0.0.1:<random>, allowlist http://127.0.0.2:*
//
// Run: AUTHRELAY_BIN=target/release/authrelay node --test tests/node/e2e.test.mjs
//
// With AUTHRELAY_E2E_TARGET=worker the relay is the Cloudflare Worker (deploy/cloudflare,
// built first) in workerd under `wrangler dev --local`, configured alike.

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { requestAuthorization } from "./lib/authjs-signin.mjs";
import { hop, refusalReason } from "./lib/http.mjs";
import { PROVIDER_ID, startPreview } from "./lib/preview-app.mjs";
import { CLIENT_ID, startProvider } from "./lib/provider.mjs";
import { startRelay } from "./lib/relay.mjs";
import { startWorker } from "../../deploy/cloudflare/tests/lib/worker.mjs";

const TEST_TIMEOUT = 60_000;
const secret = (label) => `${label}-${randomBytes(24).toString("base64url")}`;
const OLD_SECRET = secret("old");
const NEW_SECRET = secret("new");
const UNKNOWN_SECRET = secret("unknown");
const USER = {
  sub: `user-${randomUUID()}`,
  email: "ada@example.test",
  name: "Ada Lovelace",
};

let provider;
let relay;
/** previews by role */
const previews = {};
const cleanups = [];
/** Every code and state value seen on the wire; none may appear in the relay's logs. */
const sensitive = new Set();

before(async () => {
  provider = await startProvider({ host: "127.0.0.3", user: USER });
  cleanups.push(() => provider.stop());
  // Rotation as Auth.js orders it: AUTH_SECRET_1 is newer than AUTH_SECRET.
  const startTarget = process.env.AUTHRELAY_E2E_TARGET === "worker" ? startWorker : startRelay;
  relay = await startTarget({
    secrets: { AUTH_SECRET: OLD_SECRET, AUTH_SECRET_1: NEW_SECRET },
    allowedOrigins: "http://127.0.0.2:*",
  });
  cleanups.push(() => relay.stop());
  const start = async (role, host, secrets, basePath) => {
    previews[role] = await startPreview({
      host,
      issuer: provider.issuer,
      secrets,
      redirectProxyUrl: relay.baseUrl,
      basePath,
      name: role,
    });
    cleanups.push(() => previews[role].stop());
  };
  await start("rotated", "127.0.0.2", [NEW_SECRET, OLD_SECRET]);
  await start("oldSecret", "127.0.0.2", [OLD_SECRET]);
  await start("unknownSecret", "127.0.0.2", [UNKNOWN_SECRET]);
  await start("offAllowlist", "127.0.0.4", [NEW_SECRET, OLD_SECRET]);
  // @auth/core's own default base path (SvelteKit, Express, …), under a relay at /api/auth.
  await start("authBasePath", "127.0.0.2", [NEW_SECRET, OLD_SECRET], "/auth");
}, { timeout: 30_000 });

after(async () => {
  await Promise.allSettled(cleanups.reverse().map((stop) => stop()));
}, { timeout: 20_000 });

/** Starts a sign-in at `preview` as its sign-in page would; returns the authorize URL. */
async function startSignIn(preview) {
  const { jar, authorize } = await requestAuthorization(preview);
  assert.equal(authorize.origin, provider.issuer, "the sign-in goes to the provider");
  assert.equal(authorize.pathname, "/authorize");
  const q = authorize.searchParams;
  assert.equal(q.get("redirect_uri"), relay.callbackUrl(PROVIDER_ID),
    "the preview sends the provider the relay's callback, not its own");
  assert.equal(q.get("client_id"), CLIENT_ID);
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("code_challenge_method"), "S256");
  const state = q.get("state");
  assert.match(state, /^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/, "the state is a compact JWE with an empty key part");
  sensitive.add(state);
  return { jar, authorize, state };
}

/** The provider's answer to the authorize request: a redirect to the relay. */
async function atProvider(jar, authorize, expectedState) {
  const res = await hop(jar, authorize.href);
  assert.equal(res.status, 302, `the provider should redirect back: ${res.text}`);
  const back = new URL(res.location);
  assert.equal(`${back.origin}${back.pathname}`, relay.callbackUrl(PROVIDER_ID),
    "the provider sends the browser to the relay");
  assert.equal(back.searchParams.get("state"), expectedState, "the provider returns the state unchanged");
  assert.equal(back.searchParams.get("iss"), provider.issuer);
  const code = back.searchParams.get("code");
  if (code) sensitive.add(code);
  return back;
}

/** The relay's answer; also waits for its one log event for this callback. */
async function atRelay(jar, url, headers = {}) {
  const before = relay.events().length;
  const res = await hop(jar, url.href ?? url, { headers });
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  const event = await relay.waitForEvent(before);
  return { res, event };
}

/** Asserts `forwarded` carries exactly the parameters of `received`, values unchanged. */
function assertSameParams(forwarded, received) {
  const keys = (p) => [...new Set(p.keys())].sort();
  assert.deepEqual(keys(forwarded.searchParams), keys(received.searchParams), "the same parameter names");
  for (const key of keys(received.searchParams)) {
    assert.deepEqual(forwarded.searchParams.getAll(key), received.searchParams.getAll(key),
      `parameter ${key} is forwarded unchanged`);
  }
}

async function sessionOf(jar, preview) {
  const res = await hop(jar, `${preview.baseUrl}/session`);
  assert.equal(res.status, 200, res.text);
  return res.json();
}

/** A complete sign-in through the relay; returns the relay's log event. */
async function signInThroughRelay(preview) {
  const errorsBefore = preview.errors.length;
  const { jar, authorize, state } = await startSignIn(preview);
  const back = await atProvider(jar, authorize, state);
  assert.ok(back.searchParams.get("code"), "the provider sent a code");

  const { res, event } = await atRelay(jar, back);
  assert.equal(res.status, 302, `the relay should bounce to the preview: ${res.text}`);
  const onward = new URL(res.location);
  assert.equal(`${onward.origin}${onward.pathname}`, preview.callbackUrl,
    "the relay sends the browser to the preview's own callback");
  assertSameParams(onward, back);

  const callback = await hop(jar, onward.href);
  assert.equal(callback.status, 302, `the preview's callback should finish the sign-in: ${callback.text}`);
  assert.equal(callback.location, `${preview.origin}/`, "back to the callbackUrl the sign-in asked for");
  assert.ok(jar.names(preview.origin).includes("authjs.session-token"),
    `the preview set a session cookie (has: ${jar.names(preview.origin)})`);
  assert.deepEqual(preview.errors.slice(errorsBefore), [], "Auth.js logged no error");

  const session = await sessionOf(jar, preview);
  assert.equal(session?.user?.email, USER.email);
  assert.equal(session.user.name, USER.name);
  assert.equal(session.user.sub, USER.sub, "the profile came from the provider's ID token");
  return event;
}

describe("Auth.js preview through authrelay", () => {
  test("signs in; the relay opens the state with the newest secret (AUTH_SECRET_1)", { timeout: TEST_TIMEOUT }, async () => {
    const event = await signInThroughRelay(previews.rotated);
    assert.equal(event.outcome, "redirect");
    assert.equal(event.format, "authjs");
    assert.equal(event.secret, "AUTH_SECRET_1");
    assert.equal(event.provider, PROVIDER_ID);
  });

  test("a preview still on the old secret signs in; the relay says AUTH_SECRET", { timeout: TEST_TIMEOUT }, async () => {
    const event = await signInThroughRelay(previews.oldSecret);
    assert.equal(event.outcome, "redirect");
    assert.equal(event.format, "authjs");
    assert.equal(event.secret, "AUTH_SECRET");
  });

  test("a preview on /auth (the base path of the other Auth.js integrations) signs in via a relay on /api/auth", { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(new URL(previews.authBasePath.callbackUrl).pathname, `/auth/callback/${PROVIDER_ID}`);
    const event = await signInThroughRelay(previews.authBasePath);
    assert.equal(event.outcome, "redirect");
    assert.equal(event.secret, "AUTH_SECRET_1");
  });

  test("a preview whose secret the relay does not hold is refused: state_invalid", { timeout: TEST_TIMEOUT }, async () => {
    const { jar, authorize, state } = await startSignIn(previews.unknownSecret);
    const back = await atProvider(jar, authorize, state);

    const { res, event } = await atRelay(jar, back, { accept: "text/html" });
    assert.equal(res.status, 403);
    assert.equal(res.location, null, "no Location header");
    assert.equal(refusalReason(res.text), "state_invalid");
    assert.equal(event.outcome, "refused");
    assert.equal(event.reason, "state_invalid");

    const asJson = await atRelay(jar, back, { accept: "application/json" });
    assert.equal(asJson.res.status, 403);
    assert.equal(asJson.res.json().error, "state_invalid");
    assert.equal(asJson.res.location, null);
  });

  test("a preview off the allowlist (127.0.0.4) is refused: target_not_allowed", { timeout: TEST_TIMEOUT }, async () => {
    const { jar, authorize, state } = await startSignIn(previews.offAllowlist);
    const back = await atProvider(jar, authorize, state);

    const { res, event } = await atRelay(jar, back, { accept: "text/html" });
    assert.equal(res.status, 403);
    assert.equal(res.location, null, "no Location header");
    assert.equal(refusalReason(res.text), "target_not_allowed");
    assert.equal(event.reason, "target_not_allowed");
    assert.equal(event.secret, "AUTH_SECRET_1", "the state itself was fine: the allowlist refused it");

    const asJson = await atRelay(jar, back, { accept: "application/json" });
    assert.equal(asJson.res.status, 403);
    assert.equal(asJson.res.json().error, "target_not_allowed");
    assert.equal(asJson.res.location, null);
    assert.equal((await sessionOf(jar, previews.offAllowlist)), null, "the off-allowlist preview never signed in");
  });

  test("the provider's error=access_denied reaches the preview", { timeout: TEST_TIMEOUT }, async () => {
    const preview = previews.rotated;
    const seenBefore = preview.oauthErrors.length;
    provider.failNextAuthorize({ error: "access_denied", error_description: "The user said no" });
    const { jar, authorize, state } = await startSignIn(preview);
    const back = await atProvider(jar, authorize, state);
    assert.equal(back.searchParams.get("code"), null);
    assert.equal(back.searchParams.get("error"), "access_denied");

    const { res, event } = await atRelay(jar, back);
    assert.equal(res.status, 302, res.text);
    assert.equal(event.outcome, "redirect");
    const onward = new URL(res.location);
    assert.equal(`${onward.origin}${onward.pathname}`, preview.callbackUrl);
    assertSameParams(onward, back);

    const callback = await hop(jar, onward.href);
    assert.equal(callback.status, 302);
    const page = new URL(callback.location);
    assert.equal(page.origin, preview.origin);
    assert.equal(page.searchParams.get("error"), "OAuthCallbackError", `Auth.js shows its error: ${callback.location}`);
    const seen = preview.oauthErrors.slice(seenBefore);
    assert.equal(seen.length, 1, "Auth.js read one error answer");
    assert.equal(seen[0].error, "access_denied");
    assert.equal(seen[0].error_description, "The user said no");
    assert.equal(seen[0].providerId, PROVIDER_ID);
    assert.equal(await sessionOf(jar, preview), null, "no session");
  });

  test("repeated parameters are forwarded in order, none merged or dropped", { timeout: TEST_TIMEOUT }, async () => {
    // The state comes from a real Auth.js sign-in; the extra parameters are added to the
    // provider's real answer, as a provider could send them.
    const { jar, authorize, state } = await startSignIn(previews.rotated);
    const back = await atProvider(jar, authorize, state);
    back.searchParams.append("extra", "one");
    back.searchParams.append("extra", "two");
    back.searchParams.append("note", "a b&c=d/é");
    const { res } = await atRelay(jar, back);
    assert.equal(res.status, 302, res.text);
    const onward = new URL(res.location);
    assert.deepEqual([...onward.searchParams], [...back.searchParams], "same pairs, same order");
  });

  test("the relay's logs hold no code and no state", { timeout: TEST_TIMEOUT }, async () => {
    const logs = relay.logText();
    assert.ok(sensitive.size >= 5, `codes and states were collected (${sensitive.size})`);
    assert.ok(relay.events().length >= 8, "the relay logged the callbacks");
    for (const value of sensitive) {
      assert.ok(!logs.includes(value), `the relay log contains a code or state value (${value.slice(0, 12)}…)`);
    }
    for (const s of [OLD_SECRET, NEW_SECRET]) assert.ok(!logs.includes(s), "the relay log contains a secret");
    const unparsed = relay.logLines().filter((l) => l.unparsed);
    assert.deepEqual(unparsed, [], "every log line is JSON");
  });
});
