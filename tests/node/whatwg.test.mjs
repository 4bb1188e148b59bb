// The browser's reading, checked against the relay's: every `Location` and form `action`
// the relay binary emits for the hostile-target corpora and for generated targets is
// parsed by an independent WHATWG URL implementation (Node's `URL`), and the origin it
// sees must be the origin the relay checked, which must be on the operator's allowlist.
//
// The relay accepts only targets that are their own canonical form, so its view of a
// target's origin is the signed target string up to the path: that is checked against
// Node's `URL` origin of what the relay emitted, against the relay's own origin in the
// form-post page's CSP `form-action`, and against an allowlist model written here.
//
// Targets: the hand-written table of client/tests/hostile_targets.rs (read from its
// source), the 559 open-redirect payloads (tests/fixtures/openredirects.txt) bare,
// percent-decoded and after allowed prefixes, clients/js/test/target-cases.json, and
// deterministic generated targets; each also with `/callback/github` appended where it
// has no query. Each rides in an Auth.js state made by @auth/core's own `encode` (which
// carries any origin string) and, where the JS client will sign it, a native state; each
// state goes to the relay as a GET and as a form_post. Every request goes to 127.0.0.1,
// with a bounded count, concurrency and per-request timeout.
//
// Also here, through the binary: a legacy unsigned Auth.js state (before @auth/core
// 0.35.3) is labelled `authjs_legacy` in the log line, the metric and `authrelay inspect`,
// and its refusal page names the fix without reflecting input.
//
// Run: AUTHRELAY_BIN=target/release/authrelay node --test tests/node/whatwg.test.mjs

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { encode } from "@auth/core/jwt";

import { signState } from "../../clients/js/index.js";
import { get } from "./lib/process.mjs";
import { relayBin, relayEnv, repoRoot, startRelay } from "./lib/relay.mjs";
import { describeNeeding, needRelay } from "./lib/suite.mjs";

const TEST_TIMEOUT = 60_000;
const SECRET = `whatwg-${randomBytes(24).toString("base64url")}`;
// The allowlist of client/tests/hostile_targets.rs (TABLE_ALLOWLIST), so its table's
// verdicts hold here, plus loopback on any port.
const ALLOWLIST = [
  "https://app.example.com",
  "https://*.preview.example.com",
  "https://myapp-*-acme.vercel.app",
  "http://localhost:3000",
  "https://*.myapp.com",
  "http://[::1]:*",
  "https://api.example.com:8443",
  "http://127.0.0.1:*",
];
const MAX_TARGETS = 8000;
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 5000;
// In `state` and `code`; it must never come back in a refusal page.
const MARKER = "qqmarkerqq";

// ---------------------------------------------------------------------------------------
// The corpora

/** Rust string-literal escapes, as the table in hostile_targets.rs uses them. */
function unescapeRust(s) {
  return s.replace(/\\(u\{([0-9a-fA-F]{1,6})\}|x([0-9a-fA-F]{2})|[nrt0\\"'])/g, (_, e, u, x) => {
    if (u) return String.fromCodePoint(parseInt(u, 16));
    if (x) return String.fromCharCode(parseInt(x, 16));
    return { n: "\n", r: "\r", t: "\t", 0: "\0", "\\": "\\", '"': '"', "'": "'" }[e];
  });
}

/** The fixed table of client/tests/hostile_targets.rs: its first column, unescaped. */
function hostileTable() {
  const source = readFileSync(`${repoRoot}client/tests/hostile_targets.rs`, "utf8");
  const row = /^\s*\("((?:[^"\\]|\\.)*)",\s*(?:ALLOWED|NOT_ALLOWED|Refused\("[a-z_0-9]+"\))\),/gm;
  return [...source.matchAll(row)].map((m) => unescapeRust(m[1]));
}

