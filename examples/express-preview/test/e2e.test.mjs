// End to end, without a browser: oauth2-mock-server on 127.0.0.3, the relay binary on
// 127.0.0.1 and the example preview on 127.0.0.2, driven hop by hop with fetch (no
// redirect following) and cookies kept by hand, for both response modes.
//
// The relay binary is the one scripts/lib.sh's relay_bin picks (tests/node/lib/relay.mjs).
// Without one the tests are skipped, unless CI is set.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { verifyState } from "authrelay-client";

import { get } from "../../../tests/node/lib/process.mjs";
import { describeNeeding, needRelay } from "../../../tests/node/lib/suite.mjs";
import { PROVIDER_ID, startStack } from "../harness/stack.mjs";

const USER = { sub: "user-e2e-1", email: "ada@example.test", name: "Ada Lovelace" };
const TIMEOUT = { timeout: 30_000 };

/** A minimal cookie jar: name → value, from Set-Cookie headers. */
class Jar {
  cookies = new Map();
  take(res) {
    const set = res.headers.getSetCookie();
    for (const line of set) {
      const [pair, ...attrs] = line.split(";").map((s) => s.trim());
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (attrs.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return set;
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

const decode = (s) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]);

/** The first form of an auto-submitting page: its action and its hidden fields. */
function readForm(html) {
  const form = html.match(/<form\b[^>]*\baction="([^"]*)"[^>]*>/);
  assert.ok(form, "the page has a form");
  const fields = [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [decode(m[1]), decode(m[2])]);
  // The provider's page calls form.submit(); the relay's calls HTMLFormElement.prototype.submit.
  assert.match(html, /\.submit(\.call)?\(/, "the page submits itself");
  return { action: decode(form[1]), fields };
}

/** GET /login and the provider's authorize step; returns what the provider sent back. */
async function startSignIn(stack, jar) {
  const login = await get(`${stack.preview.origin}/login`);
  assert.equal(login.status, 302, await login.text());
  const setCookie = jar.take(login);
  const authorize = new URL(login.headers.get("location"));
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${stack.provider.issuer}/authorize`);
  return { authorize, setCookie };
}

describeNeeding([needRelay], "express-preview end to end", () => {
  describe("express-preview, response_mode=query", () => {
    let stack;
    before(async () => {
      stack = await startStack({ user: USER });
    }, TIMEOUT);
    after(() => stack?.stop(), TIMEOUT);

    test("signs in through the relay and shows the user", TIMEOUT, async () => {
      const jar = new Jar();
      const home = await get(`${stack.preview.origin}/`);
      assert.match(await home.text(), /<a id="signin" href="\/login">Sign in<\/a>/);

      // 1. The preview starts the sign-in.
      const { authorize, setCookie } = await startSignIn(stack, jar);
      const p = authorize.searchParams;
      assert.equal(p.get("redirect_uri"), stack.relay.callbackUrl(PROVIDER_ID), "the provider is sent the relay's callback");
      assert.equal(p.get("response_type"), "code");
      assert.equal(p.get("code_challenge_method"), "S256");
      assert.match(p.get("code_challenge"), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(p.get("response_mode"), null);
      const state = p.get("state");
      const checked = await verifyState({ secrets: [stack.secret], state });
      assert.equal(checked.ok && checked.target, stack.preview.callbackUrl, "the state carries the preview's callback");
      const stateCookie = setCookie.find((c) => c.startsWith("authrelay_oauth="));
      assert.match(stateCookie, /; HttpOnly/);
      assert.match(stateCookie, /; SameSite=Lax/);
      assert.match(stateCookie, /; Path=\/api\/auth\/callback/);
      assert.doesNotMatch(stateCookie, /Secure/, "plain http: no Secure for a Lax cookie");

      // 2. The provider sends the browser to the relay.
      const fromProvider = await get(authorize.href);
      assert.equal(fromProvider.status, 302);
      const atRelay = new URL(fromProvider.headers.get("location"));
      assert.equal(`${atRelay.origin}${atRelay.pathname}`, stack.relay.callbackUrl(PROVIDER_ID));
      assert.equal(atRelay.searchParams.get("state"), state);
      const code = atRelay.searchParams.get("code");
      assert.ok(code);

      // 3. The relay bounces it to the preview, code and state intact.
      const fromRelay = await get(atRelay.href);
      assert.equal(fromRelay.status, 302, stack.relay.proc.output());
      const atPreview = new URL(fromRelay.headers.get("location"));
      assert.equal(`${atPreview.origin}${atPreview.pathname}`, stack.preview.callbackUrl);
      assert.equal(atPreview.searchParams.get("code"), code);
      assert.equal(atPreview.searchParams.get("state"), state);

      // 4. The preview checks the cookie, exchanges the code, sets its session.
      const done = await get(atPreview.href, { headers: { cookie: jar.header() } });
      assert.equal(done.status, 303, `${await done.text()}\n${stack.preview.proc.output()}`);
      assert.equal(done.headers.get("location"), "/");
      jar.take(done);
      assert.ok(!jar.cookies.has("authrelay_oauth"), "the state cookie is single-use");
      assert.ok(jar.cookies.has("preview_session"));

      // 5. Signed in.
      const signedIn = await get(`${stack.preview.origin}/`, { headers: { cookie: jar.header() } });
      const text = await signedIn.text();
      assert.match(text, /<p id="user">Signed in as ada@example\.test<\/p>/);

      // Replaying the callback: the cookie is gone, so the preview refuses.
      const replay = await get(atPreview.href, { headers: { cookie: jar.header() } });
      assert.equal(replay.status, 400);
      assert.match(await replay.text(), /id="reason">state_cookie_missing</);
    });

    test("a callback whose state is not this browser's is refused (login CSRF)", TIMEOUT, async () => {
      const victim = new Jar();
      await startSignIn(stack, victim);
      const attacker = new Jar();
      const { authorize } = await startSignIn(stack, attacker);
      const fromProvider = await get(authorize.href);
      const fromRelay = await get(fromProvider.headers.get("location"));
      assert.equal(fromRelay.status, 302);
      // The attacker's callback URL, opened in the victim's browser.
      const res = await get(fromRelay.headers.get("location"), { headers: { cookie: victim.header() } });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /id="reason">state_mismatch</);
    });

    test("a provider error is forwarded by the relay and shown by the preview", TIMEOUT, async () => {
      const jar = new Jar();
      const { authorize } = await startSignIn(stack, jar);
      const state = authorize.searchParams.get("state");
      const url = `${stack.relay.callbackUrl(PROVIDER_ID)}?error=access_denied&state=${encodeURIComponent(state)}`;
      const fromRelay = await get(url);
      assert.equal(fromRelay.status, 302);
      const res = await get(fromRelay.headers.get("location"), { headers: { cookie: jar.header() } });
      assert.equal(res.status, 400);
      const text = await res.text();
      assert.match(text, /id="reason">provider_error</);
      assert.match(text, /access_denied/);
    });
  });

  describe("express-preview, response_mode=form_post (fetch, no browser)", () => {
    let stack;
    before(async () => {
      stack = await startStack({ user: USER, responseMode: "form_post" });
    }, TIMEOUT);
    after(() => stack?.stop(), TIMEOUT);

    test("provider form → relay form → preview: signed in", TIMEOUT, async () => {
      const jar = new Jar();
      const { authorize, setCookie } = await startSignIn(stack, jar);
      assert.equal(authorize.searchParams.get("response_mode"), "form_post");
      const state = authorize.searchParams.get("state");
      const stateCookie = setCookie.find((c) => c.startsWith("authrelay_oauth="));
      assert.match(stateCookie, /; SameSite=None/);
      assert.match(stateCookie, /; Secure/);

      // The provider answers with a page that posts code and state to the relay.
      const providerPage = await get(authorize.href);
      assert.equal(providerPage.status, 200);
      const first = readForm(await providerPage.text());
      assert.equal(first.action, stack.relay.callbackUrl(PROVIDER_ID));
      assert.deepEqual(first.fields.map(([k]) => k).sort(), ["code", "state"]);

      // The relay answers with its own page that re-posts the same fields to the preview.
      const relayPage = await get(first.action, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(first.fields).toString(),
      });
      assert.equal(relayPage.status, 200, stack.relay.proc.output());
      assert.match(relayPage.headers.get("content-security-policy"), new RegExp(`form-action ${stack.preview.origin}(;|$)`));
      const second = readForm(await relayPage.text());
      assert.equal(second.action, stack.preview.callbackUrl);
      assert.deepEqual(second.fields, first.fields, "every field forwarded unchanged");
      assert.equal(new Map(second.fields).get("state"), state);

      const done = await get(second.action, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header() },
        body: new URLSearchParams(second.fields).toString(),
      });
      assert.equal(done.status, 303, `${await done.text()}\n${stack.preview.proc.output()}`);
      jar.take(done);
      const signedIn = await get(`${stack.preview.origin}/`, { headers: { cookie: jar.header() } });
      assert.match(await signedIn.text(), /<p id="user">Signed in as ada@example\.test<\/p>/);
    });
  });
});
