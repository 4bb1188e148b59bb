// Any OAuth library through the relay's authorize route, no shared secret: a preview
// whose sign-in is real Passport (passport-oauth2, PKCE on, its own state in its own
// session) against oauth2-mock-server through the relay binary, every hop driven by hand
// (fetch, redirect: "manual", a cookie jar) so each can be checked. Then each refusal —
// a foreign client_id, a wrong redirect_uri, an off-allowlist or non-callback return
// target, a tampered envelope — before the browser reaches the provider or the preview.
// Then the same sign-in with a second stack: Python, Authlib's Flask client
// (lib/authlib_preview.py), beside the Passport preview on the same relay.
//
//   provider   oauth2-mock-server           127.0.0.3:<random>
//   preview    express + passport           127.0.0.2:<random> (allowed)
//   relay      the authrelay binary         127.0.0.1:<random>, allowlist http://127.0.0.2:*
//
// Run: AUTHRELAY_BIN=target/release/authrelay node --test tests/node/oauth-library.test.mjs

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";

import { CookieJar, hop, refusalReason } from "./lib/http.mjs";
import { needAuthlib, startAuthlibPreview } from "./lib/authlib-preview.mjs";
import { startPassportStack } from "./lib/passport-preview.mjs";
import { CLIENT_ID } from "./lib/provider.mjs";
import { describeNeeding, needRelay } from "./lib/suite.mjs";

const TEST_TIMEOUT = 60_000;
const PROVIDER_ID = "mock";
const USER = { sub: `user-${randomUUID()}`, email: "barbara@example.test", name: "Barbara Liskov" };

describeNeeding([needRelay], "Passport preview through the authorize route", () => {
  let stack;
  let provider;
  let relay;
  let preview;
  /** Every code and state value seen on the wire; none may appear in the relay's logs. */
  const sensitive = new Set();

  before(async () => {
    stack = await startPassportStack({ user: USER, providerId: PROVIDER_ID });
    ({ provider, relay, preview } = stack);
  }, { timeout: 30_000 });

  after(() => stack?.stop(), { timeout: 20_000 });

  /** The preview's first hop: Passport's redirect to the relay's authorize route. */
  async function startSignIn(jar) {
    const r = await hop(jar, preview.signInUrl);
    assert.equal(r.status, 302, r.text);
    const toRelay = new URL(r.location);
    assert.equal(`${toRelay.origin}${toRelay.pathname}`, `${relay.baseUrl}/authorize/${PROVIDER_ID}`);
    const q = toRelay.searchParams;
    assert.equal(q.get("return_to"), preview.callbackUrl);
    assert.equal(q.get("redirect_uri"), relay.callbackUrl(PROVIDER_ID));
    assert.equal(q.get("client_id"), CLIENT_ID);
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.ok(q.get("state"), "Passport sends its own state");
    sensitive.add(q.get("state"));
    return toRelay;
  }

  test("sign-in completes with PKCE; the library gets its own state back", { timeout: TEST_TIMEOUT }, async () => {
    const me = await signInByHand({ provider, relay, preview, sensitive });
    assert.ok(me.includes('"hasAccessToken":true'), me);
  });

  /** Sends a changed authorize request; asserts the refusal and that nobody else saw it. */
  async function assertRefusedBeforeProvider(change, reason) {
    const jar = new CookieJar();
    const toRelay = await startSignIn(jar);
    change(toRelay.searchParams);
    const seenByProvider = provider.authorizeRequests.length;
    const seenByPreview = preview.callbacks.length;
    const r = await hop(jar, toRelay.href);
    assert.ok(r.status >= 400 && r.status < 500, `${reason}: ${r.status}`);
    assert.equal(r.location, null);
    assert.equal(refusalReason(r.text), reason);
    assert.equal(provider.authorizeRequests.length, seenByProvider, "the provider saw nothing");
    assert.equal(preview.callbacks.length, seenByPreview, "the preview saw nothing");
  }

  test("a foreign client_id is refused before the provider", { timeout: TEST_TIMEOUT }, async () => {
    await assertRefusedBeforeProvider((q) => q.set("client_id", "someone-elses-client"), "client_id_unknown");
  });

  test("a wrong redirect_uri is refused before the provider", { timeout: TEST_TIMEOUT }, async () => {
    await assertRefusedBeforeProvider((q) => q.set("redirect_uri", preview.callbackUrl), "redirect_uri_mismatch");
  });

  test("an off-allowlist return target is refused before the provider", { timeout: TEST_TIMEOUT }, async () => {
    await assertRefusedBeforeProvider(
      (q) => q.set("return_to", `http://127.0.0.4:${new URL(preview.origin).port}/auth/${PROVIDER_ID}/callback`),
      "target_not_allowed",
    );
  });

  test("a return target that is not a callback route is refused before the provider", { timeout: TEST_TIMEOUT }, async () => {
    await assertRefusedBeforeProvider((q) => q.set("return_to", `${preview.origin}/me`), "target_not_callback");
  });

  test("an implicit-flow response_type is refused before the provider", { timeout: TEST_TIMEOUT }, async () => {
    await assertRefusedBeforeProvider((q) => q.set("response_type", "token"), "response_type_unsupported");
  });

  test("a second redirect_uri under another case is refused before the provider", { timeout: TEST_TIMEOUT }, async () => {
    await assertRefusedBeforeProvider((q) => q.append("Redirect_URI", preview.callbackUrl), "params_malformed");
  });

  test("a tampered envelope is refused before the preview", { timeout: TEST_TIMEOUT }, async () => {
    const jar = new CookieJar();
    const toRelay = await startSignIn(jar);
    const toProvider = new URL((await hop(jar, toRelay.href)).location);
    const back = new URL((await hop(jar, toProvider.href)).location);
    const envelope = back.searchParams.get("state");
    // A character of the tag: the framing still reads, the signature fails.
    const i = envelope.length - 10;
    back.searchParams.set("state", envelope.slice(0, i) + (envelope[i] === "A" ? "B" : "A") + envelope.slice(i + 1));
    const seenByPreview = preview.callbacks.length;
    const r = await hop(jar, back.href);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.location, null);
    assert.equal(refusalReason(r.text), "state_invalid");
    assert.equal(preview.callbacks.length, seenByPreview, "the preview saw nothing");
  });
});