/** Percent-decoding, then UTF-8 with replacement characters, as the Rust tests decode. */
function percentDecodeLossy(s) {
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function openRedirects() {
  const out = [];
  for (const line of readFileSync(`${repoRoot}tests/fixtures/openredirects.txt`, "utf8").split("\n")) {
    if (line === "") continue;
    const decoded = percentDecodeLossy(line);
    for (const raw of new Set([line, decoded])) {
      out.push(raw, `https://app.example.com${raw}`, `https://app.example.com/api/auth/callback/github${raw}`);
    }
  }
  return out;
}

function jsTargetCases() {
  const { cases } = JSON.parse(readFileSync(`${repoRoot}clients/js/test/target-cases.json`, "utf8"));
  return cases.map(([raw]) => raw);
}

/** mulberry32: a small deterministic generator, so a failure reproduces. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: (items) => items[Math.floor(next() * items.length)] };
}

/** Targets near the allowlist, where a differential would matter, and parser soup. */
function generated(count) {
  const r = rng(0x5eed);
  const origins = [
    "https://app.example.com",
    "https://pr-1.preview.example.com",
    "https://xn--80a.preview.example.com",
    "https://myapp-git-main-acme.vercel.app",
    "https://api.example.com:8443",
    "https://www.myapp.com",
    "http://localhost:3000",
    "http://[::1]:5173",
    "http://127.0.0.1:8080",
    "https://evil.com",
    "https://app.example.com.evil.com",
    "https://preview.example.com",
  ];
  const hostTricks = ["", ".", "..", "@evil.com", ":443", ":8443", ":", "%2e", "\\", "\t", "。", "．", "%00", "#", "?"];
  const segments = ["api", "auth", "callback", "github", "a", "%2e", "%2f", ".", "..", "", ";x", "%41", "~", "!$&'()*+,=", "%C3%A9", "é", "@", ":", "[", "]", "|", "^", "`", "{", "}"];
  const starts = ["https://", "http://", "https:", "https:/", "https:///", "//", "/", "HTTPS://", "javascript:", ""];
  const pieces = ["app.example.com", "preview.example.com", "pr-1.", "evil.com", ".", "/", "//", "\\", "@", ":", "?", "#", "%2f", "%5c", "%2e", "%40", "%09", "\t", " ", "[", "]", "::1", "127.0.0.1", "0x7f.1", "localhost", ":3000", "xn--", "\u00ad", "。", "ａ"];
  const out = [];
  const clean = ["api", "auth", "a", "b-c", "x_y", "~u", "%41", "%C3%A9", "1"];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 2) {
      // A target a preview could really send: an allowed origin, plain segments.
      let t = r.pick(origins.slice(0, 9));
      const n = Math.floor(r.next() * 3);
      for (let j = 0; j < n; j++) t += `/${r.pick(clean)}`;
      t += `/callback/${r.pick(["github", "google", "apple", "a_b-9"])}`;
      if (r.next() < 0.3) t += `?${r.pick(["x=1", "tenant=acme", "next=%2F%2Fevil.com", "a=b&c=d"])}`;
      out.push(t);
    } else if (i % 3 === 0) {
      let t = r.pick(origins);
      if (r.next() < 0.3) t += r.pick(hostTricks);
      const n = 1 + Math.floor(r.next() * 5);
      for (let j = 0; j < n; j++) t += `/${r.pick(segments)}`;
      if (r.next() < 0.5) t += "/api/auth/callback/github";
      if (r.next() < 0.2) t += `?${r.pick(["x=1", "tenant=acme", "next=%2F%2Fevil.com", "", "a=b&c=d"])}`;
      out.push(t);
    } else {
      let t = r.pick(starts);
      const n = 1 + Math.floor(r.next() * 6);
      for (let j = 0; j < n; j++) t += r.pick(pieces);
      out.push(t);
    }
  }
  return out;
}

/**
 * Every target; those of the table, the JS cases and the generator also with
 * `/callback/github` appended where they have no query (the open-redirect payloads come
 * after a callback path already).
 */
