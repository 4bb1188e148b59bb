// A preview deployment on Express with @auth/express, from the package directory in
// MATRIX_PREVIEW (lib/preview-config.mjs): that directory's @auth/express, Express and,
// through them, @auth/core. Mounted on `basePath`; @auth/express takes its base path from
// where it is mounted.

import { createServer } from "node:http";

import { importFrom } from "../lib/load.mjs";
import { announce, authConfig, readSettings } from "../lib/preview-config.mjs";

const settings = readSettings();
const { ExpressAuth } = await importFrom(settings.packageDir, "@auth/express");
const { default: express } = await importFrom(settings.packageDir, "express");

const app = express();
app.use(settings.basePath, ExpressAuth(authConfig(settings)));
const server = createServer(app);
server.listen(0, settings.host, () => announce(settings.host, server.address().port));
