// A real Next.js preview with next-auth v5 signs in through the relay: `next start` behind
// a TLS-terminating proxy that sets `Host` and `X-Forwarded-*` as Vercel and common
// proxies do, under a public name (`pr-N.preview.test`) that only this test resolves (to
// 127.0.0.6: in Node by a lookup function, in Chromium by --host-resolver-rules), a real
// OpenID Connect provider (oauth2-mock-server) and the relay binary. Each setup is one
// `next start` of the same build:
//
//   recommended   AUTH_URL = the public URL, secret [new, old]   → signs in (AUTH_SECRET_1)
//   old-secret    AUTH_URL, AUTH_SECRET = old only               → signs in (AUTH_SECRET)
//   env-only      AUTH_SECRET = old, AUTH_SECRET_1 = new, no `secret` in the config
//                 → next-auth encrypts with AUTH_SECRET: AUTH_SECRET_1 never reaches Auth.js
//   no-auth-url   AUTH_TRUST_HOST, no AUTH_URL                   → the state names
//                 https://localhost:<next port>: refused target_not_allowed with
//                 detail=loopback_target and the advice
//   bound-127     the same with `next start -H 127.0.0.7`       → still localhost (Next.js
//                 names 127.x hosts localhost)
//   host-header   the same with Next.js's experimental.trustHostHeader (what Next.js
//                 turns on for builds on Vercel; Next.js 16 calls it an invalid key in
//                 next.config) → still localhost under `next start`
//   untrusted     neither AUTH_URL nor AUTH_TRUST_HOST          → Auth.js refuses the host
//                 itself (UntrustedHost) and no sign-in starts
//
// Then Chromium signs in on `recommended` and sees the refusal for `no-auth-url`;
// screenshots go to target/nextjs/. Without Chromium that part is skipped, unless CI is
// set: then it fails. Run from tests/nextjs/run.sh, which builds the app when needed.

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { chromium } from "playwright-core";

import { CookieJar, refusalReason } from "../node/lib/http.mjs";
import { startProvider, CLIENT_ID, CLIENT_SECRET } from "../node/lib/provider.mjs";
import { repoRoot, startRelay } from "../node/lib/relay.mjs";
import { chromiumOptions, describeNeeding, needChromium, needRelay } from "../node/lib/suite.mjs";
import { hop } from "./lib/fetch.mjs";
import { PROXY_ADDRESS, PUBLIC_SUFFIX, startNextPreview } from "./lib/next-preview.mjs";
import { makeCertificate } from "./lib/tls-proxy.mjs";

const TEST_TIMEOUT = 60_000;
const ARTIFACTS = `${repoRoot}target/nextjs`;
const OLD_SECRET = `nextjs-old-${randomBytes(24).toString("base64url")}`;
const NEW_SECRET = `nextjs-new-${randomBytes(24).toString("base64url")}`;
const USER = { sub: `user-${randomUUID()}`, email: "ada@example.test", name: "Ada Lovelace" };
const ADVICE_START = "The sign-in began on a loopback address";

let dir;
let cert;
let provider;
let relay;
const previews = {};
let names = {};

/** One hop, resolving the previews' public names to their proxy. */
const go = (jar, url, opts = {}) => hop(jar, url, { names, ca: cert.cert, ...opts });

/** The preview's Auth.js environment: the relay as redirect proxy, the provider's client. */
function authEnv(extra) {
  return {
    AUTH_REDIRECT_PROXY_URL: relay.baseUrl,
    AUTH_MOCK_ID: CLIENT_ID,
    AUTH_MOCK_SECRET: CLIENT_SECRET,
    AUTH_MOCK_ISSUER: provider.issuer,
    ...extra,
  };
}

/**
 * Starts the setup `name`; with `publicUrl`, AUTH_URL is the preview's public origin.
 * Resolves once it answers, into `previews`, where the suite's `after` stops it.
 */
async function start(name, { env, listenHost, publicUrl = false }) {
  previews[name] = await startNextPreview({
    name,
    cert,
    listenHost,
    env: (origin) => authEnv(publicUrl ? { ...env, AUTH_URL: origin } : env),
  });
}

/**
 * The sign-in up to the relay's answer: csrf, POST signin/mock at the public origin,
 * the provider's /authorize, the relay's callback. Returns { jar, authorize, relayAnswer, event }.
 */