function corpus() {
  const seen = new Set();
  const add = (t) => {
    if (typeof t === "string" && t.length <= 1200) seen.add(t);
  };
  const sources = { table: hostileTable(), openredirects: openRedirects(), js: jsTargetCases(), generated: generated(2100) };
  for (const [name, list] of Object.entries(sources)) {
    for (const t of list) {
      add(t);
      if (name !== "openredirects" && !t.includes("?") && !t.includes("#")) {
        add(t.endsWith("/") ? `${t}callback/github` : `${t}/callback/github`);
      }
    }
  }
  return { targets: [...seen].slice(0, MAX_TARGETS), sizes: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.length])) };
}

// ---------------------------------------------------------------------------------------
// The operator's allowlist, modelled here (docs/configuration.md's rules), on a WHATWG URL

const DEFAULT_PORT = { "https:": 443, "http:": 80 };

const PATTERNS = ALLOWLIST.map((p) => {
  const m = /^(https?:)\/\/(\[[0-9a-f:.]+\]|[^:/]+)(?::(\*|\d+))?$/.exec(p);
  assert.ok(m, p);
  return { scheme: m[1], host: m[2], port: m[3] === undefined ? DEFAULT_PORT[m[1]] : m[3] === "*" ? "*" : Number(m[3]) };
});

function hostMatches(pattern, host) {
  if (!pattern.includes("*")) return pattern === host;
  const want = pattern.split(".");
  const got = host.split(".");
  if (want.length !== got.length) return false;
  const [prefix, suffix] = want[0].split("*");
  const first = got[0];
  if (first.length < prefix.length + suffix.length + 1) return false;
  if (!first.startsWith(prefix) || !first.endsWith(suffix)) return false;
  return want.slice(1).every((label, i) => label === got[i + 1]);
}

function allowedByModel(url) {
  const port = url.port === "" ? DEFAULT_PORT[url.protocol] : Number(url.port);
  return PATTERNS.some(
    (p) => p.scheme === url.protocol && (p.port === "*" || p.port === port) && hostMatches(p.host, url.hostname),
  );
}

// ---------------------------------------------------------------------------------------
// Checking what the relay emits

/** The relay's view of a target's origin: a canonical target up to its path. */
function relayOrigin(target) {
  const afterScheme = target.indexOf("://");
  const slash = afterScheme < 0 ? -1 : target.indexOf("/", afterScheme + 3);
  return slash < 0 ? target : target.slice(0, slash);
}

function decodeAttribute(s) {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]);
}

const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * Checks one emitted URL (a `Location`, or a form `action`) for the target the state
 * signed; returns a list of problems (empty when the readings agree).
 */
function compare(emitted, base, target) {
  const problems = [];
  if (!PRINTABLE.test(emitted)) problems.push("not printable ASCII");
  if (!emitted.startsWith(target)) problems.push("does not start with the signed target");
  const relay = relayOrigin(target);
  let browser;
  try {
    browser = new URL(emitted, base);
  } catch (error) {
    problems.push(`WHATWG URL refuses it: ${error.message}`);
    return problems;
  }
  if (browser.origin !== relay) problems.push(`WHATWG origin ${browser.origin} ≠ relay's ${relay}`);
  if (!allowedByModel(browser)) problems.push(`WHATWG origin ${browser.origin} is not on the allowlist`);
  let own;
  try {
    own = new URL(target).href;
  } catch {
    own = "(refused)";
  }
  if (own !== target) problems.push(`the target is not its own WHATWG serialisation (${own})`);
  return problems;
}

// ---------------------------------------------------------------------------------------

async function authjsState(origin) {
  const random = randomBytes(32).toString("base64url");
  return encode({ secret: SECRET, token: { origin, random: `${MARKER}${random}` }, salt: "encodedState", maxAge: 900 });
}

async function nativeState(target) {
  const iat = Math.floor(Date.now() / 1000);
  try {
    return await signState({ secret: SECRET, target, iat, exp: iat + 600, nonce: randomBytes(16) });
  } catch {
    return null; // the JS client refuses to sign it: no native client could send it
  }
}

