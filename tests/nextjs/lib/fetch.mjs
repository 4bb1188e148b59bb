// One HTTP(S) hop as a browser makes it, for URLs whose names only the test knows:
// `https://pr-1.preview.test:<port>/…` connects to the loopback address `names` maps the
// name to, sends that name as `Host` and as TLS server name, and checks the proxy's
// certificate against `ca`. Never follows redirects; keeps cookies in a CookieJar.
// Every connection goes to loopback: a name that is not mapped and is not a loopback
// address is refused before any lookup.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/;

/**
 * GET or POST `url`; resolves with { url, status, location, headers, text, json() }.
 * `names` maps host names to loopback addresses; `ca` is the PEM the proxy's
 * certificate must chain to.
 */
export function hop(jar, url, { method = "GET", form, headers = {}, names = {}, ca, timeoutMs = 15_000 } = {}) {
  const u = new URL(url);
  const address = names[u.hostname] ?? u.hostname;
  if (!LOOPBACK.test(address)) throw new Error(`test traffic must stay on loopback, not ${u.hostname}`);
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h["content-type"] = "application/x-www-form-urlencoded";
    h["content-length"] = String(Buffer.byteLength(body));
  }
  const lookup = (_name, options, callback) =>
    options?.all ? callback(null, [{ address, family: 4 }]) : callback(null, address, 4);
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method, headers: h, lookup, ca, servername: u.hostname, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const responseHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            for (const value of [v].flat()) responseHeaders.append(k, value);
          }
          const response = { url, status: res.statusCode, headers: responseHeaders };
          jar?.store(url, response);
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            ...response,
            location: res.headers.location ?? null,
            text,
            json: () => JSON.parse(text),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms: ${method} ${url}`)));
    req.on("error", reject);
    req.end(body);
  });
}