async function signInToRelay(preview, { accept = "text/html" } = {}) {
  const jar = new CookieJar();
  const csrf = await go(jar, `${preview.publicOrigin}/api/auth/csrf`);
  assert.equal(csrf.status, 200, csrf.text);
  const start = await go(jar, `${preview.publicOrigin}/api/auth/signin/mock`, {
    method: "POST",
    form: { csrfToken: csrf.json().csrfToken, callbackUrl: `${preview.publicOrigin}/` },
  });
  assert.equal(start.status, 302, start.text);
  const authorize = new URL(start.location);
  assert.equal(authorize.origin, provider.issuer, `the preview sends the browser to the provider: ${start.location}`);
  assert.equal(authorize.searchParams.get("redirect_uri"), relay.callbackUrl("mock"));
  const atProvider = await go(jar, authorize.href);
  assert.equal(atProvider.status, 302);
  const back = new URL(atProvider.location);
  assert.equal(`${back.origin}${back.pathname}`, relay.callbackUrl("mock"));
  const before = relay.events().length;
  const relayAnswer = await go(jar, back.href, { headers: { accept } });
  const event = await relay.waitForEvent(before);
  return { jar, authorize, relayAnswer, event, back };
}

/** The whole sign-in; resolves with the relay's log event once the preview has a session. */
async function signIn(preview) {
  const { jar, relayAnswer, event } = await signInToRelay(preview);
  assert.equal(relayAnswer.status, 302, `${event.reason} ${event.detail}`);
  const target = new URL(relayAnswer.location);
  assert.equal(target.origin, preview.publicOrigin, "the relay sends the browser to the preview's public URL");
  assert.equal(target.pathname, "/api/auth/callback/mock");
  const done = await go(jar, target.href);
  assert.equal(done.status, 302, done.text);
  assert.equal(done.location, `${preview.publicOrigin}/`);
  const session = await go(jar, `${preview.publicOrigin}/api/auth/session`);
  assert.equal(session.status, 200);
  assert.deepEqual(
    { ...session.json().user, image: undefined },
    { name: USER.name, email: USER.email, sub: USER.sub, image: undefined },
  );
  assert.equal(event.outcome, "redirect");
  assert.equal(event.target_host, preview.hostName);
  return event;
}

describeNeeding([needRelay], "next-auth v5 preview (next start behind a TLS proxy) through authrelay", () => {

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "authrelay-nextjs-"));
    cert = await makeCertificate(dir, `*.${PUBLIC_SUFFIX}`);
    provider = await startProvider({ user: USER });
    relay = await startRelay({
      secrets: { AUTH_SECRET: OLD_SECRET, AUTH_SECRET_1: NEW_SECRET },
      allowedOrigins: `https://*.${PUBLIC_SUFFIX}:*`,
    });
    const both = { AUTH_SECRET: OLD_SECRET, AUTH_SECRET_1: NEW_SECRET };
    // Every start settles before a failure is thrown, so that `after` stops every preview
    // that did start: one still starting would outlive the suite.
    const starts = await Promise.allSettled([
      start("recommended", { env: both, publicUrl: true }),
      start("old-secret", { env: { AUTH_SECRET: OLD_SECRET }, publicUrl: true }),
      start("env-only", { env: { ...both, TEST_SECRET_FROM_ENV_ONLY: "1" }, publicUrl: true }),
      start("no-auth-url", { env: { ...both, AUTH_TRUST_HOST: "true" } }),
      start("bound-127", { env: { ...both, AUTH_TRUST_HOST: "true" }, listenHost: "127.0.0.7" }),
      start("host-header", { env: { ...both, AUTH_TRUST_HOST: "true", TEST_NEXT_TRUST_HOST_HEADER: "1" } }),
      start("untrusted", { env: both }),
    ]);
    const failed = starts.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    names = Object.fromEntries(Object.values(previews).map((p) => [p.hostName, PROXY_ADDRESS]));
  }, { timeout: 120_000 });

  after(async () => {
    await Promise.all(Object.values(previews).map((p) => p.stop()));
    await relay?.stop();
    await provider?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe("sign-in", () => {
    test("with AUTH_URL = the public URL and secret [new, old]: signs in; the relay opens the state with AUTH_SECRET_1", { timeout: TEST_TIMEOUT }, async () => {
      const event = await signIn(previews.recommended);
      assert.equal(event.secret, "AUTH_SECRET_1");
    });

    test("a preview still on the old secret signs in: the relay opens its state with AUTH_SECRET", { timeout: TEST_TIMEOUT }, async () => {
      const event = await signIn(previews["old-secret"]);
      assert.equal(event.secret, "AUTH_SECRET");
    });

    test("AUTH_SECRET_1 in the environment alone does not reach next-auth: the state is made with AUTH_SECRET", { timeout: TEST_TIMEOUT }, async () => {
      const event = await signIn(previews["env-only"]);
      assert.equal(event.secret, "AUTH_SECRET");
    });
  });

  describe("without AUTH_URL", () => {
    for (const name of ["no-auth-url", "bound-127", "host-header"]) {
      test(`${name}: the state names localhost, not the public name; refused target_not_allowed with the loopback advice`, { timeout: TEST_TIMEOUT }, async () => {
        const { relayAnswer, event, back } = await signInToRelay(previews[name]);
        assert.equal(relayAnswer.status, 403);
        assert.equal(relayAnswer.location, null);
        assert.equal(refusalReason(relayAnswer.text), "target_not_allowed");
        assert.match(relayAnswer.text, new RegExp(`<p id="advice">${ADVICE_START}[^<]*AUTH_URL`));
        assert.equal(relayAnswer.text.includes("localhost:"), false, "the page names no port or target");
        assert.equal(event.reason, "target_not_allowed");
        assert.equal(event.detail, "loopback_target");
        assert.equal(event.target_host, "localhost", "next start names itself localhost, whatever the Host header");
        assert.equal(event.secret, "AUTH_SECRET_1", "the state itself was fine");
        const asJson = await go(null, back.href, { headers: { accept: "application/json" } });
        assert.equal(asJson.status, 403);
        assert.equal(asJson.json().error, "target_not_allowed");
        assert.ok(asJson.json().advice.startsWith(ADVICE_START), asJson.text);
      });
    }

    test("no-auth-url: Auth.js's own sign-in page posts to https://localhost:<next port>, away from the public name", { timeout: TEST_TIMEOUT }, async () => {
      const preview = previews["no-auth-url"];
      const page = await go(new CookieJar(), `${preview.publicOrigin}/api/auth/signin`);
      assert.equal(page.status, 200);
      const port = new URL(preview.upstream).port;
      assert.match(page.text, new RegExp(`action="https://localhost:${port}/api/auth/signin/mock"`));
      const recommended = await go(new CookieJar(), `${previews.recommended.publicOrigin}/api/auth/signin`);
      assert.match(recommended.text, new RegExp(`action="${previews.recommended.publicOrigin}/api/auth/signin/mock"`));
    });

    test("untrusted: without AUTH_URL or AUTH_TRUST_HOST, Auth.js refuses the host and no sign-in starts", { timeout: TEST_TIMEOUT }, async () => {
      const preview = previews.untrusted;
      const jar = new CookieJar();
      const csrf = await go(jar, `${preview.publicOrigin}/api/auth/csrf`);
      assert.equal(csrf.status, 500, csrf.text);
      assert.match(preview.proc.output(), /UntrustedHost/);
    });
  });

  // Chromium's part runs inside this suite, while the previews run.
  describeNeeding([needChromium], "in Chromium", browserTests);
});

