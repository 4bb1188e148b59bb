// HTTP as a browser would do it, one hop at a time: fetch with redirect: "manual", a
// small cookie jar, and a time limit on every request. And the two steps of the test
// servers' lives: listen on a free port, stop within a bound.

import { setTimeout as sleep } from "node:timers/promises";

/** Starts `server` listening on `host` and a free port; resolves with the port. */
export async function listenOnFreePort(server, host) {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  return server.address().port;
}

/** Closes `server` and every connection it holds; resolves when closed, or after 3 s. */
export async function stopServer(server) {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await Promise.race([closed, sleep(3000, undefined, { ref: false })]);
}

/** Cookies per host (host-only, path ignored: Auth.js sets Path=/ everywhere). */
export class CookieJar {
  #byHost = new Map();

  /** Takes the Set-Cookie headers of `response`, a response from `url`. */
  store(url, response) {
    const host = new URL(url).host;
    const cookies = this.#byHost.get(host) ?? new Map();
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attributes.some((a) => {
        const [k, v = ""] = a.split("=");
        const key = k.toLowerCase();
        if (key === "max-age") return Number(v) <= 0;
        if (key === "expires") return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    this.#byHost.set(host, cookies);
  }

  /** The Cookie header for a request to `url`, or undefined. */
  header(url) {
    const cookies = this.#byHost.get(new URL(url).host);
    if (!cookies?.size) return undefined;
    return [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Cookie names held for `url`'s host. */
  names(url) {
    return [...(this.#byHost.get(new URL(url).host)?.keys() ?? [])];
  }
}

/**
 * One request, never following redirects, with the jar's cookies; stores the response's
 * cookies. Resolves with { status, location, headers, text, json(), url }.
 */
export async function hop(jar, url, { method = "GET", form, headers = {}, timeoutMs = 10000 } = {}) {
  const h = new Headers(headers);
  const cookie = jar?.header(url);
  if (cookie) h.set("cookie", cookie);
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h.set("content-type", "application/x-www-form-urlencoded");
  }
  const response = await fetch(url, {
    method,
    headers: h,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(timeoutMs),
  });
  jar?.store(url, response);
  const text = await response.text();
  return {
    url,
    status: response.status,
    location: response.headers.get("location"),
    headers: response.headers,
    text,
    json: () => JSON.parse(text),
  };
}

/** The reason code shown on a relay refusal page. */
export function refusalReason(html) {
  return /<code id="reason">([^<]*)<\/code>/.exec(html)?.[1];
}
