// The response_mode=form_post sign-in in a real browser: Debian's Chromium, driven by
// playwright-core, with a fresh profile per test.
//
//   preview (127.0.0.2) /login ──302──▶ provider (127.0.0.3) /authorize
//   provider page ──auto-submit POST code,state──▶ relay (127.0.0.1) /api/auth/callback/oidc
//   relay page    ──auto-submit POST code,state──▶ preview /api/auth/callback/oidc   (cross-site)
//   preview ──303──▶ /   "Signed in as …"
//
// The last POST comes from the relay's page, another site: the browser sends the preview's
// state cookie with it only if the cookie is SameSite=None (which needs Secure). These tests
// check both sides of that, and the plain-http caveat. See docs/form-post.md.
//
// Without /usr/bin/chromium the tests are skipped, unless CI is set: then they fail.
// The relay binary is the one scripts/lib.sh's relay_bin picks (tests/node/lib/relay.mjs);
// without it the tests are skipped too, unless CI is set.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { after, test } from "node:test";

import { chromium } from "playwright-core";

import { repoRoot } from "../../../tests/node/lib/process.mjs";
import { chromiumOptions, describeNeeding, needChromium, needRelay } from "../../../tests/node/lib/suite.mjs";
import { PROVIDER_ID, startStack } from "../harness/stack.mjs";

const ARTIFACTS = `${repoRoot}artifacts`;
const TEST = { timeout: 60_000 };
const NAV_TIMEOUT = 20_000;
const USER = { sub: "user-browser-1", email: "grace@example.test", name: "Grace Hopper" };


const cleanups = [];
after(async () => {
  await Promise.allSettled(cleanups.reverse().map((stop) => stop()));
}, { timeout: 20_000 });

/** A browser with a fresh user-data directory, closed and removed after the test. */
async function launch(extraArgs = []) {
  const profile = await mkdtemp(`${tmpdir()}/authrelay-form-post-`);
  const context = await chromium.launchPersistentContext(profile, chromiumOptions(extraArgs));
  context.setDefaultTimeout(NAV_TIMEOUT);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT);
  const close = async () => {
    await context.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  };
  cleanups.push(close);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close };
}

/** Every main-frame navigation request: method, URL and the headers Chromium sent. */
function recordNavigations(page) {
  const hops = [];
  page.on("request", (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      const hop = { method: request.method(), url: request.url(), headers: null };
      hops.push(hop);
      hop.ready = request.allHeaders().then((h) => (hop.headers = h), () => (hop.headers = {}));
    }
  });
  return {
    hops,
    settled: async () => {
      await Promise.all(hops.map((h) => h.ready));
      return hops;
    },
  };
}

