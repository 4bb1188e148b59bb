// The Worker answers exactly as the actix service does.
//
// The request table of tests/fixtures/adapter-requests.json is sent, over real loopback
// sockets, to the built Worker in workerd (`wrangler dev --local`) and to the relay
// binary, both with the same configuration; status, headers (all but the few listed in
// DIFFERING, each with its reason) and body must be equal. Then several apps from a TOML
// [vars] string, and a bad configuration: 503 for callbacks and /readyz, /healthz alive,
// and the binary's own one-line message in the log.
//
// Run: deploy/cloudflare/build.sh && AUTHRELAY_BIN=target/release/authrelay \
//        node --test deploy/cloudflare/tests/parity.test.mjs

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { relayBin, relayEnv, repoRoot, signState, startRelay } from "../../../tests/node/lib/relay.mjs";
import { assertLoopback, freePort, waitFor } from "../../../tests/node/lib/process.mjs";
import { describeNeeding, needRelay } from "../../../tests/node/lib/suite.mjs";
import { needWorker, startWorker } from "./lib/worker.mjs";

const TABLE = JSON.parse(readFileSync(`${repoRoot}tests/fixtures/adapter-requests.json`, "utf8"));

/** Headers that may differ between the two, and why; every other header must be equal. */
const DIFFERING = new Map([
  ["date", "the time of the answer"],
  ["connection", "each server's own keep-alive policy (the relay closes after each request)"],
  ["keep-alive", "the same"],
  ["content-length", "workerd sends some fixed bodies chunked, and none for HEAD; the bodies are compared"],
  ["transfer-encoding", "the same"],
]);

/** Sends `req` to `origin` with node:http (which, unlike fetch, sends any Host header). */
function send(origin, { method = "GET", target, headers = {}, body = "" }) {
  assertLoopback(origin);
  return new Promise((resolve, reject) => {
    const url = new URL(origin);
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: target,
        headers: { ...headers, ...(body ? { "content-length": Buffer.byteLength(body) } : {}) },
        timeout: 10_000,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    r.on("timeout", () => r.destroy(new Error(`${method} ${target}: no answer within 10 s`)));
    r.on("error", reject);
    r.end(body);
  });
}

/** What is compared: status, every header but DIFFERING, body. */
function seen(answer) {
  const headers = Object.fromEntries(
    Object.entries(answer.headers).filter(([k]) => !DIFFERING.has(k)).sort(([a], [b]) => a.localeCompare(b)),
  );
  return { status: answer.status, headers, body: answer.body };
}

/** Signs each state of the table (a `null` secret is one neither relay holds). */
async function signStates() {
  const states = {};
  for (const [name, s] of Object.entries(TABLE.states)) {
    const secret = s.secret ? TABLE.secrets[s.secret] : `forged-${randomBytes(24).toString("base64url")}`;
    states[name] = encodeURIComponent(
      await signState({ secret, target: s.target, provider: s.provider, format: s.format }),
    );
  }
  return states;
}

function fill(text, states) {
  return text
    .replace(/\{pad:(\d+)\}/g, (_, n) => "a".repeat(Number(n)))
    .replace(/\{(\w+)\}/g, (whole, name) => states[name] ?? whole);
}

