// The same sign-in in a real browser: Debian's Chromium, driven by playwright-core. The
// browser follows every redirect itself (provider → relay → preview) and keeps its own
// cookies; the test only clicks the provider's button on Auth.js's sign-in page.
//
// Then form_post callbacks: a provider-like page posts fields to the relay, and the
// relay's auto-submitting page must land the browser on a preview that records what it
// receives — whatever the fields are named (`submit`, `action`… shadow the form
// element's properties), and by the page's button when scripts are off.
//
// Screenshots of the signed-in page and of a refusal go to artifacts/ at the repository
// root. Without /usr/bin/chromium the tests are skipped, unless CI is set: then they fail.
//
// Run: AUTHRELAY_BIN=target/release/authrelay node --test tests/node/browser.test.mjs

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { listenOnFreePort, stopServer } from "./lib/http.mjs";
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
let formPreview;
const cleanups = [];

/** Escapes text for HTML element content and double-quoted attribute values. */
function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A preview that only records what is posted to it: every POST's method, path, content
 * type and body, the body decoded as a form into [name, value] pairs in order. It answers 200 with a page
 * whose #received says how many fields arrived.
 */
async function startFormPreview(host) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST") {
        // The browser's own requests (a favicon): not part of any test, and no error
        // in the console either.
        res.writeHead(204).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const fields = [...new URLSearchParams(body)];
      requests.push({ method: req.method, path: req.url, contentType: req.headers["content-type"], fields });
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><title>preview</title><p id="received">${fields.length} fields</p>`);
    });
  });
  const origin = `http://${host}:${await listenOnFreePort(server, host)}`;
  return {
    origin,
    callbackUrl: `${origin}/api/auth/callback/apple`,
    requests,
    stop: () => stopServer(server),
  };
}

/**
 * The provider's side of a form_post callback: a page (in `page`, at about:blank) whose
 * form posts `fields` to the relay's callback, submitted by a click on its button, as a
 * user on the provider's page would.
 */
async function postFromProvider(page, action, fields) {
  const inputs = fields
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  await page.setContent(
    `<!doctype html><form method="post" action="${escapeHtml(action)}">${inputs}<button id="go">Sign in</button></form>`,
  );
  await page.locator("#go").click();
}

// Names of form controls that shadow the form element's own properties
// (form.submit, form.action, …), and names that are HTML or script fragments: the one
// list the Rust tests read too.
const SHADOWING_NAMES = JSON.parse(
  await readFile(new URL("../fixtures/form-field-names.json", import.meta.url), "utf8"),
);

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
    formPreview = await startFormPreview("127.0.0.2");
    cleanups.push(() => formPreview.stop());
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

  /**
   * Posts `fields` plus a valid code and state to the relay from a provider page, and
   * asserts that the relay's page (auto-submitting, or by its button when scripts are
   * off) lands the browser on the preview with exactly those fields, without a script
   * error or a CSP violation.
   */
  async function formPostLands(page, extraFields, { click = false } = {}) {
    const problems = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    const state = await signState({
      secret: SECRET,
      target: formPreview.callbackUrl,
      provider: "apple",
      format: "native",
    });
    const fields = [["code", `code-${randomUUID()}`], ["state", state], ...extraFields];
    const before = formPreview.requests.length;
    const relayCallback = relay.callbackUrl("apple");
    await postFromProvider(page, relayCallback, fields);
    if (click) {
      await page.waitForURL(relayCallback);
      const button = page.getByRole("button", { name: "Continue" });
      assert.ok(await button.isVisible(), "the relay's page shows its Continue button");
      await button.click();
    }
    // The auto-submit happens as the relay's page loads: a page that stays put has failed.
    await page.waitForURL(formPreview.callbackUrl, { timeout: 5000 }).catch((error) => {
      throw new Error(`the browser stayed on ${page.url()} (${problems.join("; ") || "no script error"}): ${error.message}`);
    });
    assert.match(await page.locator("#received").innerText(), new RegExp(`^${fields.length} fields$`));
    assert.equal(formPreview.requests.length, before + 1, "the preview got one request");
    const got = formPreview.requests.at(-1);
    assert.equal(got.method, "POST");
    assert.equal(got.path, "/api/auth/callback/apple");
    assert.equal(got.contentType, "application/x-www-form-urlencoded");
    assert.deepEqual(got.fields, fields, "the preview got exactly the posted fields, in order");
    assert.deepEqual(problems, [], "no script error and no CSP violation");
  }

  for (const name of SHADOWING_NAMES) {
    test(`a posted field named ${JSON.stringify(name)} does not stop the form`, { timeout: TEST_TIMEOUT }, async () => {
      await withPage(`form-post-field-${SHADOWING_NAMES.indexOf(name)}`, (page) =>
        formPostLands(page, [[name, `value of ${name} & "more" <b>`]]),
      );
    });
  }

  test("a form post carrying every shadowing field name at once lands on the preview", { timeout: TEST_TIMEOUT }, async () => {
    await withPage("form-post-all-fields", (page) =>
      formPostLands(page, SHADOWING_NAMES.map((name, i) => [name, `v${i}`])),
    );
  });

  test("without scripts, the relay's Continue button posts the same fields", { timeout: TEST_TIMEOUT }, async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    context.setDefaultTimeout(NAV_TIMEOUT);
    try {
      const page = await context.newPage();
      await formPostLands(page, [["submit", "s"], ["user", '{"name":"Ann"}']], { click: true });
    } finally {
      await context.close().catch(() => {});
    }
  });
}
