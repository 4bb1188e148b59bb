// A next-auth v5 preview: this directory's Next.js app, built once (`next build`, see
// run.sh), served by `next start` on loopback behind its own TLS-terminating proxy
// (lib/tls-proxy.mjs) under a public name such as `pr-1.preview.test`.
//
//   const preview = await startNextPreview({ name: "pr-1", cert, env: (publicOrigin) => ({ AUTH_URL: publicOrigin }) });
//   preview.publicOrigin          // https://pr-1.preview.test:<proxy port>
//   preview.upstream              // http://127.0.0.1:<next port>
//   await preview.stop();
//
// `env(publicOrigin)` gives the preview's whole Auth.js configuration (AUTH_*); nothing of
// the caller's AUTH_* or NEXTAUTH_* environment reaches it.

import { fileURLToPath } from "node:url";

import { spawnOnFreePort, spawnProcess, waitForHttp } from "../../node/lib/process.mjs";
import { startTlsProxy } from "./tls-proxy.mjs";

export const APP_DIR = fileURLToPath(new URL("../", import.meta.url));
const NEXT_BIN = fileURLToPath(new URL("../node_modules/next/dist/bin/next", import.meta.url));
export const PUBLIC_SUFFIX = "preview.test";
/** The loopback address every preview's proxy listens on. */
export const PROXY_ADDRESS = "127.0.0.6";

function previewEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AUTH_|NEXTAUTH_|TEST_|VERCEL|CF_PAGES|NOW_)/.test(k)) env[k] = v;
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: "1", ...extra };
}

/**
 * Starts `next start -p <free port>` (with `-H listenHost` when given; else Next's
 * default, all interfaces, so the port is one free on every address) and its proxy;
 * resolves once both answer.
 */
export async function startNextPreview({ name, cert, env, listenHost }) {
  // The proxy first: the preview's public URL names its port.
  const proxy = await startTlsProxy({ host: PROXY_ADDRESS, cert });
  const hostName = `${name}.${PUBLIC_SUFFIX}`;
  const publicOrigin = `https://${hostName}:${proxy.port}`;
  const local = listenHost ?? "127.0.0.1";
  let started;
  try {
    started = await spawnOnFreePort(
      listenHost,
      (port) => {
        const args = [NEXT_BIN, "start", "-p", String(port)];
        if (listenHost) args.push("-H", listenHost);
        return spawnProcess(`next:${name}`, process.execPath, args, {
          env: previewEnv(env(publicOrigin)),
          cwd: APP_DIR,
        });
      },
      (port, proc) => waitForHttp(`http://${local}:${port}/healthz`, { timeoutMs: 30_000, process: proc }),
    );
  } catch (error) {
    await proxy.stop();
    throw error;
  }
  const { port, proc } = started;
  const upstream = `http://${local}:${port}`;
  proxy.setUpstream(upstream);
  return {
    name,
    hostName,
    publicOrigin,
    upstream,
    proc,
    proxy,
    stop: async () => {
      await proxy.stop();
      await proc.stop();
    },
  };
}
