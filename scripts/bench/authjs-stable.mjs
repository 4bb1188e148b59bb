// The stable Auth.js deployment that authrelay replaces, for the load comparison: a real
// @auth/express app whose `redirectProxyUrl` is its own URL, as Auth.js documents for the
// stable deployment of a redirect proxy. A callback whose Auth.js state decrypts with the
// shared secret is bounced (302) to the state's `origin` with every callback parameter.
//
//   AUTH_SECRET=… HOST=127.0.0.1 PORT=3200 node scripts/bench/authjs-stable.mjs
//
// It uses the packages the team's Auth.js tests install (tests/node), so it measures the
// same @auth/core and @auth/express versions the relay is tested against.

import { createServer } from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const fromTests = createRequire(new URL("../../tests/node/package.json", import.meta.url));
const load = async (name) => import(pathToFileURL(fromTests.resolve(name)).href);

const { ExpressAuth } = await load("@auth/express");
const { default: express } = await load("express");
const { default: GitHub } = await load("@auth/express/providers/github");

const secret = process.env.AUTH_SECRET;
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3200);
if (!secret) {
  console.error("authjs-stable: AUTH_SECRET is not set");
  process.exit(1);
}
// Auth.js reads AUTH_* from the environment too; this app is configured by the lines
// below only.
for (const name of Object.keys(process.env)) {
  if (/^(AUTH_|NEXTAUTH_)/.test(name)) delete process.env[name];
}

const basePath = "/api/auth";
const app = express();
app.set("trust proxy", true);
app.use(
  basePath,
  ExpressAuth({
    providers: [GitHub({ clientId: "bench-client", clientSecret: "bench-client-secret" })],
    secret,
    redirectProxyUrl: `http://${host}:${port}${basePath}`,
    trustHost: true,
  }),
);

const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => {
  console.log(`authjs-stable listening on http://${host}:${port}${basePath}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
