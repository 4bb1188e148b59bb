// Starting and stopping the processes an end-to-end test needs, with every wait bounded.
// Shared by tests/node, clients/js/test and examples/express-preview/test (they import it
// by relative path), so it uses Node's own modules only.
//
//   const p = spawnProcess("relay", bin, ["serve"], { env });
//   await waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: p });
//   ...
//   await p.stop();
//
// Every request goes to loopback. A child that is still running when the test process
// exits, or is ended by SIGTERM or SIGINT, is killed there too, so a failed or interrupted
// test never leaves a relay behind.

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const running = new Set();
function killRunning() {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}
process.on("exit", killRunning);
// A signal ends the process without "exit" (a runner's timeout sends SIGTERM): kill the
// children first, then exit as the signal would have.
for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]]) {
  process.once(signal, () => {
    killRunning();
    process.exit(code);
  });
}

/** Refuses any URL that is not on a loopback address. */
export function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== "localhost") {
    throw new Error(`test traffic must stay on loopback, not ${host}`);
  }
}

/** A fetch to loopback with a timeout and no redirect following. */
export function get(url, { headers = {}, method = "GET", body, timeoutMs = 5000 } = {}) {
  assertLoopback(url);
  return fetch(url, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * A free TCP port on `host`, as the kernel hands it out for port 0; with `host`
 * undefined, a port free on every address (what a server that binds all interfaces needs).
 */
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

// What a server prints when the port is taken: Node's EADDRINUSE, Rust's "Address in use".
const ADDRESS_IN_USE = /EADDRINUSE|address (already )?in use/i;

/**
 * Starts a server on a free port of `host` (every address when undefined): `spawn(port)`
 * returns its process, `ready(port, proc)` resolves once it answers. The port is chosen
 * before the server binds it, so another process may take it in between (a server bound
 * to one loopback address takes the port from one that binds them all): when the server
 * says the address is in use, it tries another port, `attempts` times in all; any other
 * failure stops the process and throws at once. Resolves with { port, proc }.
 */
export async function spawnOnFreePort(host, spawn, ready, { attempts = 3 } = {}) {
  let lastError;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await freePort(host);
    const proc = spawn(port);
    try {
      await ready(port, proc);
      return { port, proc };
    } catch (error) {
      lastError = error;
      await proc.stop();
      if (!ADDRESS_IN_USE.test(proc.output())) throw error;
    }
  }
  throw lastError;
}

/**
 * Spawns `command` and keeps its standard output and error as lines.
 *
 * Returns { name, child, pid, stdout: string[], stderr: string[], output(), exited,
 * exitCode, stop() }. `exited` is a promise that settles with { code, signal }.
 */
export function spawnProcess(name, command, args, { env, cwd } = {}) {
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const proc = {
    name,
    child,
    pid: child.pid,
    stdout: [],
    stderr: [],
    exitCode: undefined,
    /** Everything the process wrote so far, for failure messages. */
    output() {
      return [
        `--- ${name} stdout ---`,
        ...proc.stdout,
        `--- ${name} stderr ---`,
        ...proc.stderr,
      ].join("\n");
    },
    stop: (opts) => stopProcess(proc, opts),
  };
  collectLines(child.stdout, proc.stdout);
  collectLines(child.stderr, proc.stderr);
  proc.exited = new Promise((resolve) => {
    child.once("error", (error) => {
      running.delete(child);
      proc.exitCode = null;
      proc.spawnError = error;
      resolve({ code: null, signal: null, error });
    });
    child.once("exit", (code, signal) => {
      running.delete(child);
      proc.exitCode = code;
      resolve({ code, signal });
    });
  });
  return proc;
}

// Bounded: a chatty child cannot grow the test's memory without limit.
const MAX_LINES = 100_000;

function collectLines(stream, lines) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop();
    for (const part of parts) if (lines.length < MAX_LINES) lines.push(part);
  });
  stream.on("end", () => {
    if (rest && lines.length < MAX_LINES) lines.push(rest);
    rest = "";
  });
}

/**
 * SIGTERM, then SIGKILL if the process is still there after `graceMs`. Resolves once it
 * has exited (or after the SIGKILL wait, whichever is first); never hangs.
 */
export async function stopProcess(proc, { graceMs = 3000, killWaitMs = 2000 } = {}) {
  if (proc.exitCode !== undefined) return;
  proc.child.kill("SIGTERM");
  const first = await Promise.race([proc.exited, sleep(graceMs, "timeout", { ref: false })]);
  if (first !== "timeout") return;
  proc.child.kill("SIGKILL");
  await Promise.race([proc.exited, sleep(killWaitMs, undefined, { ref: false })]);
}

/**
 * Polls `url` until it answers 200, at most `timeoutMs`, every `intervalMs`. When
 * `process` is given and exits first, fails at once with its output.
 */
export async function waitForHttp(url, { timeoutMs = 10000, intervalMs = 50, process: proc } = {}) {
  assertLoopback(url);
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  let lastError = "no attempt";
  for (let attempt = 0; attempt < maxAttempts && Date.now() < deadline; attempt++) {
    if (proc && proc.exitCode !== undefined) {
      throw new Error(`${proc.name} exited (code ${proc.exitCode}) before ${url} answered\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      lastError = `status ${res.status}`;
    } catch (error) {
      lastError = error.cause?.code ?? error.message;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `${url} did not answer 200 within ${timeoutMs} ms (last: ${lastError})` +
      (proc ? `\n${proc.output()}` : ""),
  );
}

/** Waits until `predicate()` is truthy, at most `timeoutMs`; returns its value. */
export async function waitFor(predicate, { timeoutMs = 5000, intervalMs = 20, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let attempt = 0; attempt < maxAttempts && Date.now() < deadline; attempt++) {
    const value = predicate();
    if (value) return value;
    await sleep(intervalMs);
  }
  const value = predicate();
  if (value) return value;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
