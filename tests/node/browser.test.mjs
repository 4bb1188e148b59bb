// The same sign-in in a real browser: Debian's Chromium, driven by playwright-core. The
// browser follows every redirect itself (provider → relay → preview) and keeps its own
// cookies; the test only clicks the provider's button on Auth.js's sign-in page.
//
// Screenshots of the signed-in page and of a refusal go to artifacts/ at the repository
// root. Without /usr/bin/chromium the tests are skipped, unless CI is set: then they fail.
//
// Run: AUTHRELAY_BIN=target/release/authrelay node --test tests/node/browser.test.mjs

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { PROVIDER_ID, startPreview } from "./lib/preview-app.mjs";
import { startProvider } from "./lib/provider.mjs";
import { repoRoot, signState, startRelay } from "./lib/relay.mjs";
import { chromiumOptions, describeNeeding, needChromium } from "./lib/suite.mjs";

const TEST_TIMEOUT = 60_000;
const NAV_TIMEOUT = 20_000;
const ARTIFACTS = `${repoRoot}artifacts`;

const SECRET = `browser-${randomBytes(24).toString("base64url")}`;
const USER = { sub: `user-${randomUUID()}`, email: "grace@example.test", name: "Grace Hopper" };

let provider;
let relay;
let preview;
let browser;
const cleanups = [];

/** Runs `fn(page)` in a fresh context; on failure keeps a screenshot of where it stopped. */
async function withPage(name, fn) {
  const context = await browser.newContext();
  context.setDefaultTimeout(NAV_TIMEOUT);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT);
  const page = await context.newPage();
  try {
    await fn(page);
  } catch (error) {
    await page
      .screenshot({ path: `${ARTIFACTS}/browser-failure-${name}.png`, fullPage: true, timeout: 5000 })
      .catch(() => {});
    throw error;
  } finally {
    await context.close().catch(() => {});
  }
}

/** Records the main frame's navigations: URL, status and Location of each response. */
function recordHops(page) {
  const hops = [];
  page.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      hops.push({ url: response.url(), status: response.status(), location: response.headers().location });
    }
  });
  return hops;
}

describeNeeding([needChromium], "Auth.js preview through authrelay, in Chromium", browserTests);

function browserTests() {
  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    provider = await startProvider({ host: "127.0.0.3", user: USER });
    cleanups.push(() => provider.stop());
    relay = await startRelay({ secrets: { AUTH_SECRET: SECRET }, allowedOrigins: "http://127.0.0.2:*" });
    cleanups.push(() => relay.stop());
    preview = await startPreview({
      host: "127.0.0.2",
      issuer: provider.issuer,
      secrets: [SECRET],
      redirectProxyUrl: relay.baseUrl,
      name: "preview (browser test)",
    });
    cleanups.push(() => preview.stop());
    browser = await chromium.launch(chromiumOptions());
    cleanups.push(() => browser.close());
  }, { timeout: 45_000 });

  after(async () => {
    await Promise.allSettled(cleanups.reverse().map((stop) => stop()));
  }, { timeout: 20_000 });

  test("signs in from Auth.js's sign-in page, bouncing through the relay", { timeout: TEST_TIMEOUT }, async () => {
    await withPage("signin", async (page) => {
      const hops = recordHops(page);
      const home = `${preview.origin}/`;
      await page.goto(`${preview.baseUrl}/signin?callbackUrl=${encodeURIComponent(home)}`);
      await page.getByRole("button", { name: /Mock OIDC/ }).click();
      await page.waitForURL(home);

      await page.locator("#user").waitFor();
      assert.match(await page.locator("#user").innerText(), new RegExp(`Signed in as ${USER.name}`));
      const session = await page.evaluate(async () => {
        const res = await fetch("/api/auth/session");
        return res.json();
      });
      assert.equal(session?.user?.email, USER.email);
      assert.equal(session.user.name, USER.name);
      assert.equal(session.user.sub, USER.sub);
      await page.screenshot({ path: `${ARTIFACTS}/browser-signed-in.png`, fullPage: true });

      // The hops the browser took.
      assert.equal(provider.authorizeRequests.at(-1).get("redirect_uri"), relay.callbackUrl(PROVIDER_ID));
      const relayCallback = relay.callbackUrl(PROVIDER_ID);
      const fromProvider = hops.find((h) => h.url.startsWith(`${provider.issuer}/authorize`));
      assert.equal(fromProvider?.status, 302, JSON.stringify(hops));
      assert.ok(fromProvider.location.startsWith(`${relayCallback}?`), "provider → relay");
      const fromRelay = hops.find((h) => h.url.startsWith(`${relayCallback}?`));
      assert.equal(fromRelay?.status, 302, JSON.stringify(hops));
      assert.ok(fromRelay.location.startsWith(`${preview.callbackUrl}?`), "relay → preview");
      const sent = new URL(fromProvider.location).searchParams;
      const forwarded = new URL(fromRelay.location).searchParams;
      for (const key of ["code", "state", "iss"]) {
        assert.equal(forwarded.get(key), sent.get(key), `${key} forwarded unchanged`);
      }
      const fromPreview = hops.find((h) => h.url.startsWith(`${preview.callbackUrl}?`));
      assert.equal(fromPreview?.status, 302, JSON.stringify(hops));
      assert.deepEqual(preview.errors, [], "Auth.js logged no error");

      const event = await relay.waitForEvent(0);
      assert.equal(event.outcome, "redirect");
      assert.equal(event.format, "authjs");
      assert.equal(event.secret, "AUTH_SECRET");
    });
  });

  test("shows the refusal page for a state whose target is off the allowlist", { timeout: TEST_TIMEOUT }, async () => {
    const state = await signState({
      secret: SECRET,
      target: `http://127.0.0.4:9/api/auth/callback/${PROVIDER_ID}`,
      provider: PROVIDER_ID,
      format: "authjs",
    });
    await withPage("refusal", async (page) => {
      const url = `${relay.callbackUrl(PROVIDER_ID)}?code=browser-test-code&state=${encodeURIComponent(state)}`;
      const response = await page.goto(url);
      assert.equal(response.status(), 403);
      assert.equal(page.url(), url, "the browser stayed on the relay");
      assert.equal(await page.locator("#reason").innerText(), "target_not_allowed");
      await page.screenshot({ path: `${ARTIFACTS}/browser-refusal.png`, fullPage: true });
    });
  });
}
