// Cross-tests with the real relay binary, both directions:
//   (a) `authrelay sign` makes a state that verifyState() accepts, and `authrelay inspect`
//       says a state made here verifies;
//   (b) `authrelay serve` bounces a callback carrying a state made here, and refuses a
//       tampered one.
//
// The binary is the one scripts/lib.sh's relay_bin picks (tests/node/lib/relay.mjs):
// $AUTHRELAY_BIN, else the most recent build. Without it the tests are skipped, unless CI
// is set: then they fail.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";

import { get } from "../../../tests/node/lib/process.mjs";
import { relayBin, relayEnv, startRelay } from "../../../tests/node/lib/relay.mjs";
import { describeNeeding, needRelay } from "../../../tests/node/lib/suite.mjs";
import { createRelay, verifyState } from "../index.js";

const execFileP = promisify(execFile);
const SECRET = `js-cross-${randomBytes(24).toString("base64url")}`;
const PREVIEW_CALLBACK = "http://127.0.0.2:4000/api/auth/callback/github";

/** Runs the relay CLI with AUTH_SECRET; resolves with { code, stdout, stderr }. */
async function cli(args, env = {}) {
  try {
    const { stdout, stderr } = await execFileP(relayBin(), args, {
      env: relayEnv({ AUTH_SECRET: SECRET, ...env }),
      timeout: 10_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (typeof error.code !== "number") throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

function tamper(state, i) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return state.slice(0, i) + alphabet[(alphabet.indexOf(state[i]) + 1) % 64] + state.slice(i + 1);
}

describeNeeding([needRelay], "cross-tests with the relay binary", () => {
  describe("authrelay sign / inspect ↔ authrelay-client", () => {
    test("a state from `authrelay sign` verifies in JS with the right target and provider", async () => {
      const before = Math.floor(Date.now() / 1000);
      const out = await cli(["sign", "--target", PREVIEW_CALLBACK, "--provider", "github"]);
      assert.equal(out.code, 0, out.stderr);
      const state = out.stdout.trim();
      const got = await verifyState({ secrets: [SECRET], state });
      assert.equal(got.ok, true, JSON.stringify(got));
      assert.equal(got.target, PREVIEW_CALLBACK);
      assert.equal(got.provider, "github");
      assert.equal(got.secretIndex, 0);
      assert.ok(got.iat >= before - 1 && got.iat <= before + 10);
      assert.equal(got.exp - got.iat, 600);
      // … and with another secret it does not.
      const other = await verifyState({ secrets: [`${SECRET}-other`], state });
      assert.deepEqual(other, { ok: false, code: "state_invalid", detail: "unknown_key" });
    });

    test("`authrelay sign --ttl` lifetimes are read the same way", async () => {
      const out = await cli(["sign", "--target", PREVIEW_CALLBACK, "--provider", "github", "--ttl", "60"]);
      assert.equal(out.code, 0, out.stderr);
      const got = await verifyState({ secrets: [SECRET], state: out.stdout.trim() });
      assert.equal(got.ok && got.exp - got.iat, 60);
    });

    test("`authrelay inspect` says a JS-made state verifies, and a tampered one does not", async () => {
      const relay = createRelay({ relayBaseUrl: "http://127.0.0.1:3000/api/auth", secret: SECRET });
      const { state } = await relay.signIn("github", PREVIEW_CALLBACK);
      const out = await cli(["inspect", state]);
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.match(out.stdout, /^verifies: yes/m);
      assert.match(out.stdout, new RegExp(`^target: +${PREVIEW_CALLBACK.replace(/[.]/g, "\\.")}$`, "m"));
      assert.match(out.stdout, /^provider: github$/m);

      const bad = await cli(["inspect", tamper(state, state.length - 3)]);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^verifies: no — state_invalid \(bad_signature/m);
    });
  });

  describe("authrelay serve bounces JS-made states", () => {
    let relay;

    before(async () => {
      relay = await startRelay({ secret: SECRET, allowedOrigins: "http://127.0.0.2:*" });
    }, { timeout: 30_000 });

    after(async () => {
      await relay?.stop();
    }, { timeout: 10_000 });

    test("GET callback with a JS state → 302 to the preview with code and state intact", async () => {
      const preview = createRelay({ relayBaseUrl: relay.baseUrl, secret: SECRET });
      const { redirectUri, state } = await preview.signIn("github", PREVIEW_CALLBACK);
      assert.equal(redirectUri, relay.callbackUrl("github"));
      const url = `${redirectUri}?code=x&state=${encodeURIComponent(state)}`;
      const res = await get(url);
      await res.arrayBuffer();
      assert.equal(res.status, 302, relay.proc.output());
      const location = new URL(res.headers.get("location"));
      assert.equal(`${location.origin}${location.pathname}`, PREVIEW_CALLBACK);
      assert.equal(location.searchParams.get("code"), "x");
      assert.equal(location.searchParams.get("state"), state);
      assert.deepEqual([...location.searchParams.keys()], ["code", "state"]);
      assert.equal(res.headers.get("cache-control"), "no-store");
    });

    test("a tampered JS state → 403 {\"error\":\"state_invalid\"} for Accept: application/json", async () => {
      const preview = createRelay({ relayBaseUrl: relay.baseUrl, secret: SECRET });
      const { redirectUri, state } = await preview.signIn("github", PREVIEW_CALLBACK);
      // A change in the target (inside the signed bytes) and one in the tag.
      for (const i of [80, state.length - 4]) {
        const bad = tamper(state, i);
        const res = await get(`${redirectUri}?code=x&state=${encodeURIComponent(bad)}`, {
          headers: { accept: "application/json" },
        });
        assert.equal(res.status, 403);
        assert.match(res.headers.get("content-type") ?? "", /application\/json/);
        const body = await res.json();
        assert.equal(body.error, "state_invalid");
        assert.ok(!JSON.stringify(body).includes(bad), "the refusal does not reflect the state");
      }
    });

    test("a JS state for another provider's callback is refused (provider bound)", async () => {
      const preview = createRelay({ relayBaseUrl: relay.baseUrl, secret: SECRET });
      const { state } = await preview.signIn("github", PREVIEW_CALLBACK);
      const res = await get(`${relay.callbackUrl("google")}?code=x&state=${encodeURIComponent(state)}`, {
        headers: { accept: "application/json" },
      });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error, "provider_mismatch");
    });
  });
});
