// A TLS-terminating reverse proxy in front of `next start`, as a preview platform or a
// self-hosted nginx/Caddy/Traefik puts one: it answers HTTPS for the preview's public
// name and forwards each request over plain HTTP to the Next.js server, keeping the
// browser's `Host` and adding `X-Forwarded-Host`, `X-Forwarded-Proto: https`,
// `X-Forwarded-Port` and `X-Forwarded-For`, as Vercel's edge and those proxies do.
//
//   const cert = await makeCertificate(dir, "*.preview.test");   // openssl, at test time
//   const proxy = await startTlsProxy({ host: "127.0.0.6", cert });
//   proxy.port                     // the public port
//   proxy.setUpstream("http://127.0.0.1:4000");   // until then it answers 502
//   await proxy.stop();
//
// The certificate and its key are made fresh in a temporary directory for each run; no
// key is committed.

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";

import { listenOnFreePort, stopServer } from "../../node/lib/http.mjs";

const execFileP = promisify(execFile);

/** A self-signed P-256 certificate for `dnsName` (e.g. `*.preview.test`): { cert, key } as PEM. */
export async function makeCertificate(dir, dnsName) {
  const keyPath = join(dir, "proxy-key.pem");
  const certPath = join(dir, "proxy-cert.pem");
  await execFileP(
    "openssl",
    [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", keyPath, "-out", certPath, "-days", "1",
      "-subj", `/CN=${dnsName}`, "-addext", `subjectAltName=DNS:${dnsName}`,
    ],
    { timeout: 10_000 },
  );
  return { cert: await readFile(certPath, "utf8"), key: await readFile(keyPath, "utf8") };
}

/**
 * Starts the proxy on `host` and a free port. `upstream`, the Next.js server's origin, may
 * be given now or later with setUpstream (the server's port can be known only after the
 * proxy's); without one the proxy answers 502.
 */
export async function startTlsProxy({ host, cert, upstream }) {
  let target = upstream ? new URL(upstream) : null;
  const requests = [];
  const server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    if (!target) {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end("no upstream yet");
      return;
    }
    const headers = { ...req.headers };
    const publicHost = req.headers.host ?? "";
    headers["x-forwarded-host"] = publicHost;
    headers["x-forwarded-proto"] = "https";
    headers["x-forwarded-port"] = String(server.address().port);
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    requests.push({ method: req.method, path: req.url, host: publicHost });
    const upstreamReq = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.rawHeaders);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.setTimeout(20_000, () => upstreamReq.destroy(new Error("upstream timeout")));
    upstreamReq.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway");
    });
    req.pipe(upstreamReq);
  });
  const port = await listenOnFreePort(server, host);
  return {
    host,
    port,
    requests,
    setUpstream: (url) => {
      target = new URL(url);
    },
    stop: () => stopServer(server),
  };
}
