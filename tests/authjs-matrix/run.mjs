// The Auth.js version matrix: the end-to-end sign-in of tests/node/e2e.test.mjs — a real
// preview, a real OpenID Connect provider (oauth2-mock-server), the relay binary — run
// once per package directory in packages/: each @auth/core minor line from 0.35.3 to the
// newest under the @auth/express release of that line, @hono/auth-js, and @auth/core
// 0.35.2, the newest release with the unsigned state, which the relay must refuse.
//
//   provider   oauth2-mock-server              127.0.0.3:<random>   one for the whole matrix
//   relay      the authrelay binary            127.0.0.1:<random>   one for the whole matrix,
//              AUTH_SECRET=old, AUTH_SECRET_1=new, allowlist http://127.0.0.2:*
//   previews   previews/express.mjs, hono.mjs  127.0.0.2:<random>   a child process each
//
// What each package directory must show:
//   @auth/express, 0.35.3 and later   signs in with `secret: [new, old]` (the relay names
//                                     AUTH_SECRET_1), and with no `secret` in the config
//                                     and AUTH_SECRET=old, AUTH_SECRET_1=new in the
//                                     environment (rotation from the environment works)
//   @auth/core before 0.35.3          its state is not a JWE; the relay refuses it with
//                                     400 state_malformed
//   @hono/auth-js                     signs in with `secret: [new, old]` (AUTH_SECRET_1);
//                                     with `secret: old` (a state from the old secret
//                                     still bounces: AUTH_SECRET); and with AUTH_SECRET=old,
//                                     AUTH_SECRET_1=new in the environment it encrypts
//                                     with the old secret (AUTH_SECRET): @hono/auth-js sets
//                                     `secret` from AUTH_SECRET before @auth/core reads
//                                     AUTH_SECRET_1..3, so rotation from the environment is
//                                     ignored there
//
// Prints one line per package directory ("@auth/core 0.37.4 (@auth/express 0.8.4): pass")
// and exits 1 when any fails. Every request has a time limit, every package directory
// has one (CASE_TIMEOUT_MS), and run.sh bounds the whole run.
//
// Run: AUTHRELAY_BIN=target/release/authrelay node tests/authjs-matrix/run.mjs [dir…]
// The package directories must be installed (run.sh does it: npm ci in each). Their
// lockfiles are made with
//   npm install --package-lock-only --no-audit --omit-lockfile-registry-resolved

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { requestAuthorization } from "../node/lib/authjs-signin.mjs";
import { hop, refusalReason } from "../node/lib/http.mjs";
import { spawnProcess, waitFor } from "../node/lib/process.mjs";
import { CLIENT_ID, CLIENT_SECRET, startProvider } from "../node/lib/provider.mjs";
import { relayBin, startRelay } from "../node/lib/relay.mjs";
import { installedVersion } from "./lib/load.mjs";
import { PROVIDER_ID } from "./lib/preview-config.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const PACKAGES = join(HERE, "packages");
const CASE_TIMEOUT_MS = 60_000;
const PARALLEL = 3;
const PREVIEW_HOST = "127.0.0.2";
const BASE_PATH = "/api/auth";

const secret = (label) => `${label}-${randomBytes(24).toString("base64url")}`;
const OLD_SECRET = secret("old");
const NEW_SECRET = secret("new");
const USER = { sub: `user-${randomUUID()}`, email: "ada@example.test", name: "Ada Lovelace" };
const JWE = /^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/;

const inCi = !["", "0", "false", "no"].includes(process.env.CI ?? "");

let provider;
let relay;

// --- the relay hop, one at a time --------------------------------------------------------
// The relay logs one event per callback; the matrix runs several sign-ins at once, so the
// hop to the relay and the wait for its event hold a lock: the event read is this hop's.
let relayLock = Promise.resolve();
function atRelay(jar, url, headers = {}) {
  const run = relayLock.then(async () => {
    const before = relay.events().length;
    const res = await hop(jar, url.href ?? url, { headers });
    assert.equal(res.headers.get("cache-control"), "no-store");
    const event = await relay.waitForEvent(before);
    assert.equal(relay.events().length, before + 1, "one relay event for one callback");
    return { res, event };
  });
  relayLock = run.catch(() => {});
  return run;
}

// --- a preview ---------------------------------------------------------------------------