async function screenshotOnFailure(page, name, fn) {
  try {
    await fn();
  } catch (error) {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/form-post-failure-${name}.png`, fullPage: true, timeout: 5000 }).catch(() => {});
    throw error;
  }
}

const cookieValue = (header, name) =>
  (header ?? "").split(";").map((s) => s.trim()).find((s) => s.startsWith(`${name}=`))?.slice(name.length + 1);

describeNeeding([needRelay, needChromium], "form_post sign-in through the relay, in Chromium", () => {
  test("state cookie SameSite=None; Secure: sent on the relay's cross-site POST, signed in", TEST, async () => {
    const stack = await startStack({ user: USER, responseMode: "form_post", stateCookieSameSite: "none" });
    cleanups.push(stack.stop);
    const { page, context, close } = await launch();
    const nav = recordNavigations(page);
    await screenshotOnFailure(page, "none", async () => {
      const home = `${stack.preview.origin}/`;
      await page.goto(home);
      await page.locator("#signin").click();
      await page.waitForURL(home);
      assert.equal(page.url(), home, "back on the preview's home page");
      await page.locator("#user").waitFor();
      assert.equal(await page.locator("#user").innerText(), `Signed in as ${USER.email}`);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/form-post-signed-in.png`, fullPage: true });

      const hops = await nav.settled();
      const relayCallback = stack.relay.callbackUrl(PROVIDER_ID);
      const toRelay = hops.find((h) => h.url === relayCallback);
      const toPreview = hops.find((h) => h.url === stack.preview.callbackUrl);
      assert.equal(toRelay?.method, "POST", `the provider's page posts to the relay: ${hops.map((h) => `${h.method} ${h.url}`).join(", ")}`);
      assert.equal(toPreview?.method, "POST", "the relay's page posts to the preview");
      // The relay (127.0.0.1) and the preview (127.0.0.2) are different sites.
      assert.notEqual(new URL(relayCallback).hostname, new URL(stack.preview.callbackUrl).hostname);
      assert.equal(toPreview.headers["sec-fetch-site"], "cross-site", "Chromium calls the POST cross-site");
      const sent = cookieValue(toPreview.headers.cookie, "authrelay_oauth");
      assert.ok(sent, `the state cookie was sent on the cross-site POST (cookie: ${toPreview.headers.cookie ?? "none"})`);
      const state = stack.provider.authorizeRequests.at(-1).get("state");
      assert.equal(sent.split(".")[0], state, "the cookie holds the state that came back");
      assert.equal(stack.provider.authorizeRequests.at(-1).get("response_mode"), "form_post");

      const cookies = await context.cookies(stack.preview.origin);
      assert.ok(cookies.some((c) => c.name === "preview_session" && c.httpOnly));
      assert.ok(!cookies.some((c) => c.name === "authrelay_oauth"), "the state cookie was used up");
    });
    await close();
  });

  test("state cookie SameSite=Lax: not sent on the cross-site POST, the sign-in fails", TEST, async () => {
    const stack = await startStack({ user: USER, responseMode: "form_post", stateCookieSameSite: "lax" });
    cleanups.push(stack.stop);
    const { page, context, close } = await launch();
    const nav = recordNavigations(page);
    await screenshotOnFailure(page, "lax", async () => {
      await page.goto(`${stack.preview.origin}/login`);
      await page.waitForURL(stack.preview.callbackUrl);
      await page.locator("#reason").waitFor();
      assert.equal(await page.locator("#reason").innerText(), "state_cookie_missing");
      const hops = await nav.settled();
      const toPreview = hops.find((h) => h.url === stack.preview.callbackUrl);
      assert.equal(toPreview?.method, "POST");
      assert.equal(cookieValue(toPreview.headers.cookie, "authrelay_oauth"), undefined, "no state cookie on the POST");
      // The cookie was set on /login (a same-site response); the browser withheld it.
      assert.ok(!(await context.cookies(stack.preview.origin)).some((c) => c.name === "preview_session"));
    });
    await close();
  });

  test("for contrast: a query callback (302 GET bounce) works with SameSite=Lax", TEST, async () => {
    const stack = await startStack({ user: USER, responseMode: "query" });
    cleanups.push(stack.stop);
    const { page, close } = await launch();
    await screenshotOnFailure(page, "query-lax", async () => {
      const home = `${stack.preview.origin}/`;
      await page.goto(`${stack.preview.origin}/login`);
      await page.waitForURL(home);
      assert.equal(await page.locator("#user").innerText(), `Signed in as ${USER.email}`);
    });
    await close();
  });

  test("the plain-http caveat: Secure cookies are kept on loopback http origins only", TEST, async () => {
    // The example's state cookie attributes for form_post, served over plain http from
    // 127.0.0.2 and from a non-loopback name (mapped onto 127.0.0.2 inside Chromium, so
    // the traffic stays on loopback).
    const server = http.createServer((req, res) => {
      res.setHeader("Set-Cookie", [
        "none_secure=1; Path=/; HttpOnly; SameSite=None; Secure",
        "none_plain=1; Path=/; HttpOnly; SameSite=None",
        "lax_plain=1; Path=/; HttpOnly; SameSite=Lax",
      ]);
      res.end("ok");
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.2", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address();
    const { page, context, close } = await launch(["--host-resolver-rules=MAP preview.test 127.0.0.2"]);
    const kept = async (host) => {
      await page.goto(`http://${host}:${port}/`);
      return (await context.cookies(`http://${host}:${port}/`)).map((c) => c.name).sort();
    };
    assert.deepEqual(await kept("127.0.0.2"), ["lax_plain", "none_secure"], "loopback http: Secure accepted, None without Secure refused");
    assert.deepEqual(await kept("preview.test"), ["lax_plain"], "other http origins: Secure cookies refused");
    await close();
  });
});
