// A preview deployment on Hono with @hono/auth-js, from the package directory in
// MATRIX_PREVIEW (lib/preview-config.mjs), served by @hono/node-server, as the
// @hono/auth-js README sets it up: initAuthConfig for every route and authHandler on
// `${basePath}/*`, with `basePath` in the config.

import { importFrom } from "../lib/load.mjs";
import { announce, authConfig, readSettings } from "../lib/preview-config.mjs";

const settings = readSettings();
const { Hono } = await importFrom(settings.packageDir, "hono");
const { authHandler, initAuthConfig } = await importFrom(settings.packageDir, "@hono/auth-js");
const { serve } = await importFrom(settings.packageDir, "@hono/node-server");

const app = new Hono();
app.use("*", initAuthConfig(() => ({ ...authConfig(settings), basePath: settings.basePath })));
app.use(`${settings.basePath}/*`, authHandler());
serve({ fetch: app.fetch, hostname: settings.host, port: 0 }, (info) => announce(settings.host, info.port));
