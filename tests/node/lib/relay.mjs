// The authrelay binary, started as the stable deployment a preview's redirect proxy
// points at.
//
//   const relay = await startRelay({ secrets: { AUTH_SECRET: s }, allowedOrigins: "http://127.0.0.2:*" });
//   relay.baseUrl                // http://127.0.0.1:<port>/api/auth
//   relay.callbackUrl("mock")    // http://127.0.0.1:<port>/api/auth/callback/mock
//   relay.events()               // the JSON log lines with message "callback", parsed
//   await relay.stop();
//
// The binary is $AUTHRELAY_BIN, else target/release/authrelay, else target/debug/authrelay
// (relative to the repository root). It runs with a clean environment: only PATH and
// what is passed here, so a developer's own AUTH_* or RUST_LOG cannot change the test.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { freePort, spawnProcess, waitFor, waitForHttp } from "./process.mjs";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Path of the relay binary to test. */
export function relayBin() {
  if (process.env.AUTHRELAY_BIN) return process.env.AUTHRELAY_BIN;
  for (const profile of ["release", "debug"]) {
    const candidate = `${repoRoot}target/${profile}/authrelay`;
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no relay binary: build it (cargo build --release --bin authrelay) or set AUTHRELAY_BIN");
}

function baseEnv() {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin" };
}

/**
 * Starts `authrelay serve` on `host` and a free port; resolves once /healthz answers.
 * `secrets` holds AUTH_SECRET and optionally AUTH_SECRET_1..3.
 */
export async function startRelay({
  secrets,
  allowedOrigins,
  host = "127.0.0.1",
  basePath = "/api/auth",
  extraEnv = {},
  startTimeoutMs = 10000,
}) {
  const bin = relayBin();
  // The port is chosen before the relay binds it (AUTH_URL must name it), so another
  // process may take it in between: try a few ports before giving up.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(host);
    const origin = `http://${host}:${port}`;
    const env = {
      ...baseEnv(),
      ...secrets,
      AUTH_URL: `${origin}${basePath}`,
      AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: allowedOrigins,
      HOST: host,
      PORT: String(port),
      LOG_FORMAT: "json",
      RUST_LOG: "info",
      ...extraEnv,
    };
    const proc = spawnProcess(`authrelay:${port}`, bin, ["serve"], { env });
    try {
      await waitForHttp(`${origin}/healthz`, { timeoutMs: startTimeoutMs, process: proc });
    } catch (error) {
      lastError = error;
      await proc.stop();
      if (/cannot listen/.test(proc.output())) continue;
      throw error;
    }
    return makeRelay(proc, { origin, port, baseUrl: `${origin}${basePath}` });
  }
  throw lastError;
}

function makeRelay(proc, { origin, port, baseUrl }) {
  const logLines = () => {
    const parsed = [];
    for (const line of proc.stderr) {
      try {
        parsed.push(JSON.parse(line));
      } catch {
        parsed.push({ unparsed: line });
      }
    }
    return parsed;
  };
  const events = () => logLines().filter((l) => l.message === "callback");
  return {
    proc,
    origin,
    port,
    baseUrl,
    callbackUrl: (provider) => `${baseUrl}/callback/${provider}`,
    /** Everything the relay logged (standard error), as one string. */
    logText: () => proc.stderr.join("\n"),
    logLines,
    events,
    /** Waits for the callback event number `index` (0-based) and returns it. */
    waitForEvent: (index, timeoutMs = 5000) =>
      waitFor(() => events()[index], { timeoutMs, what: `relay callback log event #${index}` }),
    stop: () => proc.stop(),
  };
}

const execFileP = promisify(execFile);

/** `authrelay sign …` with `secret` as AUTH_SECRET; resolves with the state. */
export async function signState({ secret, target, provider, format = "authjs", ttl }) {
  const args = ["sign", "--target", target, "--provider", provider, "--format", format];
  if (ttl !== undefined) args.push("--ttl", String(ttl));
  const { stdout } = await execFileP(relayBin(), args, {
    env: { ...baseEnv(), AUTH_SECRET: secret },
    timeout: 10000,
  });
  return stdout.trim();
}
