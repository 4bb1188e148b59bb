// The three parties of a sign-in, for the example's tests: the mock OpenID provider on
// 127.0.0.3 (in this process), the relay binary on 127.0.0.1 and the example preview
// (node server.mjs, a child process) on 127.0.0.2 by default. Every wait is bounded.

import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

import { spawnOnFreePort, spawnProcess, waitForHttp } from "../../../tests/node/lib/process.mjs";
import { relayEnv, startRelay } from "../../../tests/node/lib/relay.mjs";
import { startMockProvider } from "../mock-provider.mjs";

export const exampleDir = fileURLToPath(new URL("../", import.meta.url));
export const CLIENT_ID = "express-preview";
export const CLIENT_SECRET = "express-preview-client-secret";
export const PROVIDER_ID = "oidc";

/** Starts the example preview with `env` on `host` and a free port (3 tries). */
export async function startPreview({ host = "127.0.0.2", publicHost = host, env }) {
  const { port, proc } = await spawnOnFreePort(
    host,
    (port) =>
      spawnProcess(`preview:${port}`, process.execPath, ["server.mjs"], {
        cwd: exampleDir,
        env: relayEnv({ HOST: host, PORT: String(port), PUBLIC_URL: `http://${publicHost}:${port}`, ...env }),
      }),
    (port, proc) => waitForHttp(`http://${host}:${port}/`, { timeoutMs: 15_000, process: proc }),
  );
  const publicUrl = `http://${publicHost}:${port}`;
  return {
    proc,
    origin: publicUrl,
    callbackUrl: `${publicUrl}/api/auth/callback/${PROVIDER_ID}`,
    stop: () => proc.stop(),
  };
}

/**
 * Provider, relay and preview. `allowedOrigins` is the relay's allowlist;
 * `previewHost`/`previewPublicHost` where the preview listens and what it calls itself.
 * The relay binary is relayBin()'s (tests/node/lib/relay.mjs).
 */
export async function startStack({
  user,
  responseMode = "query",
  stateCookieSameSite,
  previewHost = "127.0.0.2",
  previewPublicHost = previewHost,
  allowedOrigins = `http://${previewPublicHost}:*`,
}) {
  const secret = `example-${randomBytes(24).toString("base64url")}`;
  const stops = [];
  const stopAll = async () => {
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
  };
  try {
    const provider = await startMockProvider({ host: "127.0.0.3", user });
    stops.push(() => provider.stop());
    const relay = await startRelay({ secret, allowedOrigins });
    stops.push(() => relay.stop());
    const preview = await startPreview({
      host: previewHost,
      publicHost: previewPublicHost,
      env: {
        RELAY_URL: relay.baseUrl,
        AUTH_SECRET: secret,
        OIDC_ISSUER: provider.issuer,
        CLIENT_ID,
        CLIENT_SECRET,
        PROVIDER_ID,
        RESPONSE_MODE: responseMode,
        ...(stateCookieSameSite ? { STATE_COOKIE_SAMESITE: stateCookieSameSite } : {}),
      },
    });
    stops.push(() => preview.stop());
    return { secret, provider, relay, preview, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
