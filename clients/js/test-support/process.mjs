// Test helpers shared by clients/js/test and examples/express-preview/test: child
// processes with bounded waits, free loopback ports, and the relay binary.
//
// Every wait here is bounded in attempts and in time, every request goes to 127.0.0.0/8,
// and every child still running when the test process exits is killed.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const running = new Set();
process.on("exit", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Refuses any URL that is not on a loopback address. */
export function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== "localhost") {
    throw new Error(`test traffic must stay on loopback, not ${host}`);
  }
}

/** A free TCP port on `host`, as the kernel hands it out for port 0. */
export function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `command`, keeping its output as lines; `stop()` ends it (bounded). */
export function spawnProcess(name, command, args, { env, cwd } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const proc = {
    name,
    child,
    stdout: [],
    stderr: [],
    exitCode: undefined,
    output() {
      return [`--- ${name} stdout ---`, ...proc.stdout, `--- ${name} stderr ---`, ...proc.stderr].join("\n");
    },
    stop: () => stopProcess(proc),
  };
  collectLines(child.stdout, proc.stdout);
  collectLines(child.stderr, proc.stderr);
  proc.exited = new Promise((resolve) => {
    child.once("error", (error) => {
      running.delete(child);
      proc.exitCode = null;
      resolve({ code: null, error });
    });
    child.once("exit", (code, signal) => {
      running.delete(child);
      proc.exitCode = code;
      resolve({ code, signal });
    });
  });
  return proc;
}

function collectLines(stream, lines) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop();
    // Bounded: a chatty child cannot grow the test's memory without limit.
    for (const p of parts) if (lines.length < 5000) lines.push(p);
  });
  stream.on("end", () => {
    if (rest && lines.length < 5000) lines.push(rest);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; never waits longer than graceMs + 2 s. */
export async function stopProcess(proc, { graceMs = 3000 } = {}) {
  if (proc.exitCode !== undefined) return;
  proc.child.kill("SIGTERM");
  const first = await Promise.race([proc.exited, sleep(graceMs, "timeout", { ref: false })]);
  if (first !== "timeout") return;
  proc.child.kill("SIGKILL");
  await Promise.race([proc.exited, sleep(2000, undefined, { ref: false })]);
}

/**
 * Polls `url` until it answers 200: at most `timeoutMs`, and at most
 * timeoutMs / intervalMs attempts. Fails at once if `proc` exits first.
 */
export async function waitForHttp(url, { timeoutMs = 10_000, intervalMs = 50, process: proc } = {}) {
  assertLoopback(url);
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  let last = "no attempt";
  for (let attempt = 0; attempt < maxAttempts && Date.now() < deadline; attempt++) {
    if (proc && proc.exitCode !== undefined) {
      throw new Error(`${proc.name} exited (code ${proc.exitCode}) before ${url} answered\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})${proc ? `\n${proc.output()}` : ""}`);
}

/** A fetch to loopback with a timeout and no redirect following. */
export function get(url, { headers = {}, method = "GET", body, timeoutMs = 5000 } = {}) {
  assertLoopback(url);
  return fetch(url, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * The relay binary: $AUTHRELAY_BIN, else `fallbacks` (paths relative to the repository
 * root) in order. Returns null when none exists.
 */
export function relayBin(fallbacks = ["target/debug/authrelay"]) {
  if (process.env.AUTHRELAY_BIN) return process.env.AUTHRELAY_BIN;
  for (const f of fallbacks) {
    if (existsSync(`${repoRoot}${f}`)) return `${repoRoot}${f}`;
  }
  return null;
}

/** A clean environment for the relay: PATH and what is given, nothing of the developer's. */
export function relayEnv(extra) {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra };
}

/**
 * Starts `authrelay serve` on `host` and a free port, resolving once /healthz answers.
 * Retries with another port if the chosen one was taken in between (at most 3 tries).
 */
export async function startRelay({ bin, secret, allowedOrigins, host = "127.0.0.1", extraEnv = {} }) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(host);
    const origin = `http://${host}:${port}`;
    const env = relayEnv({
      AUTH_SECRET: secret,
      AUTH_URL: `${origin}/api/auth`,
      AUTH_REDIRECT_PROXY_ALLOWED_ORIGINS: allowedOrigins,
      HOST: host,
      PORT: String(port),
      LOG_FORMAT: "json",
      RUST_LOG: "info",
      ...extraEnv,
    });
    const proc = spawnProcess(`authrelay:${port}`, bin, ["serve"], { env });
    try {
      await waitForHttp(`${origin}/healthz`, { timeoutMs: 15_000, process: proc });
    } catch (error) {
      lastError = error;
      await proc.stop();
      if (/address|listen|in use/i.test(proc.output())) continue;
      throw error;
    }
    return {
      proc,
      origin,
      baseUrl: `${origin}/api/auth`,
      callbackUrl: (provider) => `${origin}/api/auth/callback/${provider}`,
      stop: () => proc.stop(),
    };
  }
  throw lastError;
}
