// Unit tests of authrelay-client: round trips, tampering, boundaries, target rules, and
// that no secret or state ever shows up in an error or an inspection.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect, promisify } from "node:util";

import {
  AuthRelayError,
  CLOCK_SKEW_SECONDS,
  MAX_STATE_LENGTH,
  createRelay,
  encodedLength,
  inspectState,
  isValidProviderId,
  signState,
  targetProblem,
  verifyState,
} from "../index.js";

const SECRET = "unit-secret-0123456789abcdef-unit-secret";
const OTHER = "other-secret-0123456789abcdef-other-secret";
const TARGET = "https://pr-1.preview.example.com/api/auth/callback/github";
const IAT = 1_700_000_000;
const NONCE = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const sign = (over = {}) => signState({ secret: SECRET, target: TARGET, iat: IAT, exp: IAT + 600, nonce: NONCE, ...over });
const verify = (state, over = {}) => verifyState({ secrets: [SECRET], state, now: IAT + 1, maxAge: 900, ...over });

/** Runs `fn`, which must throw (or reject) an AuthRelayError; returns it. */
async function thrown(fn) {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof AuthRelayError, `not an AuthRelayError: ${error}`);
    return error;
  }
  assert.fail("did not throw");
}

/** Everything a developer could see of an error. */
const shown = (e) => [e.message, String(e), e.stack, inspect(e), JSON.stringify(e)].join("\n");

test("a state made by createRelay().signIn() verifies, bound to its target and provider", async () => {
  const relay = createRelay({ relayBaseUrl: "https://auth.example.com/api/auth/", secret: SECRET });
  assert.equal(relay.redirectUri("github"), "https://auth.example.com/api/auth/callback/github");
  const before = Math.floor(Date.now() / 1000);
  const { redirectUri, state } = await relay.signIn("github", TARGET);
  assert.equal(redirectUri, "https://auth.example.com/api/auth/callback/github");
  assert.equal(state.length, encodedLength(TARGET.length));
  const got = await verifyState({ secrets: [OTHER, SECRET], state });
  assert.equal(got.ok, true);
  assert.equal(got.secretIndex, 1);
  assert.equal(got.target, TARGET);
  assert.equal(got.provider, "github");
  assert.ok(got.iat >= before && got.iat <= before + 5);
  assert.equal(got.exp - got.iat, 600);
  // Fresh nonces: two sign-ins never make the same state.
  const again = await relay.signIn("github", TARGET);
  assert.notEqual(again.state, state);
});

test("ttlSeconds sets the lifetime; 1..3600 accepted, anything else refused", async () => {
  const relay = createRelay({ relayBaseUrl: "https://auth.example.com/api/auth", secret: SECRET, ttlSeconds: 60 });
  const got = await verifyState({ secrets: [SECRET], state: (await relay.signIn("github", TARGET)).state });
  assert.equal(got.exp - got.iat, 60);
  for (const ttl of [1, 3600]) createRelay({ relayBaseUrl: "https://a.example.com", secret: SECRET, ttlSeconds: ttl });
  for (const ttl of [0, -1, 3601, 1.5, "600", Number.NaN]) {
    const e = await thrown(() => createRelay({ relayBaseUrl: "https://a.example.com", secret: SECRET, ttlSeconds: ttl }));
    assert.equal(e.code, "bad_lifetime");
  }
});

test("every single-character change of a state fails", async () => {
  const state = await sign();
  let checked = 0;
  for (let i = 0; i < state.length; i++) {
    for (const c of [ALPHABET[(ALPHABET.indexOf(state[i]) + 1) % 64], ALPHABET[(ALPHABET.indexOf(state[i]) + 33) % 64], "=", "+", "/", ".", " "]) {
      const changed = state.slice(0, i) + c + state.slice(i + 1);
      const got = await verify(changed);
      assert.equal(got.ok, false, `position ${i}, character ${JSON.stringify(c)}`);
      checked++;
    }
  }
  // Dropping or adding a character fails too.
  for (let i = 0; i < state.length; i += 7) assert.equal((await verify(state.slice(0, i) + state.slice(i + 1))).ok, false);
  assert.equal((await verify(state + "A")).ok, false);
  assert.equal((await verify(state.slice(0, -1))).ok, false);
  assert.ok(checked > 1000);
});