/** Starts `previews/<kind>.mjs` on the package directory; `env` adds AUTH_* variables. */
async function startPreview({ packageDir, kind, secret: configSecret, env = {}, name }) {
  const settings = {
    packageDir,
    host: PREVIEW_HOST,
    issuer: provider.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectProxyUrl: relay.baseUrl,
    basePath: BASE_PATH,
    secret: configSecret,
  };
  // A clean environment: PATH, the settings and the AUTH_* variables this case sets.
  const proc = spawnProcess(name, process.execPath, [join(HERE, "previews", `${kind}.mjs`)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MATRIX_PREVIEW: JSON.stringify(settings), ...env },
  });
  let origin;
  try {
    origin = await waitFor(
      () => {
        if (proc.exitCode !== undefined) throw new Error(`${name} exited (code ${proc.exitCode})\n${proc.output()}`);
        const line = proc.stdout.find((l) => l.startsWith("{"));
        return line && JSON.parse(line).origin;
      },
      { timeoutMs: 15_000, what: `${name} to listen` },
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
  const baseUrl = `${origin}${BASE_PATH}`;
  return {
    proc,
    origin,
    baseUrl,
    callbackUrl: `${baseUrl}/callback/${PROVIDER_ID}`,
    /** The errors Auth.js logged so far. */
    errors: () => proc.stderr.filter((l) => l.includes('"authjsError"')),
    stop: () => proc.stop(),
  };
}

/** Runs `body(preview)` with a preview that is stopped afterwards, whatever happens. */
async function withPreview(options, body) {
  const preview = await startPreview(options);
  try {
    return await body(preview);
  } catch (error) {
    error.message += `\n${preview.proc.output()}`;
    throw error;
  } finally {
    await preview.stop();
  }
}

// --- the sign-in, hop by hop (as in tests/node/e2e.test.mjs) -----------------------------

/** Starts a sign-in at `preview` as its sign-in page would; returns the provider's answer. */
async function toRelay(preview) {
  const { jar, authorize } = await requestAuthorization(preview);
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${provider.issuer}/authorize`);
  assert.equal(authorize.searchParams.get("redirect_uri"), relay.callbackUrl(PROVIDER_ID),
    "the preview sends the provider the relay's callback, not its own");
  const state = authorize.searchParams.get("state");
  assert.ok(state, "the authorize request carries a state");

  const atProvider = await hop(jar, authorize.href);
  assert.equal(atProvider.status, 302, `the provider should redirect back: ${atProvider.text}`);
  const back = new URL(atProvider.location);
  assert.equal(`${back.origin}${back.pathname}`, relay.callbackUrl(PROVIDER_ID), "the provider sends the browser to the relay");
  assert.equal(back.searchParams.get("state"), state, "the provider returns the state unchanged");
  assert.ok(back.searchParams.get("code"), "the provider sent a code");
  return { jar, state, back };
}

/** A complete sign-in through the relay; returns the name of the secret the relay used. */
async function signIn(preview) {
  const { jar, state, back } = await toRelay(preview);
  assert.match(state, JWE, "the state is a compact JWE with an empty key part");

  const { res, event } = await atRelay(jar, back);
  assert.equal(res.status, 302, `the relay should bounce to the preview: ${res.text}`);
  assert.equal(event.outcome, "redirect");
  assert.equal(event.format, "authjs");
  const onward = new URL(res.location);
  assert.equal(`${onward.origin}${onward.pathname}`, preview.callbackUrl, "the relay sends the browser to the preview's callback");
  assert.deepEqual([...onward.searchParams], [...back.searchParams], "every parameter forwarded unchanged");

  const callback = await hop(jar, onward.href);
  assert.equal(callback.status, 302, `the preview's callback should finish the sign-in: ${callback.text}`);
  assert.equal(callback.location, `${preview.origin}/`, "back to the callbackUrl the sign-in asked for");
  assert.deepEqual(preview.errors(), [], "Auth.js logged no error");

  const session = await hop(jar, `${preview.baseUrl}/session`);
  assert.equal(session.status, 200, session.text);
  assert.equal(session.json()?.user?.email, USER.email, `a session for the provider's user: ${session.text}`);
  assert.equal(session.json().user.sub, USER.sub, "the profile came from the provider's ID token");
  return event.secret;
}

/** A sign-in from a preview on an @auth/core with the unsigned state; the relay refuses it. */
async function refusedLegacy(preview) {
  const { jar, state, back } = await toRelay(preview);
  assert.doesNotMatch(state, JWE, "the state is not a JWE");
  const decoded = JSON.parse(Buffer.from(state, "base64url").toString("utf8"));
  assert.equal(decoded.origin, preview.callbackUrl, "the state is unsigned base64url JSON naming the preview's callback");

  const html = await atRelay(jar, back, { accept: "text/html" });
  assert.equal(html.res.status, 400, html.res.text);
  assert.equal(html.res.location, null, "no Location header");
  assert.equal(refusalReason(html.res.text), "state_malformed");
  assert.equal(html.event.outcome, "refused");
  assert.equal(html.event.reason, "state_malformed");

  const json = await atRelay(jar, back, { accept: "application/json" });
  assert.equal(json.res.status, 400);
  assert.equal(json.res.json().error, "state_malformed");
  return html.event.format;
}

// --- the cases ---------------------------------------------------------------------------

const ENV_ROTATION = { AUTH_SECRET: OLD_SECRET, AUTH_SECRET_1: NEW_SECRET };

/** What one package directory must show; resolves with the detail for its line. */
async function runPackage(dir) {
  const packageDir = join(PACKAGES, dir);
  const core = installedVersion(packageDir, "@auth/core");
  const hono = existsSync(join(packageDir, "node_modules", "@hono", "auth-js"));
  const integration = hono ? "@hono/auth-js" : "@auth/express";
  const label = hono
    ? `@hono/auth-js ${installedVersion(packageDir, integration)} (@auth/core ${core})`
    : `@auth/core ${core} (@auth/express ${installedVersion(packageDir, integration)})`;
  const kind = hono ? "hono" : "express";
  const preview = (name, options, body) => withPreview({ packageDir, kind, name: `${dir}:${name}`, ...options }, body);
  const [major, minor, patch] = core.split(".").map(Number);
  const legacy = major === 0 && (minor < 35 || (minor === 35 && patch < 3));

  const run = async () => {
    if (legacy) {
      const format = await preview("legacy", { secret: [NEW_SECRET, OLD_SECRET] }, refusedLegacy);
      return `refused as expected (400 state_malformed, format ${format})`;
    }
    const parts = [];
    const arrayNew = await preview("secret-array", { secret: [NEW_SECRET, OLD_SECRET] }, signIn);
    assert.equal(arrayNew, "AUTH_SECRET_1", "secret: [new, old] encrypts with the new secret");
    parts.push(`secret [new, old] → ${arrayNew}`);
    if (hono) {
      const oldOnly = await preview("secret-old", { secret: OLD_SECRET }, signIn);
      assert.equal(oldOnly, "AUTH_SECRET", "a state from the old secret bounces");
      parts.push(`secret old → ${oldOnly}`);
      const fromEnv = await preview("env-rotation", { env: ENV_ROTATION }, signIn);
      assert.equal(fromEnv, "AUTH_SECRET",
        "@hono/auth-js sets secret from AUTH_SECRET before @auth/core reads AUTH_SECRET_1..3, so it encrypts with " +
        "the old secret; if this changed, rotation from the environment works now: update docs/authjs.md");
      parts.push(`env AUTH_SECRET=old, AUTH_SECRET_1=new → ${fromEnv} (rotation from the environment ignored)`);
    } else {
      const fromEnv = await preview("env-rotation", { env: ENV_ROTATION }, signIn);
      assert.equal(fromEnv, "AUTH_SECRET_1", "with no secret in the config, AUTH_SECRET_1 from the environment encrypts");
      parts.push(`env AUTH_SECRET=old, AUTH_SECRET_1=new → ${fromEnv}`);
    }
    return `signed in; ${parts.join("; ")}`;
  };

  const started = Date.now();
  try {
    const detail = await Promise.race([
      run(),
      sleep(CASE_TIMEOUT_MS, undefined, { ref: false }).then(() => {
        throw new Error(`timed out after ${CASE_TIMEOUT_MS} ms`);
      }),
    ]);
    return { label, ok: true, line: `${label}: pass (${((Date.now() - started) / 1000).toFixed(1)} s; ${detail})` };
  } catch (error) {
    return { label, ok: false, line: `${label}: FAIL\n${String(error.stack ?? error).replace(/^/gm, "    ")}` };
  }
}

/** Runs `tasks` (functions returning promises), at most `limit` at a time, in order. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
      console.log(results[i].line);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

async function main() {
  const dirs = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(PACKAGES).sort();
  const missing = dirs.filter((d) => !existsSync(join(PACKAGES, d, "node_modules")));
  if (missing.length) {
    console.error(`not installed: ${missing.join(", ")} (run: npm ci in each, as tests/node/run.sh does)`);
    return 1;
  }
  if (!relayBin()) {
    const why = "authrelay binary not built (cargo build --release --bin authrelay, or scripts/check-deploy)";
    if (inCi) {
      console.error(`Auth.js matrix: ${why} and CI is set`);
      return 1;
    }
    console.log(`skipped: Auth.js matrix: ${why}`);
    return 0;
  }

  const started = Date.now();
  provider = await startProvider({ host: "127.0.0.3", user: USER });
  try {
    relay = await startRelay({
      secrets: { AUTH_SECRET: OLD_SECRET, AUTH_SECRET_1: NEW_SECRET },
      allowedOrigins: `http://${PREVIEW_HOST}:*`,
    });
    try {
      const results = await pool(dirs.map((dir) => () => runPackage(dir)), PARALLEL);
      const logs = relay.logText();
      assert.ok(![OLD_SECRET, NEW_SECRET].some((s) => logs.includes(s)), "the relay log holds no secret");
      const failed = results.filter((r) => !r.ok);
      console.log(`Auth.js matrix: ${results.length - failed.length} of ${results.length} passed in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`);
      return failed.length ? 1 : 0;
    } finally {
      await relay.stop();
    }
  } finally {
    await provider.stop();
  }
}

process.exitCode = await main();
