#!/usr/bin/env node
// Makes and opens Auth.js redirect-proxy states with the real @auth/core, so the Rust
// tests (client/tests/authjs_real.rs) check authrelay against the package itself rather
// than against our reading of it.
//
// Input: one JSON object, as the first argument or on stdin.
//
//   node make-authjs-states.mjs  <<< '{"secrets":["A…","B…"],"origins":["https://…"]}'
//     Prints one JSON line per state made, after a first line
//       {"kind":"meta","auth_core":<version>,"node":<version>}
//       {"kind":"kid","secret":i,"kid":…}                      the kid of secret i, read
//                                                                from a state's header
//       {"kind":"state","via":"encode"|"state.create","secret":i,"origin":…,"state":…,
//        "kid":…,"random":…,"max_age":…,"authjs_accepts":true|false,"authjs_error":…}
//     kinds of state: "state" (fresh, 900 s or the input's "max_age", which only the
//     "encode" ones honour), "expired" (exp 60 s ago), "grace"
//     (exp 5 s ago: still inside the 15 s clock tolerance). Secret i is made the first of
//     the secret list (the one Auth.js encrypts with), the others follow, as after a
//     rotation. "authjs_accepts" is what @auth/core's own state.decode says of it, given
//     all the secrets.
//
//   node make-authjs-states.mjs --decode <<< '{"secrets":[…],"states":["…"]}'
//     Opens each state as the stable Auth.js deployment does (state.decode) and prints
//     one line per state: {"ok":true,"payload":{…}} or {"ok":false,"error":"…"}.

import { readFile } from "node:fs/promises";
import { encode, decode } from "@auth/core/jwt";

// @auth/core does not export its OAuth checks; load the very module its callback
// handler uses, next to the exported jwt module, so state.create/state.decode run as
// they do in a real deployment.
const checksUrl = new URL(
  "./lib/actions/callback/oauth/checks.js",
  import.meta.resolve("@auth/core/jwt"),
);
const { state: authjsState } = await import(checksUrl.href);
const authCoreVersion = JSON.parse(
  await readFile(new URL("./package.json", import.meta.resolve("@auth/core/jwt")), "utf8"),
).version;

// As in @auth/core's lib/actions/callback/oauth/checks.js.
const SALT = "encodedState";
const STATE_MAX_AGE = 60 * 15;

async function readInput() {
  const arg = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (arg !== undefined) return JSON.parse(arg);
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const quietLogger = { debug() {}, error() {}, warn() {} };

function optionsFor(secrets) {
  return {
    provider: { id: "github", checks: ["state"] },
    jwt: { secret: secrets },
    cookies: { state: { name: "authjs.state", options: {} } },
    logger: quietLogger,
  };
}

// oauth4webapi's generateRandomState: 32 random bytes, base64url.
function randomState() {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

function headerOf(jwe) {
  return JSON.parse(Buffer.from(jwe.split(".")[0], "base64url").toString("utf8"));
}

function payloadOf(jwe, secrets) {
  return decode({ secret: secrets, token: jwe, salt: SALT });
}

function errorName(error) {
  const cause = error?.cause ?? error;
  return `${cause?.name ?? "Error"}${cause?.code ? ` (${cause.code})` : ""}`;
}

async function verdict(jwe, secrets) {
  try {
    await authjsState.decode(jwe, optionsFor(secrets));
    return { authjs_accepts: true };
  } catch (error) {
    return { authjs_accepts: false, authjs_error: errorName(error) };
  }
}

// Secret i first, the rest after it: Auth.js encrypts with the first.
function rotated(secrets, i) {
  return [secrets[i], ...secrets.filter((_, j) => j !== i)];
}

function print(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function make({ secrets, origins, max_age: freshMaxAge = STATE_MAX_AGE }) {
  if (!Array.isArray(secrets) || secrets.length === 0) throw new Error("secrets: need a non-empty array");
  if (!Array.isArray(origins) || origins.length === 0) throw new Error("origins: need a non-empty array");
  if (!Number.isSafeInteger(freshMaxAge) || freshMaxAge <= 0) throw new Error("max_age: need a positive integer");
  print({ kind: "meta", auth_core: authCoreVersion, node: process.version });
  for (const [i] of secrets.entries()) {
    const list = rotated(secrets, i);
    let kid;
    for (const origin of origins) {
      // As state.create does it, with the random made here so the test can compare it.
      for (const [kind, maxAge] of [
        ["state", freshMaxAge],
        ["expired", -60],
        ["grace", -5],
      ]) {
        const random = randomState();
        const jwe = await encode({ secret: list, token: { origin, random }, salt: SALT, maxAge });
        kid = headerOf(jwe).kid;
        print({
          kind,
          via: "encode",
          secret: i,
          origin,
          state: jwe,
          kid,
          random,
          max_age: maxAge,
          ...(await verdict(jwe, secrets)),
        });
      }
      // And through state.create itself.
      const created = await authjsState.create(optionsFor(list), origin);
      const jwe = created.value;
      const { random } = await payloadOf(jwe, secrets);
      print({
        kind: "state",
        via: "state.create",
        secret: i,
        origin,
        state: jwe,
        kid: headerOf(jwe).kid,
        random,
        max_age: STATE_MAX_AGE,
        ...(await verdict(jwe, secrets)),
      });
    }
    print({ kind: "kid", secret: i, kid });
  }
}

async function open({ secrets, states }) {
  if (!Array.isArray(secrets) || !Array.isArray(states)) throw new Error("need secrets and states arrays");
  for (const jwe of states) {
    try {
      const payload = await authjsState.decode(jwe, optionsFor(secrets));
      print({ ok: true, payload });
    } catch (error) {
      print({ ok: false, error: errorName(error) });
    }
  }
}

try {
  const input = await readInput();
  if (process.argv.includes("--decode")) await open(input);
  else await make(input);
} catch (error) {
  process.stderr.write(`make-authjs-states: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
}
