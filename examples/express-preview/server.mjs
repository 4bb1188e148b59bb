// Starts the example preview: node server.mjs (configuration in environment variables,
// see README.md).

import { configFromEnv, createApp } from "./app.mjs";

let config;
try {
  config = configFromEnv();
} catch (error) {
  console.error(`express-preview: configuration error: ${error.message}`);
  process.exit(2);
}

const app = createApp(config);
const server = app.listen(config.port, config.host, (error) => {
  if (error) {
    console.error(`express-preview: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  }
  const { port } = server.address();
  console.log(`express-preview listening on http://${config.host}:${port} (public URL ${config.publicUrl}, response_mode=${config.responseMode})`);
  console.log(`  callback (signed into the state): ${config.publicUrl}/api/auth/callback/${config.providerId}`);
});

const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