test("times are checked with 15 seconds of skew, and the lifetime against maxAge", async () => {
  const state = await sign();
  const at = async (now, maxAge = 900) => {
    const r = await verify(state, { now, maxAge });
    return r.ok ? "ok" : r.detail;
  };
  assert.equal(CLOCK_SKEW_SECONDS, 15);
  assert.equal(await at(IAT + 600 + 15), "ok");
  assert.equal(await at(IAT + 600 + 16), "expired");
  assert.equal(await at(IAT - 15), "ok");
  assert.equal(await at(IAT - 16), "not_yet_valid");
  assert.equal(await at(IAT, 600), "ok");
  assert.equal(await at(IAT, 599), "lifetime_too_long");
  assert.deepEqual(await verify(state, { now: IAT + 10_000 }), { ok: false, code: "state_expired", detail: "expired" });
  assert.deepEqual(await verify(state, { now: IAT - 100 }), { ok: false, code: "state_expired", detail: "not_yet_valid" });
  // The lifetime is checked before the clock: a too-long state fails that way at any time.
  assert.equal(await at(IAT + 10_000, 599), "lifetime_too_long");
});

test("a state verifies only with its own secret; the key id picks it among several", async () => {
  const state = await sign();
  assert.deepEqual(await verify(state, { secrets: [OTHER] }), { ok: false, code: "state_invalid", detail: "unknown_key" });
  const got = await verify(state, { secrets: [OTHER, OTHER + "x", SECRET] });
  assert.equal(got.ok && got.secretIndex, 2);
});

test("framing: length cap, strict base64url, legacy JSON, short input, version", async () => {
  // A target of 58 bytes: 127 bytes in all, so the last base64url character is partial.
  const state = await sign({ target: `${TARGET}x` });
  const detail = async (s) => (await verify(s)).detail;
  assert.equal(MAX_STATE_LENGTH, 1458);
  assert.equal(await detail("A".repeat(1459)), "too_long");
  assert.equal(await detail("A".repeat(1458)), "unknown_version", "1458 characters are looked at");
  // The cap counts bytes, as the relay does: 800 two-byte characters are 1600 bytes.
  assert.equal(await detail("é".repeat(800)), "too_long");
  assert.equal(await detail("é".repeat(10)), "not_base64url");
  assert.equal(await detail(""), "too_short");
  assert.equal(await detail("AQ=="), "not_base64url");
  assert.equal(await detail("a+b/"), "not_base64url");
  assert.equal(await detail("AAAAA"), "not_base64url", "a length of 4n+1 is impossible");
  assert.equal(await detail(undefined), "not_base64url");
  assert.equal(await detail(["a", "b"]), "not_base64url");
  assert.equal(await detail("AQID"), "too_short");
  // Non-zero unused bits in the last character: a lenient decoder would read the same bytes.
  const last = ALPHABET.indexOf(state.at(-1));
  const rest = state.length % 4;
  assert.ok(rest === 2 || rest === 3, "this state ends in a partial group");
  const spare = rest === 2 ? 0x0f : 0x03;
  assert.equal(last & spare, 0);
  assert.equal(await detail(state.slice(0, -1) + ALPHABET[last | 1]), "not_base64url");
  // Legacy unsigned JSON of Auth.js before 0.35.3: refused before anything else is read.
  const legacy = btoaUrl('{"origin":"https://evil.example/api/auth/callback/github"}');
  assert.deepEqual(await verify(legacy), { ok: false, code: "state_malformed", detail: "legacy_unsigned" });
  // Version 2.
  const bytes = fromB64(state);
  bytes[0] = 2;
  assert.deepEqual(await verify(toB64(bytes)), { ok: false, code: "state_malformed", detail: "unknown_version" });
  assert.deepEqual(inspectState(toB64(bytes)), { ok: false, code: "state_malformed", detail: "unknown_version" });
});