describeNeeding([needRelay, needWorker], "the Worker in workerd answers as the actix service", () => {
  let relay;
  let worker;
  let states;

  before(async () => {
    [relay, worker, states] = await Promise.all([
      // Metrics on a port of their own, as a Worker has none that is private: the
      // public port answers /metrics 404, as the Worker does.
      freePort("127.0.0.1").then((metricsPort) =>
        startRelay({ secrets: TABLE.secrets, extraEnv: { ...TABLE.vars, METRICS_PORT: String(metricsPort) } }),
      ),
      startWorker({ secrets: TABLE.secrets, vars: TABLE.vars }),
      signStates(),
    ]);
  }, { timeout: 60_000 });

  after(async () => {
    await Promise.allSettled([relay?.stop(), worker?.stop()]);
  }, { timeout: 20_000 });

  /** Sends `req` to both; asserts they answered alike; returns the answer. */
  async function same(req) {
    const filled = {
      ...req,
      target: fill(req.target, states),
      body: fill(req.body ?? "", states),
      headers: Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k, fill(v, states)])),
    };
    const [fromWorker, fromRelay] = await Promise.all([send(worker.origin, filled), send(relay.origin, filled)]);
    const label = `${filled.method ?? "GET"} ${req.target}`;
    assert.deepEqual(seen(fromWorker), seen(fromRelay), `the Worker and the relay differ for ${label}`);
    return fromWorker;
  }

  test("every request of the table", { timeout: 60_000 }, async () => {
    for (const req of TABLE.requests) {
      const answer = await same(req);
      assert.equal(answer.status, req.status, req.name);
      assert.equal(answer.headers["cache-control"], "no-store", req.name);
    }
  });

  test("every path with every method, as HTML and as JSON", { timeout: 60_000 }, async () => {
    const { paths, methods, accepts } = TABLE.matrix;
    let count = 0;
    for (const target of paths) {
      for (const method of methods) {
        for (const accept of accepts) {
          const answer = await same({ method, target, headers: { accept } });
          if (target === "/metrics") assert.equal(answer.status, 404, `${method} /metrics: a Worker serves no metrics`);
          count++;
        }
      }
    }
    assert.equal(count, paths.length * methods.length * accepts.length);
  });

  test("one JSON log line per callback, with the reason and no state or code", { timeout: 30_000 }, async () => {
    // wrangler prints the Worker's lines a little after the answers: let the earlier
    // tests' lines arrive first, so that the next one is this callback's.
    let settled = -1;
    await waitFor(() => {
      const now = worker.events().length;
      const done = now === settled;
      settled = now;
      return done;
    }, { intervalMs: 300, what: "the earlier log lines" });
    const before = worker.events().length;
    await same({ target: "/api/auth/callback/github?code=secret-code-1&state={outside}", headers: { accept: "application/json" } });
    const event = await worker.waitForEvent(before);
    assert.equal(event.outcome, "refused");
    assert.equal(event.reason, "target_not_allowed");
    assert.equal(event.level, "INFO");
    const mine = relay.events().at(-1);
    assert.deepEqual(
      Object.keys(event).sort(),
      Object.keys(mine).filter((k) => k !== "timestamp").sort(),
      "the Worker's line has the binary's fields (the platform adds the time)",
    );
    assert.ok(!worker.logText().includes("secret-code-1"), "no code in the log");
    assert.ok(!worker.logText().includes(states.outside), "no state in the log");
  });
});

// Several apps: the TOML of a config file as the [vars] string AUTHRELAY_CONFIG_TOML,
// each app's secret_env naming Worker secrets.
const APPS_TOML = `
[[apps]]
name = "web"
base_path = "/web/api/auth"
secret_env = ["WEB_SECRET"]
allowed_origins = ["https://*.web.example.com"]

[[apps]]
name = "docs"
base_path = "/docs/api/auth"
secret_env = ["DOCS_SECRET"]
allowed_origins = ["https://*.docs.example.com"]
`;
const APP_SECRETS = {
  WEB_SECRET: "web-app-secret-0123456789abcdefghijkl",
  DOCS_SECRET: "docs-app-secret-0123456789abcdefghijk",
};

