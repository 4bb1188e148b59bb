// Cold start and CPU per callback of the built Worker in workerd, for
// docs/performance.md. It runs workerd itself (the binary wrangler ships) with a config of
// the Worker alone: `wrangler dev` puts a proxy worker and a devtools connection in front,
// which cost more CPU per request than the relay does. workerd has no per-request CPU
// readout locally, so:
//
// - CPU: the user+system CPU time of the workerd process (from /proc/<pid>/stat) over N
//   sequential requests on one warm isolate, per request, for a native state, an
//   Auth.js state, and /healthz (the floor: workerd's HTTP and the adapter); median of
//   RUNS runs. Callback minus /healthz is the relay's own work.
// - cold start: V8 compiling the wasm module (WebAssembly.compile in Node, the same
//   engine), median of RUNS; and the first callback an isolate answers (which also reads
//   the configuration) against the next one.
//
// Run: deploy/cloudflare/build.sh && AUTHRELAY_BIN=target/release/authrelay \
//        node deploy/cloudflare/bench.mjs [N]

import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { spawnOnFreePort, spawnProcess, waitFor } from "../../tests/node/lib/process.mjs";
import { repoRoot, signState } from "../../tests/node/lib/relay.mjs";
import { workerDir } from "./tests/lib/worker.mjs";

const workerd = join(workerDir, "node_modules", ".bin", "workerd");

const N = Number(process.argv[2] ?? 2000);
const RUNS = 5;
const TABLE = JSON.parse(readFileSync(`${repoRoot}tests/fixtures/adapter-requests.json`, "utf8"));
const TICK_US = 1e6 / 100; // USER_HZ

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function get(origin, path) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, origin);
    const r = httpRequest({ host: url.hostname, port: url.port, path, agent: keepAlive, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    r.on("timeout", () => r.destroy(new Error("timeout")));
    r.on("error", reject);
    r.end();
  });
}
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

const connectable = new Set();
/** Whether 127.0.0.1:port accepts connections (checked in the background; true once it has). */
function canConnect(port) {
  if (connectable.has(port)) return true;
  const socket = connect({ host: "127.0.0.1", port }, () => {
    connectable.add(port);
    socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  return false;
}

/** workerd serving the built Worker alone on `port`, configured as the parity table. */
function spawnWorkerd(dir, port) {
  const text = (v) => JSON.stringify(String(v));
  const bindings = Object.entries({ ...TABLE.vars, ...TABLE.secrets })
    .map(([k, v]) => `(name = ${text(k)}, text = ${text(v)})`)
    .join(", ");
  const modules = [
    `(name = "entry.js", esModule = embed "entry.js")`,
    ...listFiles(join(dir, "build")).map((f) =>
      f.endsWith(".wasm") ? `(name = "${f}", wasm = embed "${f}")` : `(name = "${f}", esModule = embed "${f}")`,
    ),
  ];
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .relay)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const relay :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  compatibilityDate = "2026-04-01",
  bindings = [${bindings}],
);
`,
  );
  return spawnProcess(`workerd:${port}`, workerd, ["serve", join(dir, "config.capnp")], { env: { PATH: process.env.PATH } });
}

/** The files under `dir`, as paths relative to dir's parent ("build/…"). */
function listFiles(dir, prefix = "build") {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}/${e.name}`) : [`${prefix}/${e.name}`],
  );
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime, stime
}

async function cpuPerRequest(origin, pid, path) {
  await get(origin, path); // warm
  const t0 = cpuTicks(pid);
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await get(origin, path);
  const wall = Number(process.hrtime.bigint() - w0) / 1e3 / N;
  return { cpu: ((cpuTicks(pid) - t0) * TICK_US) / N, wall };
}

const states = {};
for (const name of ["native", "authjs"]) {
  const s = TABLE.states[name];
  states[name] = encodeURIComponent(
    await signState({ secret: TABLE.secrets[s.secret], target: s.target, provider: s.provider, format: s.format, ttl: 900 }),
  );
}
const paths = {
  native: `/api/auth/callback/github?code=c&state=${states.native}`,
  authjs: `/api/auth/callback/github?code=c&state=${states.authjs}`,
  healthz: "/healthz",
};

// Cold start, part 1: compile and instantiate the module in V8.
const bytes = readFileSync(join(workerDir, "build", "authrelay_bg.wasm"));
const compile = [];
for (let i = 0; i < RUNS; i++) {
  const t = process.hrtime.bigint();
  await WebAssembly.compile(bytes);
  compile.push(Number(process.hrtime.bigint() - t) / 1e6);
}

// Cold start, part 2, and CPU: a fresh Worker per run.
const first = [];
const warm = [];
const cpu = { native: [], authjs: [], healthz: [] };
const wall = { native: [], authjs: [], healthz: [] };
for (let run = 0; run < RUNS; run++) {
  const dir = mkdtempSync(join(tmpdir(), "authrelay-workerd-"));
  cpSync(join(workerDir, "entry.js"), join(dir, "entry.js"));
  cpSync(join(workerDir, "build"), join(dir, "build"), { recursive: true });
  const { port, proc } = await spawnOnFreePort(
    "127.0.0.1",
    (port) => spawnWorkerd(dir, port),
    // A TCP connection, not a request: the isolate's first request is the measured one.
    (port, proc) => waitFor(() => proc.exitCode === undefined && canConnect(port), { timeoutMs: 20_000, what: "workerd" }),
  );
  const origin = `http://127.0.0.1:${port}`;
  try {
    // The isolate's first request: it also reads the configuration.
    let t = process.hrtime.bigint();
    await get(origin, paths.native);
    first.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    await get(origin, paths.native);
    warm.push(Number(process.hrtime.bigint() - t) / 1e6);
    for (const k of Object.keys(paths)) {
      const r = await cpuPerRequest(origin, proc.pid, paths[k]);
      cpu[k].push(r.cpu);
      wall[k].push(r.wall);
    }
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
keepAlive.destroy();

const f = (x) => x.toFixed(1);
console.log(`wasm module: ${bytes.length} bytes`);
console.log(`V8 compile of the module, median of ${RUNS}: ${f(median(compile))} ms (${compile.map(f).join(", ")})`);
console.log(`first callback of an isolate: median ${f(median(first))} ms; the next: ${f(median(warm))} ms`);
for (const k of Object.keys(paths)) {
  console.log(
    `${k}: workerd CPU ${f(median(cpu[k]))} µs/request (runs ${cpu[k].map(f).join(", ")}), wall ${f(median(wall[k]))} µs/request, N=${N}`,
  );
}