test("the state length follows ceil(4 × (69 + n) / 3), and a 305-byte target stays under 500", async () => {
  assert.deepEqual([60, 100, 200, 300, 305].map(encodedLength), [172, 226, 359, 492, 499]);
  for (const extra of [0, 1, 2, 3, 50, 200]) {
    const target = `https://a.example.com/${"b".repeat(extra + 1)}/api/auth/callback/github`;
    assert.equal((await sign({ target })).length, encodedLength(target.length), target);
  }
  const target = `https://a.example.com/${"p".repeat(305 - 22 - 25)}/api/auth/callback/github`;
  assert.equal(target.length, 305);
  assert.equal((await sign({ target })).length, 499);
});

test("targets: the Rust client's verdicts table gives the same verdict in JS", () => {
  const { cases } = JSON.parse(readFileSync(new URL("./target-cases.json", import.meta.url), "utf8"));
  assert.ok(cases.length >= 100);
  const longOk = `https://a.example.com/${"x".repeat(1024 - 22)}`;
  const tooLong = `https://a.example.com/${"x".repeat(1024 - 21)}`;
  const all = [...cases, [longOk, "ok"], [tooLong, "too_long"]];
  const wrongVerdict = [];
  for (const [raw, want] of all) {
    const got = targetProblem(raw) ?? "ok";
    if ((got === "ok") !== (want === "ok")) wrongVerdict.push(`${JSON.stringify(raw)}: Rust ${want}, JS ${got}`);
    // The query rule is the same code in the same order on both sides: the same reason too.
    else if ((want.startsWith("query_") || got.startsWith("query_")) && got !== want) wrongVerdict.push(`${JSON.stringify(raw)}: Rust ${want}, JS ${got}`);
  }
  assert.deepEqual(wrongVerdict, []);
});

test("targets: a target query cannot plant a callback parameter for any parser", () => {
  const base = "https://pr-1.preview.example.com/api/auth/callback/github";
  // The reproductions of the bug, each read as holding a `code` by some parser.
  for (const [query, want] of [
    ["x=1;code=INJECTED", "query_semicolon"],
    ["code[]=x", "query_name"],
    ["code%00=x", "query_name"],
    ["+code=x", "query_name"],
    ["code.=x", "query_name"],
    ["Code=x", "query_shadows_callback_params"],
  ]) {
    assert.equal(targetProblem(`${base}?${query}`), want, query);
    // Each reason has its own sentence, not the bare code.
    assert.ok(!new AuthRelayError("bad_target", want).message.endsWith(want), want);
  }
  for (const query of ["tenant=acme", "app=1&x=2", ""]) assert.equal(targetProblem(`${base}?${query}`), null, query);
});

test("targets: more rules a state's target must pass in JS", () => {
  const cases = [
    ["https://xn--bcher-kva.example/api/auth/callback/github", null],
    ["http://[::1]:3000/api/auth/callback/github", null],
    ["http://127.255.0.1/api/auth/callback/github", null],
    // URL parsers differ on these (some throw, some accept and leave it to the label
    // check): only the verdict is the same everywhere.
    ["https://xn--zz.example/callback/x", "refused"],
    ["https://xn--abc-.example/callback/x", "refused"],
    ["https://bücher.example/callback/x", "forbidden_character"],
    ["https://a.example.com/callback/x%2F", "encoded_separator"],
    ["https://a.example.com/callback/%2e", "encoded_separator"],
    ["https://a.example.com/./callback/x", "dot_segment"],
    ["https://a.example.com:443/callback/x", "not_canonical"],
    ["https://a.example.com:0/callback/x", "port"],
    ["http://[::ffff:7f00:1]/callback/x", "http_not_loopback"],
    ["http://localhost.example.com/callback/x", "http_not_loopback"],
    ["https://a.example.com/callback/x\u2028", "forbidden_character"],
    [`https://${"a".repeat(64)}.example.com/callback/x`, "invalid_host"],
    [42, "unparseable"],
  ];
  for (const [raw, want] of cases) {
    if (want === "refused") assert.notEqual(targetProblem(raw), null, JSON.stringify(raw));
    else assert.equal(targetProblem(raw), want, JSON.stringify(raw));
  }
});

test("provider ids", () => {
  for (const ok of ["github", "a", "0", "azure-ad", "azure_ad_b2c", "X1", "a".repeat(64)]) assert.ok(isValidProviderId(ok), ok);
  for (const bad of ["", "-x", "_x", "a.b", "a/b", "a b", "gïthub", "a%2f", "a".repeat(65), "a\0", null]) {
    assert.ok(!isValidProviderId(bad), String(bad));
  }
});

