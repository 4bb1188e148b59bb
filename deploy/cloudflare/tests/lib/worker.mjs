// The built Worker (deploy/cloudflare/build), run in workerd by `wrangler dev --local`
// on a loopback address and a free port, with the same interface as startRelay in
// tests/node/lib/relay.mjs, so a test can run against either.
//
//   const worker = await startWorker({ secrets: { AUTH_SECRET: s }, allowedOrigins: "http://127.0.0.2:*" });
//   worker.baseUrl, worker.callbackUrl("mock"), worker.events(), await worker.stop();
//
// Each start writes a wrangler.json of its own into a fresh temporary directory: the
// variables as [vars], the secrets in .dev.vars beside it (as `wrangler secret put` sets
// them on a deployed Worker), and the built module as `main`. Wrangler runs with a
// clean environment (PATH, HOME, and no metrics or update checks), so a developer's own
// AUTH_* or Cloudflare settings cannot change the test.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { makeRelay } from "../../../../tests/node/lib/relay.mjs";
import { freePort, spawnOnFreePort, spawnProcess, waitFor, waitForHttp } from "../../../../tests/node/lib/process.mjs";

/** The Worker's crate directory, with a trailing slash. */
export const workerDir = fileURLToPath(new URL("../../", import.meta.url));
const entry = join(workerDir, "entry.js");
const built = join(workerDir, "build", "authrelay_bg.wasm");
const wrangler = join(workerDir, "node_modules", ".bin", "wrangler");

/** null when the Worker can run here, else [what is missing, how to get it]. */
export const needWorker = () =>
  !existsSync(wrangler)
    ? ["wrangler not installed", "npm ci in deploy/cloudflare (scripts/install-deps does it)"]
    : !existsSync(built)
      ? ["Worker not built", "deploy/cloudflare/build.sh"]
      : null;

/** The environment wrangler runs with: nothing of the developer's, nothing sent anywhere. */
export function wranglerEnv() {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    // The Request.cf placeholder instead of fetching Cloudflare's (the test needs none).
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
}

/**
 * Starts the Worker with `vars` ([vars]) and `secrets` (.dev.vars) on `host` and a free
 * port; resolves once `/healthz` answers (it does even when the configuration is bad).
 * The single-app options mirror startRelay's.
 */
export async function startWorker({
  secret,
  secrets = secret === undefined ? {} : { AUTH_SECRET: secret },
  allowedOrigins,
  host = "127.0.0.1",
  basePath = "/api/auth",
  extraEnv = {},
  vars: givenVars,
  startTimeoutMs = 30_000,
  // false: wait for wrangler's "Ready on" line instead, so that the first request the
  // isolate answers is the caller's (the benchmark's cold start).
  waitForHealthz = true,
}) {
  const dir = mkdtempSync(join(tmpdir(), "authrelay-worker-"));
  // Wrangler's devtools port: a free one (its fixed default would collide).
  const inspectorPort = await freePort("127.0.0.1");
  const { port, proc } = await spawnOnFreePort(
    host,
    (port) => {
      const vars = givenVars ?? {
        AUTH_URL: `http://${host}:${port}${basePath}`,
        AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: allowedOrigins,
        LOG_FORMAT: "json",
        ...extraEnv,
      };
      for (const [k, v] of Object.entries(vars)) if (v === undefined) delete vars[k];
      writeFileSync(
        join(dir, "wrangler.json"),
        JSON.stringify({ name: "authrelay-test", main: entry, compatibility_date: "2026-04-01", vars }),
      );
      writeFileSync(
        join(dir, ".dev.vars"),
        Object.entries(secrets).map(([k, v]) => `${k}=${JSON.stringify(v)}\n`).join(""),
      );
      return spawnProcess(`worker:${port}`, wrangler, [
        "dev", "--local", "--config", join(dir, "wrangler.json"),
        "--ip", host, "--port", String(port),
        "--inspector-ip", "127.0.0.1", "--inspector-port", String(inspectorPort),
        "--show-interactive-dev-session=false", "--persist-to", join(dir, "state"),
      ], { env: wranglerEnv(), cwd: dir });
    },
    (port, proc) =>
      waitForHealthz
        ? waitForHttp(`http://${host}:${port}/healthz`, { timeoutMs: startTimeoutMs, process: proc })
        : waitFor(() => proc.exitCode === undefined && proc.stdout.some((l) => l.includes("Ready on")), {
          timeoutMs: startTimeoutMs,
          what: "wrangler's Ready line",
        }),
  );
  const origin = `http://${host}:${port}`;
  const worker = makeRelay(proc, { origin, port, baseUrl: `${origin}${basePath}`, logs: workerLines });
  const stop = worker.stop;
  worker.stop = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return worker;
}

// Terminal colours wrangler adds to console.error lines.
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * What the Worker itself wrote, not wrangler's own lines: its JSON lines (console.log),
 * and its configuration error (console.error, which wrangler prints after a
 * "✘ [ERROR] " mark).
 */
function workerLines(proc) {
  const lines = [];
  for (const raw of [...proc.stdout, ...proc.stderr]) {
    const line = raw.replace(ANSI, "");
    if (line.startsWith("{")) lines.push(line);
    const at = line.indexOf("authrelay: ");
    if (at >= 0) lines.push(line.slice(at));
  }
  return lines;
}
