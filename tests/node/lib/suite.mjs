// Test suites that need something besides Node: the relay binary, Debian's Chromium.
// Shared by tests/node, clients/js/test and examples/express-preview/test.
//
//   describeNeeding([needRelay, needChromium], "sign-in in Chromium", () => { … });
//
// Without what a suite needs it is skipped, saying why ("skipped: …"), unless CI is set:
// then a failing test stands in its place, so CI never passes by skipping.
// playwright-core stays with the callers (this module uses Node's own modules only): they
// pass chromiumOptions() to their own chromium.launch or launchPersistentContext.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";

import { relayBin } from "./relay.mjs";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** playwright launch options: Debian's Chromium, headless, fetching nothing in the background. */
export function chromiumOptions(extraArgs = []) {
  return { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30_000 };
}

/** Each `need…` returns null when the thing is there, else [what is missing, how to get it]. */
export const needRelay = () =>
  relayBin() ? null : ["authrelay binary not built", "cargo build --release --bin authrelay, or scripts/check-deploy"];
export const needChromium = () =>
  existsSync(CHROMIUM) ? null : ["chromium not installed", `${CHROMIUM} is missing: apt-get install -y chromium`];

/** describe(title, body) when every need is met; else a skipped test, or under CI a failing one. */
export function describeNeeding(needs, title, body) {
  const missing = needs.map((need) => need()).find(Boolean);
  if (!missing) {
    describe(title, body);
    return;
  }
  const [what, fix] = missing;
  if (process.env.CI) {
    test(`${title}: ${what}`, () => assert.fail(`${what} and CI is set: ${fix}`));
    return;
  }
  console.log(`skipped: ${what}`);
  test(title, { skip: what }, () => {});
}