test("signIn and signState refuse what the relay would refuse", async () => {
  const relay = createRelay({ relayBaseUrl: "https://auth.example.com/api/auth", secret: SECRET });
  const code = async (provider, url) => (await thrown(() => relay.signIn(provider, url))).code;
  assert.equal(await code("google", TARGET), "provider_mismatch");
  assert.equal(await code("git hub", TARGET), "bad_provider");
  assert.equal(await code("github", "https://pr-1.preview.example.com/login"), "provider_mismatch");
  assert.equal(await code("github", `${TARGET}?next=/`), "target_has_query");
  assert.equal(await code("github", `${TARGET}/`), "provider_mismatch");
  const userinfo = await thrown(() => relay.signIn("github", "https://user@pr-1.preview.example.com/api/auth/callback/github"));
  assert.equal(userinfo.code, "bad_target");
  assert.equal(userinfo.reason, "userinfo");
  assert.ok(!userinfo.message.includes("pr-1"), "the refused URL is not echoed");
  assert.equal((await thrown(() => relay.signIn("github", "https://PR-1.preview.example.com/api/auth/callback/github"))).reason, "not_canonical");
  assert.equal((await thrown(() => relay.signIn("github", "http://pr-1.preview.example.com/api/auth/callback/github"))).reason, "http_not_loopback");
  assert.throws(() => relay.redirectUri("a/b"), { code: "bad_provider" });

  assert.equal((await thrown(() => sign({ target: "https://a.example.com/login" }))).code, "not_a_callback");
  assert.equal((await thrown(() => sign({ target: `${TARGET}?x=1` }))).code, "target_has_query");
  assert.equal((await thrown(() => sign({ exp: IAT }))).code, "bad_times");
  assert.equal((await thrown(() => sign({ exp: IAT - 1 }))).code, "bad_times");
  assert.equal((await thrown(() => sign({ iat: 1.5 }))).code, "bad_times");
  assert.equal((await thrown(() => sign({ nonce: new Uint8Array(15) }))).code, "bad_nonce");
  assert.equal((await thrown(() => sign({ nonce: Array.from(NONCE) }))).code, "bad_nonce");
  for (const base of ["auth.example.com", "ftp://auth.example.com", "https://a.example.com/?x=1", "https://a.example.com/#x", "https://u@a.example.com/", 7]) {
    assert.equal((await thrown(() => createRelay({ relayBaseUrl: base, secret: SECRET }))).code, "bad_relay_base", String(base));
  }
});

test("secrets: at least 32 characters (code points), and never shown in any error", async () => {
  const secretLike = "s3cr3t-value-that-must-not-leak!"; // 32 characters
  createRelay({ relayBaseUrl: "https://a.example.com", secret: secretLike });
  const short = secretLike.slice(0, 31);
  const astral = "😀".repeat(31); // 62 UTF-16 units, 31 characters
  const errors = [
    await thrown(() => createRelay({ relayBaseUrl: "https://a.example.com", secret: short })),
    await thrown(() => createRelay({ relayBaseUrl: "https://a.example.com", secret: astral })),
    await thrown(() => createRelay({ relayBaseUrl: "https://a.example.com", secret: "\ud800".repeat(40) })),
    await thrown(() => signState({ secret: short, target: TARGET, iat: IAT, exp: IAT + 1, nonce: NONCE })),
    await thrown(() => verifyState({ secrets: [SECRET, short], state: "x" })),
    await thrown(() => verifyState({ secrets: [], state: "x" })),
    await thrown(() => verifyState({ secrets: SECRET, state: "x" })),
    await thrown(() => createRelay({ relayBaseUrl: `https://a.example.com/${secretLike}?x`, secret: secretLike })),
    await thrown(() => createRelay({ relayBaseUrl: "https://a.example.com", secret: secretLike, ttlSeconds: 0 })),
  ];
  assert.equal(errors[0].code, "bad_secret");
  assert.equal(errors[1].code, "bad_secret");
  assert.equal(errors[4].code, "bad_secrets");
  for (const e of errors) {
    const text = shown(e);
    for (const needle of [short, secretLike, "s3cr3t", SECRET, "😀", "\ud800"]) {
      assert.ok(!text.includes(needle), `${e.code} shows the secret`);
    }
  }
  createRelay({ relayBaseUrl: "https://a.example.com", secret: "😀".repeat(32) });
});