/**
 * One sign-in at `preview` (any library configured for the authorize route), every hop
 * by hand and checked: the library's redirect to the relay, the relay's to the provider
 * (every parameter but return_to, the state wrapped in an envelope), the provider's back
 * to the relay, the relay's to the preview (the library's own state restored, the rest
 * unchanged), the library's code exchange and its signed-in page. Code and state values
 * go into `sensitive`; none may be in the relay's log. Resolves with the /me page.
 */
async function signInByHand({ provider, relay, preview, sensitive }) {
  const jar = new CookieJar();
  const r0 = await hop(jar, preview.signInUrl);
  assert.equal(r0.status, 302, r0.text);
  const toRelay = new URL(r0.location);
  assert.equal(`${toRelay.origin}${toRelay.pathname}`, `${relay.baseUrl}/authorize/${PROVIDER_ID}`);
  assert.equal(toRelay.searchParams.get("return_to"), preview.callbackUrl);
  assert.equal(toRelay.searchParams.get("redirect_uri"), relay.callbackUrl(PROVIDER_ID));
  assert.equal(toRelay.searchParams.get("code_challenge_method"), "S256");
  const libraryState = toRelay.searchParams.get("state");
  assert.ok(libraryState, "the library sends its own state");
  sensitive.add(libraryState);

  const r1 = await hop(jar, toRelay.href);
  assert.equal(r1.status, 302, r1.text);
  const toProvider = new URL(r1.location);
  assert.equal(`${toProvider.origin}${toProvider.pathname}`, `${provider.issuer}/authorize`);
  const pq = toProvider.searchParams;
  const envelope = pq.get("state");
  sensitive.add(envelope);
  assert.notEqual(envelope, libraryState);
  assert.match(envelope, /^R[A-Za-z0-9_-]+$/);
  assert.ok(envelope.length < 500, `${envelope.length} characters`);
  assert.equal(pq.get("return_to"), null, "the provider never sees return_to");
  for (const [name, value] of toRelay.searchParams) {
    if (name !== "state" && name !== "return_to") assert.equal(pq.get(name), value, name);
  }

  const r2 = await hop(jar, toProvider.href);
  assert.equal(r2.status, 302, r2.text);
  const toRelayCallback = new URL(r2.location);
  assert.equal(`${toRelayCallback.origin}${toRelayCallback.pathname}`, relay.callbackUrl(PROVIDER_ID));
  sensitive.add(toRelayCallback.searchParams.get("code"));

  const r3 = await hop(jar, toRelayCallback.href);
  assert.equal(r3.status, 302, r3.text);
  const toPreview = new URL(r3.location);
  assert.equal(`${toPreview.origin}${toPreview.pathname}`, preview.callbackUrl);
  assert.equal(toPreview.searchParams.get("state"), libraryState);
  assert.equal(toPreview.searchParams.get("code"), toRelayCallback.searchParams.get("code"));
  assert.equal(toPreview.searchParams.get("iss"), provider.issuer);

  // The library checks its state and exchanges the code (PKCE verifier, the relay's
  // redirect_uri), then signs the user in.
  const r4 = await hop(jar, toPreview.href);
  assert.equal(r4.status, 303, r4.text);
  assert.equal(new URL(r4.location, preview.origin).pathname, "/me");
  const me = await hop(jar, `${preview.origin}/me`);
  assert.equal(me.status, 200, me.text);
  assert.ok(me.text.includes(`<p id="me">${USER.sub}</p>`), me.text);

  const log = relay.logText();
  const messages = relay.logLines().map((l) => l.message);
  assert.ok(messages.includes("authorize"), log);
  assert.ok(messages.includes("callback"), log);
  for (const value of sensitive) assert.ok(!log.includes(value), "a code or state in the relay's log");
  return me.text;
}

describeNeeding([needRelay, needAuthlib], "Authlib (Flask) preview through the authorize route", () => {
  let stack;
  let authlib;
  const sensitive = new Set();

  before(async () => {
    stack = await startPassportStack({ user: USER, providerId: PROVIDER_ID });
    authlib = await startAuthlibPreview({ relay: stack.relay, providerId: PROVIDER_ID, issuer: stack.provider.issuer });
  }, { timeout: 30_000 });

  after(async () => {
    await authlib?.stop();
    await stack?.stop();
  }, { timeout: 20_000 });

  test("sign-in completes with PKCE; Authlib gets its own state back", { timeout: TEST_TIMEOUT }, async () => {
    await signInByHand({ provider: stack.provider, relay: stack.relay, preview: authlib, sensitive });
  });
});