describeNeeding([needRelay, needWorker], "several apps from a TOML [vars] string", () => {
  test("each app opens only its own states, as the binary with the same file does", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "authrelay-apps-"));
    const file = join(dir, "apps.toml");
    writeFileSync(file, APPS_TOML);
    const vars = { AUTH_URL: "https://auth.example.test", LOG_FORMAT: "json" };
    const [relay, worker] = await Promise.all([
      startRelay({ secrets: APP_SECRETS, extraEnv: { ...vars, AUTHRELAY_CONFIG: file, AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: undefined } }),
      startWorker({ secrets: APP_SECRETS, vars: { ...vars, AUTHRELAY_CONFIG_TOML: APPS_TOML } }),
    ]);
    try {
      const web = encodeURIComponent(await signState({
        secret: APP_SECRETS.WEB_SECRET, target: "https://pr-1.web.example.com/api/auth/callback/github", provider: "github", format: "authjs",
      }));
      const cases = [
        [`/web/api/auth/callback/github?code=c&state=${web}`, 302],
        [`/docs/api/auth/callback/github?code=c&state=${web}`, 403],
        ["/readyz", 200],
      ];
      for (const [target, status] of cases) {
        const req = { target, headers: { accept: "application/json" } };
        const [a, b] = await Promise.all([send(worker.origin, req), send(relay.origin, req)]);
        assert.deepEqual(seen(a), seen(b), target);
        assert.equal(a.status, status, target);
      }
    } finally {
      await Promise.allSettled([relay.stop(), worker.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const execFileP = promisify(execFile);

/** The line `authrelay serve` prints when it refuses to start with `env`. */
async function binaryRefusal(env) {
  try {
    await execFileP(relayBin(), ["serve"], { env: relayEnv({ HOST: "127.0.0.1", PORT: "0", ...env }), timeout: 10_000 });
  } catch (error) {
    return error.stderr.trim().split("\n").find((l) => l.includes("configuration error"));
  }
  assert.fail("the binary started with a bad configuration");
}

describeNeeding([needRelay, needWorker], "a Worker with a bad configuration", () => {
  for (const [what, vars, secrets, secretValue] of [
    ["a short AUTH_SECRET", { AUTH_URL: "https://auth.example.test/api/auth", AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: "https://*.example.com" }, { AUTH_SECRET: "too-short-1" }, "too-short-1"],
    // A [vars] number is checked as the binary checks the variable, not dropped.
    ["a [vars] number out of range", { AUTH_URL: "https://auth.example.test/api/auth", AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: "https://*.example.com", AUTH_STATE_MAX_AGE: 5 }, { AUTH_SECRET: "valid-secret-0123456789abcdefghijklmnop" }, "valid-secret-0123456789"],
    ["a broken apps TOML", { AUTH_URL: "https://auth.example.test", AUTHRELAY_CONFIG_TOML: "[[apps]]\nname = \"web\"\nbase_path = 7\n" }, { WEB_SECRET: "web-app-secret-0123456789abcdefghijkl" }, "web-app-secret"],
  ]) {
    test(`${what}: 503 for callbacks and /readyz, /healthz alive, one clear log line`, { timeout: 60_000 }, async () => {
      const worker = await startWorker({ secrets, vars });
      try {
        for (const [target, status] of [["/api/auth/callback/github?code=c&state=x", 503], ["/readyz", 503], ["/healthz", 200]]) {
          const answer = await send(worker.origin, { target, headers: { accept: "application/json" } });
          assert.equal(answer.status, status, target);
          if (status === 503) {
            assert.equal(answer.body, '{"error":"configuration_error"}', "no detail of the configuration in the answer");
            assert.equal(answer.headers["cache-control"], "no-store");
            // A browser gets the page: the reason code and fixed text, nothing of the configuration.
            const page = await send(worker.origin, { target, headers: { accept: "text/html" } });
            assert.equal(page.status, 503, target);
            assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
            assert.match(page.body, /<code id="reason">configuration_error<\/code>/);
            assert.ok(!page.body.includes(secretValue) && !page.body.includes("AUTH_"), page.body);
          }
        }
        const errorLines = () => worker.logLines().filter((l) => l.unparsed?.startsWith("authrelay: configuration error"));
        await waitFor(() => errorLines().length > 0, { what: "the configuration error in the log" });
        const lines = errorLines();
        assert.equal(lines.length, 1, `one line names the problem:\n${worker.logText()}`);
        const line = lines[0].unparsed;
        assert.ok(!line.includes(secretValue), "the line never shows a secret");
        if (!vars.AUTHRELAY_CONFIG_TOML) {
          assert.equal(line, await binaryRefusal({ ...vars, ...secrets }), "the binary's own message");
        } else {
          assert.match(line, /config file AUTHRELAY_CONFIG_TOML line \d+: /);
        }
      } finally {
        await worker.stop();
      }
    });
  }
});
