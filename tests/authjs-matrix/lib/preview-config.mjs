// What the matrix previews share: reading their settings, the Auth.js config, and
// telling the runner where they listen and what Auth.js logged as errors.
//
// A preview is a child process of run.mjs. Its settings come in MATRIX_PREVIEW (JSON):
//   { packageDir, host, issuer, clientId, clientSecret, redirectProxyUrl, basePath,
//     secret }   // secret: Auth.js's `secret` (an array or a string), or absent: then
//                // the integration fills it from the environment (AUTH_SECRET, …)
// It writes one JSON line to standard output once it listens, {"origin": …}, and one
// JSON line to standard error per error Auth.js logs, {"authjsError": name}.

import { PROVIDER_ID, mockOidcProvider, providerSubCallbacks } from "../../node/lib/authjs-config.mjs";

export { PROVIDER_ID };

export function readSettings() {
  const raw = process.env.MATRIX_PREVIEW;
  if (!raw) throw new Error("MATRIX_PREVIEW is not set: run.mjs starts the previews");
  return JSON.parse(raw);
}

/** The Auth.js config every matrix preview uses; `secret` only when the settings give one. */
export function authConfig(settings) {
  const config = {
    providers: [mockOidcProvider(settings)],
    redirectProxyUrl: settings.redirectProxyUrl,
    trustHost: true,
    logger: {
      error: (error) => console.error(JSON.stringify({ authjsError: error?.name ?? String(error) })),
      warn: () => {},
      debug: () => {},
    },
    callbacks: providerSubCallbacks(),
  };
  if (settings.secret !== undefined) config.secret = settings.secret;
  return config;
}

/** Tells the runner the preview listens on `host`:`port`. */
export function announce(host, port) {
  console.log(JSON.stringify({ origin: `http://${host}:${port}` }));
}