function providerOf(target) {
  return /\/callback\/([A-Za-z0-9_-]{1,64})(?:\?|$)/.exec(target)?.[1] ?? "github";
}

/**
 * Runs `work` over `items` with at most `limit` in flight. A throw is handed to `failed`
 * and the rest still run, so no request is left in flight when this resolves.
 */
async function pool(items, limit, work, failed) {
  let next = 0;
  const workers = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failed(item, error);
      }
    }
  });
  await Promise.all(workers);
}

describeNeeding([needRelay], "the browser's reading of what the relay emits", () => {
  let relay;

  before(async () => {
    relay = await startRelay({ secret: SECRET, allowedOrigins: ALLOWLIST.join(",") });
  });
  after(async () => {
    await relay?.stop();
  });

  test("every Location and form action has, for WHATWG URL, the origin the relay allowed", { timeout: TEST_TIMEOUT }, async () => {
    const started = Date.now();
    const { targets, sizes } = corpus();
    assert.ok(sizes.table >= 150, `the hostile table has ${sizes.table} rows`);
    assert.ok(sizes.openredirects >= 2000, `${sizes.openredirects} open-redirect targets`);
    assert.ok(sizes.js >= 50, `${sizes.js} JS target cases`);

    const tally = { targets: targets.length, states: 0, requests: 0, redirects: 0, formPosts: 0, refused: 0 };
    const emittedOrigins = new Set();
    const failures = [];

    await pool(targets, CONCURRENCY, async (target) => {
      const states = [["authjs", await authjsState(target)]];
      const native = await nativeState(target);
      if (native) states.push(["native", native]);
      const provider = providerOf(target);
      const url = relay.callbackUrl(provider);
      for (const [format, state] of states) {
        tally.states += 1;
        const query = `code=${MARKER}&state=${state}`;
        const what = `${JSON.stringify(target)} [${format}]`;

        const r = await get(`${url}?${query}`, { timeoutMs: REQUEST_TIMEOUT_MS });
        tally.requests += 1;
        const body = await r.text();
        if (r.status >= 300 && r.status < 400) {
          tally.redirects += 1;
          const location = r.headers.get("location") ?? "";
          for (const p of compare(location, url, target)) failures.push(`${what} GET: ${p}: ${location}`);
          emittedOrigins.add(relayOrigin(target));
        } else {
          tally.refused += 1;
          if (r.status >= 500) failures.push(`${what} GET: answered ${r.status}`);
          if (body.includes(MARKER)) failures.push(`${what} GET: input reflected`);
        }

        const p = await get(url, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: query,
          timeoutMs: REQUEST_TIMEOUT_MS,
        });
        tally.requests += 1;
        const page = await p.text();
        const action = /<form\b[^>]*\baction="([^"]*)"/.exec(page)?.[1];
        if (p.status === 200 && action !== undefined) {
          tally.formPosts += 1;
          const decoded = decodeAttribute(action);
          for (const problem of compare(decoded, url, target)) failures.push(`${what} POST: ${problem}: ${decoded}`);
          if (decoded !== target) failures.push(`${what} POST: the action is not the signed target: ${decoded}`);
          const formAction = /form-action ([^;]+);/.exec(p.headers.get("content-security-policy") ?? "")?.[1];
          if (formAction !== relayOrigin(target)) {
            failures.push(`${what} POST: CSP form-action ${formAction} ≠ the target's origin ${relayOrigin(target)}`);
          }
          emittedOrigins.add(relayOrigin(target));
        } else {
          if (p.status < 400 || p.status >= 500) failures.push(`${what} POST: answered ${p.status} without a form`);
          if (page.includes(MARKER)) failures.push(`${what} POST: input reflected`);
        }
      }
    }, (target, error) => failures.push(`${JSON.stringify(target)}: ${error.stack ?? error}`));

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `whatwg differential: ${tally.targets} targets (${JSON.stringify(sizes)} before dedup), ${tally.states} states, ` +
        `${tally.requests} requests, ${tally.redirects} redirects and ${tally.formPosts} form posts checked, ` +
        `${tally.refused} GETs refused, ${emittedOrigins.size} distinct origins emitted, ${seconds} s`,
    );
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} disagreements`);
    // The corpus must reach both answers, or the comparison checks nothing.
    assert.ok(tally.redirects >= 1000, `only ${tally.redirects} redirects`);
    assert.ok(tally.formPosts >= 1000, `only ${tally.formPosts} form posts`);
    assert.ok(tally.refused >= 4000, `only ${tally.refused} refusals`);
    assert.ok(emittedOrigins.size >= 8, `only ${[...emittedOrigins].join(", ")}`);
    // One log line per callback.
    await relay.waitForEvent(tally.requests - 1, 10_000);
    assert.equal(relay.events().length, tally.requests);
  });

  test("the comparison itself flags a browser reading another origin", () => {
    const base = "http://127.0.0.1:1/api/auth/callback/github";
    const good = "https://app.example.com/api/auth/callback/github";
    assert.deepEqual(compare(`${good}?code=c`, base, good), []);
    assert.ok(compare("https://evil.com/api/auth/callback/github", base, good).length > 0);
    assert.ok(compare("https://app.example.com:8443/api/auth/callback/github", base, "https://app.example.com:8443/api/auth/callback/github").length > 0);
    assert.ok(compare("//evil.com/x", base, "//evil.com/x").length > 0);
    const backslash = "https://evil.com\\@app.example.com/callback/github";
    assert.ok(compare(backslash, base, backslash).length > 0);
  });

  test("a legacy unsigned Auth.js state is labelled authjs_legacy in the log, the metric and inspect", { timeout: 30_000 }, async () => {
    const origin = "https://pr-1.preview.example.com/api/auth/callback/github";
    const legacy = Buffer.from(JSON.stringify({ origin, random: MARKER })).toString("base64url");
    const before = relay.events().length;
    const r = await get(`${relay.callbackUrl("github")}?code=${MARKER}&state=${legacy}`);
    const page = await r.text();
    assert.equal(r.status, 400);
    assert.match(page, /<code id="reason">state_malformed<\/code>/);
    assert.match(page, /<p id="advice">[^<]*upgrade @auth\/core to 0\.35\.3 or later \(next-auth 5\.0\.0-beta\.22 or later\)\.<\/p>/);
    assert.ok(!page.includes(MARKER) && !page.includes("pr-1."), "the page reflects no input");

    const j = await get(`${relay.callbackUrl("github")}?state=${legacy}`, { headers: { accept: "application/json" } });
    const json = await j.json();
    assert.equal(json.error, "state_malformed");
    assert.match(json.advice, /0\.35\.3 or later/);

    await relay.waitForEvent(before + 1);
    const events = relay.events().slice(before);
    assert.equal(events.length, 2);
    for (const e of events) {
      assert.equal(e.format, "authjs_legacy");
      assert.equal(e.detail, "legacy_unsigned");
      assert.equal(e.reason, "state_malformed");
      assert.equal(e.target_host, "");
    }
    const metrics = await (await get(`${relay.origin}/metrics`)).text();
    assert.ok(
      metrics.includes(
        'authrelay_bounces_total{app="default",outcome="refused",reason="state_malformed",provider="unknown",format="authjs_legacy"} 2',
      ),
      metrics,
    );

    const { stdout } = await promisify(execFile)(relayBin(), ["inspect", legacy], {
      env: relayEnv({ AUTH_SECRET: SECRET }),
      timeout: 10_000,
    }).catch((e) => e); // inspect exits 1 for a state that does not verify
    assert.match(stdout, /format: {3}Auth\.js before 0\.35\.3 \(unsigned base64url JSON\)/);
    assert.match(stdout, /advice: {3}.*upgrade @auth\/core to 0\.35\.3 or later/);
    assert.match(stdout, /verifies: no — state_malformed \(legacy_unsigned: /);
  });
});