test("no state or secret in the inspection or string form of a relay or a sign-in", async () => {
  const relay = createRelay({ relayBaseUrl: "https://auth.example.com/api/auth", secret: SECRET });
  const signIn = await relay.signIn("github", TARGET);
  for (const text of [inspect(relay), String(relay), inspect(signIn, { depth: 5, showHidden: true }), String(signIn), `${signIn}`]) {
    assert.ok(!text.includes(signIn.state), text);
    assert.ok(!text.includes(signIn.state.slice(20, 60)), text);
    assert.ok(!text.includes(SECRET), text);
  }
  assert.match(inspect(signIn), /redirectUri: "https:\/\/auth\.example\.com\/api\/auth\/callback\/github", state: \[redacted\]/);
  // The state itself is an ordinary property, for the code that puts it in the cookie.
  assert.equal(typeof signIn.state, "string");
  assert.deepEqual(Object.keys(signIn).sort(), ["redirectUri", "state"]);
  assert.ok(Object.isFrozen(relay));
  // Failures hold codes only, never the state.
  const failure = await verify(signIn.state.slice(0, -2) + "AA");
  assert.deepEqual(Object.keys(failure).sort(), ["code", "detail", "ok"]);
});

test("inspectState reads the fields without a secret and says they are unverified", async () => {
  const state = await sign();
  const seen = inspectState(state);
  assert.deepEqual(seen, {
    ok: true,
    verified: false,
    version: 1,
    kid: seen.kid,
    iat: IAT,
    exp: IAT + 600,
    target: TARGET,
    provider: "github",
    length: state.length,
  });
  assert.match(seen.kid, /^[0-9a-f]{8}$/);
  assert.deepEqual(inspectState("AQ=="), { ok: false, code: "state_malformed", detail: "not_base64url" });
});

test("verifyState refuses bad options with an error, never with a result", async () => {
  const state = await sign();
  assert.equal((await thrown(() => verify(state, { now: -1 }))).code, "bad_time");
  assert.equal((await thrown(() => verify(state, { now: 1.5 }))).code, "bad_time");
  assert.equal((await thrown(() => verify(state, { maxAge: 0 }))).code, "bad_max_age");
});

test("the module has no Node-only globals and no dependencies", () => {
  const source = readFileSync(new URL("../index.js", import.meta.url), "utf8");
  const code = source.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const word of ["Buffer", "process", "require(", "btoa", "atob", "__dirname", "setImmediate"]) {
    assert.ok(!code.includes(word), `index.js uses ${word}`);
  }
  assert.doesNotMatch(code, /^\s*import\s/m, "no static imports");
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.name, "authrelay-client");
  assert.equal(pkg.exports["."].types, "./index.d.ts");
});

const isNode = !globalThis.Deno && !globalThis.Bun && typeof process?.versions?.node === "string";

test("without a global crypto (Node 18's default) it falls back to node:crypto's webcrypto", { skip: !isNode && "Node only" }, async () => {
  const moduleUrl = new URL("../index.js", import.meta.url).href;
  const script = `
    delete globalThis.crypto;
    if (globalThis.crypto !== undefined) throw new Error("crypto still global");
    const c = await import(${JSON.stringify(moduleUrl)});
    const relay = c.createRelay({ relayBaseUrl: "https://auth.example.com/api/auth", secret: ${JSON.stringify(SECRET)} });
    const { state } = await relay.signIn("github", ${JSON.stringify(TARGET)});
    const r = await c.verifyState({ secrets: [${JSON.stringify(SECRET)}], state });
    console.log(JSON.stringify({ ok: r.ok, global: typeof globalThis.crypto }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    timeout: 15_000,
    cwd: fileURLToPath(new URL(".", import.meta.url)),
  });
  assert.deepEqual(JSON.parse(stdout), { ok: true, global: "undefined" });
});

function toB64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function btoaUrl(text) {
  return toB64(new TextEncoder().encode(text));
}