function browserTests() {
  let browser;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch(
      chromiumOptions([`--host-resolver-rules=MAP *.${PUBLIC_SUFFIX} ${PROXY_ADDRESS}`]),
    );
  });

  after(async () => {
    await browser?.close();
  });

  /** A fresh context that accepts the proxy's self-signed certificate. */
  async function withPage(name, fn) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    try {
      await fn(page);
    } catch (error) {
      await page.screenshot({ path: `${ARTIFACTS}/failure-${name}.png`, fullPage: true }).catch(() => {});
      throw error;
    } finally {
      await context.close().catch(() => {});
    }
  }

  test("signs in on the recommended setup: the preview's page names the user", { timeout: TEST_TIMEOUT }, async () => {
    const preview = previews.recommended;
    const before = relay.events().length;
    await withPage("signed-in", async (page) => {
      await page.goto(`${preview.publicOrigin}/api/auth/signin?callbackUrl=${encodeURIComponent(`${preview.publicOrigin}/`)}`);
      await page.getByRole("button", { name: /Mock OIDC/ }).click();
      await page.waitForURL(`${preview.publicOrigin}/`);
      const user = page.locator("#user");
      await user.waitFor();
      assert.match(await user.innerText(), new RegExp(`Signed in as ${USER.name}.*${USER.sub}`));
      await page.screenshot({ path: `${ARTIFACTS}/nextjs-signed-in.png`, fullPage: true });
    });
    const event = await relay.waitForEvent(before);
    assert.equal(event.outcome, "redirect");
    assert.equal(event.target_host, preview.hostName);
  });

  test("without AUTH_URL the browser stops at the relay's refusal, which names the fix", { timeout: TEST_TIMEOUT }, async () => {
    const preview = previews["no-auth-url"];
    await withPage("refused", async (page) => {
      // Auth.js's own sign-in page would post to the URL it was given, https://localhost:
      // <next port>, and the browser would never reach the relay: start the sign-in as a
      // custom button on the preview's page does, a same-origin form post.
      await page.goto(`${preview.publicOrigin}/healthz`);
      await page.evaluate(async () => {
        const { csrfToken } = await (await fetch("/api/auth/csrf")).json();
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/api/auth/signin/mock";
        const input = document.createElement("input");
        Object.assign(input, { type: "hidden", name: "csrfToken", value: csrfToken });
        form.append(input);
        document.body.append(form);
        form.submit();
      });
      await page.locator("#reason").waitFor();
      assert.ok(page.url().startsWith(relay.callbackUrl("mock")), page.url());
      assert.equal(await page.locator("#reason").innerText(), "target_not_allowed");
      assert.match(await page.locator("#advice").innerText(), /AUTH_URL/);
      await page.screenshot({ path: `${ARTIFACTS}/nextjs-refused-loopback.png`, fullPage: true });
    });
  });
}
