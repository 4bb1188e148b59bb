// The Passport preview's sign-in through the relay's authorize route in a real browser
// (Debian's Chromium, driven by playwright-core), with response_mode=form_post: the
// browser follows every hop itself and keeps its own cookies. The provider's page (in
// front of oauth2-mock-server, startFormPostAuthorize) posts code and state to the relay's
// callback when the test clicks its button; the relay's own page then posts them, the
// library's state restored, to the preview, whose session cookie is SameSite=None; Secure
// (docs/form-post.md).
//
// Without /usr/bin/chromium the test is skipped, unless CI is set: then it fails.
//
// Run: AUTHRELAY_BIN=target/release/authrelay node --test tests/node/oauth-library.browser.test.mjs

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { startPassportStack } from "./lib/passport-preview.mjs";
import { repoRoot } from "./lib/relay.mjs";
import { chromiumOptions, describeNeeding, needChromium, needRelay } from "./lib/suite.mjs";

const TEST_TIMEOUT = 60_000;
const NAV_TIMEOUT = 20_000;
const ARTIFACTS = `${repoRoot}artifacts`;
const PROVIDER_ID = "mock";
const USER = { sub: `user-${randomUUID()}`, email: "frances@example.test", name: "Frances Allen" };

describeNeeding([needRelay, needChromium], "Passport preview, form_post, through the authorize route in Chromium", () => {
  let stack;
  let provider;
  let relay;
  let preview;
  let browser;

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    stack = await startPassportStack({ user: USER, providerId: PROVIDER_ID, formPost: true });
    ({ provider, relay, preview } = stack);
    browser = await chromium.launch(chromiumOptions());
  }, { timeout: 60_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await stack?.stop();
  }, { timeout: 20_000 });

  test("signs in with form_post; Passport gets its own state back in the posted form", { timeout: TEST_TIMEOUT }, async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(NAV_TIMEOUT);
    context.setDefaultNavigationTimeout(NAV_TIMEOUT);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    /** The library's state as it left the preview. */
    let libraryState;
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.href.startsWith(`${relay.baseUrl}/authorize/`)) libraryState = url.searchParams.get("state");
    });
    try {
      await page.goto(preview.signInUrl);
      await page.locator("#go").click();
      await page.waitForURL(`${preview.origin}/me`);
      assert.equal(await page.locator("#me").textContent(), USER.sub);
      await page.screenshot({ path: `${ARTIFACTS}/passport-form-post-signed-in.png` });
    } catch (error) {
      await page.screenshot({ path: `${ARTIFACTS}/passport-form-post-failure.png`, fullPage: true, timeout: 5000 }).catch(() => {});
      throw error;
    } finally {
      await context.close().catch(() => {});
    }
    assert.ok(libraryState, "the preview sent its state to the relay");
    const asked = stack.front.requests.at(-1);
    assert.equal(asked.get("response_mode"), "form_post");
    assert.match(asked.get("state") ?? "", /^R/, "the provider saw an envelope");
    const last = preview.callbacks.at(-1);
    assert.equal(last.method, "POST", "the callback arrived as a form post");
    assert.equal(last.params.state, libraryState, "Passport got its own state back");
    assert.ok(last.params.code, "with the code");
    assert.deepEqual(errors, []);
  });
});
