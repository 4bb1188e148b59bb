// The Authlib preview (authlib_preview.py: Flask and Authlib's Flask client, configured
// for the relay's authorize route), started as a child process on a free port.
//
//   const preview = await startAuthlibPreview({ relay, providerId, issuer });
//   preview.origin, preview.signInUrl, preview.callbackUrl; await preview.stop();
//
// Needs Debian's python3 with Authlib and Flask (Debian: python3-authlib python3-flask
// python3-requests; scripts/install-deps installs them).

import { execFileSync } from "node:child_process";

import { CLIENT_ID, CLIENT_SECRET } from "./provider.mjs";
import { relayEnv } from "./relay.mjs";
import { spawnOnFreePort, spawnProcess, waitForHttp } from "./process.mjs";

const SCRIPT = new URL("./authlib_preview.py", import.meta.url).pathname;
/** Debian's Python, where apt installs Authlib and Flask (not a python3 earlier on PATH). */
export const PYTHON = "/usr/bin/python3";

/** null when python3 imports Authlib and Flask, else [what is missing, how to get it] (suite.mjs). */
export function needAuthlib() {
  try {
    execFileSync(PYTHON, ["-c", "import authlib, flask, requests"], { stdio: "ignore", timeout: 10_000 });
    return null;
  } catch {
    return ["python3 with Authlib and Flask not installed", "apt-get install -y python3-authlib python3-flask python3-requests"];
  }
}

export async function startAuthlibPreview({ host = "127.0.0.2", relay, providerId, issuer }) {
  const { port, proc } = await spawnOnFreePort(
    host,
    (port) =>
      spawnProcess(`authlib:${port}`, PYTHON, [SCRIPT], {
        env: relayEnv({
          HOST: host,
          PORT: String(port),
          RELAY_URL: relay.baseUrl,
          PROVIDER_ID: providerId,
          ISSUER: issuer,
          CLIENT_ID,
          CLIENT_SECRET,
        }),
      }),
    (port, proc) => waitForHttp(`http://${host}:${port}/`, { timeoutMs: 15_000, process: proc }),
  );
  const origin = `http://${host}:${port}`;
  return {
    proc,
    origin,
    signInUrl: `${origin}/auth/${providerId}`,
    callbackUrl: `${origin}/auth/${providerId}/callback`,
    stop: () => proc.stop(),
  };
}
