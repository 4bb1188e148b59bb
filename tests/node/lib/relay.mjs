// The authrelay binary, started as the stable deployment a preview's redirect proxy
// points at. Shared by tests/node, clients/js/test and examples/express-preview/test.
//
//   const relay = await startRelay({ secret: s, allowedOrigins: "http://127.0.0.2:*" });
//   relay.baseUrl                // http://127.0.0.1:<port>/api/auth
//   relay.callbackUrl("mock")    // http://127.0.0.1:<port>/api/auth/callback/mock
//   relay.events()               // the JSON log lines with message "callback", parsed
//   await relay.stop();
//
// The binary is the one relay_bin in scripts/lib.sh picks, as every test script does:
// $AUTHRELAY_BIN, else the most recent build (under CI only the static musl binary). It
// runs with a clean environment: only PATH and what is passed here, so a developer's own
// AUTH_* or RUST_LOG cannot change the test.

import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

import { repoRoot, spawnOnFreePort, spawnProcess, waitFor, waitForHttp } from "./process.mjs";

export { repoRoot };

let foundBin;

/** Path of the relay binary to test, or null when there is none (relay_bin says why). */
export function relayBin() {
  if (foundBin === undefined) {
    try {
      foundBin = execFileSync("bash", ["-c", 'source "$1" && relay_bin', "relay.mjs", `${repoRoot}scripts/lib.sh`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 10_000,
      }).trim();
    } catch {
      foundBin = null;
    }
  }
  return foundBin;
}

function requireRelayBin() {
  const bin = relayBin();
  if (!bin) throw new Error("no relay binary: build it (cargo build --release --bin authrelay) or set AUTHRELAY_BIN");
  return bin;
}

/** A clean environment for the relay: PATH and what is given, nothing of the developer's. */
export function relayEnv(extra) {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra };
}

/**
 * Starts `authrelay serve` on `host` and a free port; resolves once /healthz answers.
 * `secrets` holds AUTH_SECRET and optionally AUTH_SECRET_1..3; `secret` alone is
 * AUTH_SECRET.
 */
export async function startRelay({
  bin = requireRelayBin(),
  secret,
  secrets = { AUTH_SECRET: secret },
  allowedOrigins,
  host = "127.0.0.1",
  basePath = "/api/auth",
  extraEnv = {},
  startTimeoutMs = 15_000,
}) {
  // AUTH_URL names the port, so it is chosen before the relay binds it.
  const { port, proc } = await spawnOnFreePort(
    host,
    (port) =>
      spawnProcess(`authrelay:${port}`, bin, ["serve"], {
        env: relayEnv({
          ...secrets,
          AUTH_URL: `http://${host}:${port}${basePath}`,
          AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: allowedOrigins,
          HOST: host,
          PORT: String(port),
          LOG_FORMAT: "json",
          RUST_LOG: "info",
          ...extraEnv,
        }),
      }),
    (port, proc) => waitForHttp(`http://${host}:${port}/healthz`, { timeoutMs: startTimeoutMs, process: proc }),
  );
  const origin = `http://${host}:${port}`;
  return makeRelay(proc, { origin, port, baseUrl: `${origin}${basePath}` });
}

/**
 * The handle startRelay returns, for a relay running as `proc`; `logs(proc)` gives the
 * lines the relay itself logged (the binary: its standard error).
 */
export function makeRelay(proc, { origin, port, baseUrl, logs = (p) => p.stderr }) {
  const logLines = () => {
    const parsed = [];
    for (const line of logs(proc)) {
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
    logText: () => logs(proc).join("\n"),
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
  const { stdout } = await execFileP(requireRelayBin(), args, {
    env: relayEnv({ AUTH_SECRET: secret }),
    timeout: 10000,
  });
  return stdout.trim();
}
