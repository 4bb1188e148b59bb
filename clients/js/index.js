// authrelay-client: the native state format, version 1, for JavaScript.
//
// The whole format is specified in docs/state-format.md of the authrelay repository; this
// file follows that page step by step. It has no dependencies and uses only Web Crypto
// (HKDF-SHA256, HMAC-SHA256) and TextEncoder, so the same file runs on Node >= 18, Deno,
// Bun, Cloudflare Workers and in browsers.
//
// Nothing here ever puts a secret or a state into an error message, a toString() or an
// inspection: errors are fixed sentences with a stable `code`.

const encoder = new TextEncoder();

const HKDF_SALT = encoder.encode("authrelay");
const HKDF_INFO_MAC_KEY = encoder.encode("authrelay native state v1 mac key");
const HKDF_INFO_KEY_ID = encoder.encode("authrelay native state v1 key id");
const MAC_CONTEXT = encoder.encode("authrelay-state-v1\0");

/** The version byte of the format. */
export const VERSION = 1;
/** Bytes before the target: version, key id, iat, exp, nonce. */
export const HEADER_LENGTH = 37;
/** Bytes of the HMAC-SHA256 tag. */
export const TAG_LENGTH = 32;
/** Bytes a state adds to its target. */
export const OVERHEAD = HEADER_LENGTH + TAG_LENGTH;
/** The longest target accepted, in bytes. */
export const MAX_TARGET_LENGTH = 1024;
/** The shortest secret accepted, in characters (Unicode code points). */
export const MIN_SECRET_LENGTH = 32;
/** Clock skew allowed on issued-at and expiry, in seconds. */
export const CLOCK_SKEW_SECONDS = 15;
/** Lifetime of the states createRelay() makes unless told otherwise (as the Rust client). */
export const DEFAULT_TTL_SECONDS = 600;
/** The relay's default AUTH_STATE_MAX_AGE, and verifyState's default maxAge. */
export const DEFAULT_MAX_AGE_SECONDS = 900;
/** The largest AUTH_STATE_MAX_AGE a relay accepts; createRelay() refuses longer lifetimes. */
export const MAX_TTL_SECONDS = 3600;

/** The length in characters of a state for a target of `targetLength` bytes. */
export function encodedLength(targetLength) {
  return Math.ceil((4 * (OVERHEAD + targetLength)) / 3);
}

/** The longest state looked at (1458 characters); longer input is refused before decoding. */
export const MAX_STATE_LENGTH = encodedLength(MAX_TARGET_LENGTH);

const LONGEST_LIFETIME_SECONDS = 100 * 365 * 24 * 3600;
const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const U64_MAX = (1n << 64n) - 1n;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");
const DENO_INSPECT = Symbol.for("Deno.customInspect");

// ---------------------------------------------------------------------------------------
// Errors

const MESSAGES = {
  bad_secret: "the secret must be a string of at least 32 characters (make one with `authrelay secret`)",
  bad_secrets: "secrets must be a non-empty array of strings of at least 32 characters each",
  bad_relay_base: "the relay base URL must be an absolute https URL without query or fragment",
  bad_provider: "the provider id must be 1-64 characters of A-Z, a-z, 0-9, '_' and '-', the first a letter or digit",
  provider_mismatch: "the callback URL's path must end in /callback/<provider> for this provider",
  target_has_query: "the target must not have a query",
  not_a_callback: "the target's path must end in /callback/<provider>",
  bad_lifetime: "the lifetime must be a whole number of seconds between 1 and the allowed maximum",
  bad_times: "iat and exp must be whole numbers of seconds with iat < exp",
  bad_nonce: "the nonce must be a Uint8Array of 16 bytes from a CSPRNG",
  bad_time: "now must be a whole, non-negative number of Unix seconds",
  bad_max_age: "maxAge must be a whole, positive number of seconds",
  no_web_crypto: "Web Crypto (crypto.subtle) is not available in this runtime",
};

// The reasons a string is not an acceptable target, with the Rust client's codes and
// sentences (client/src/target.rs). None of them repeats the input.
const TARGET_REASONS = {
  empty: "the callback URL is empty",
  too_long: `the callback URL is longer than ${MAX_TARGET_LENGTH} bytes`,
  forbidden_character: "the callback URL contains a space, control character, backslash or non-ASCII character",
  fragment: "the callback URL has a fragment (#)",
  not_absolute: "the callback URL is not an absolute URL",
  unparseable: "the callback URL could not be parsed",
  scheme: "the callback URL's scheme is not https",
  http_not_loopback: "the callback URL uses plain http for a host other than localhost, 127.0.0.0/8 or [::1]",
  userinfo: "the callback URL has user information (an @ before the host)",
  no_host: "the callback URL has no host",
  invalid_host: "the callback URL's host is not a valid DNS name or IP address",
  trailing_dot: "the callback URL's host ends with a dot",
  ipv6_zone_id: "the callback URL's IPv6 host has a zone id",
  port: "the callback URL's port is not between 1 and 65535",
  encoded_separator: "the callback URL's path contains an encoded slash, backslash, dot, percent sign or NUL",
  dot_segment: "the callback URL's path contains a . or .. segment",
  empty_segment: "the callback URL's path contains an empty segment (//)",
  not_canonical: "the callback URL is not in canonical form (lowercase host, no default port, nothing a URL parser would rewrite)",
  query_semicolon: "the callback URL's query contains a semicolon",
  query_name: "the callback URL's query is not name=value pairs with names of letters, digits, - and _",
  query_shadows_callback_params: "the callback URL's query carries a callback parameter such as code or state",
};

// The parameters a provider may send to a callback (CALLBACK_PARAMS in
// client/src/target.rs). A target's own query never names one, in any case.
const CALLBACK_PARAMS = ["code", "state", "iss", "error", "error_description", "error_uri", "user", "id_token", "session_state", "scope"];

/**
 * Every error this module throws. `code` is stable; for `bad_target`, `reason` says which
 * URL rule failed. The message is a fixed sentence: it never holds a secret, a state or
 * the URL that was refused.
 */
export class AuthRelayError extends Error {
  constructor(code, reason) {
    const base = MESSAGES[code] ?? code;
    const message =
      code === "bad_target"
        ? `the callback URL is not acceptable: ${TARGET_REASONS[reason] ?? reason}`
        : base;
    super(`authrelay-client: ${message}`);
    this.name = "AuthRelayError";
    this.code = code;
    if (reason !== undefined) this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------
// base64url (RFC 4648 §5), unpadded, strict

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function base64urlEncode(bytes) {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return out;
}

/**
 * Decodes unpadded base64url, or returns null: only A-Z a-z 0-9 - _, no padding, no
 * impossible length, and the unused low bits of the last character must be zero, so that
 * every byte string has exactly one encoding.
 */
function base64urlDecode(text) {
  const len = text.length;
  if (len % 4 === 1) return null;
  const values = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    if (v < 0) return null;
    values[i] = v;
  }
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const n = (values[i] << 18) | (values[i + 1] << 12) | (values[i + 2] << 6) | values[i + 3];
    out[o++] = (n >> 16) & 255;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const rest = len - i;
  if (rest === 2) {
    if (values[i + 1] & 0x0f) return null;
    out[o++] = (values[i] << 2) | (values[i + 1] >> 4);
  } else if (rest === 3) {
    if (values[i + 2] & 0x03) return null;
    const n = (values[i] << 10) | (values[i + 1] << 4) | (values[i + 2] >> 2);
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  return out;
}

function hex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

// ---------------------------------------------------------------------------------------
// Web Crypto

let subtlePromise;

/**
 * crypto.subtle, wherever the runtime keeps it. Node 18 has Web Crypto but puts it on the
 * global object only behind a flag; there it is `webcrypto` of node:crypto, the same
 * implementation. The specifier is computed so that bundlers for other runtimes leave it
 * alone; it is only ever reached on Node 18.
 */
function getSubtle() {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) return Promise.resolve(subtle);
  subtlePromise ??= (async () => {
    const specifier = ["node", "crypto"].join(":");
    try {
      const mod = await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
      if (mod.webcrypto?.subtle) return mod.webcrypto.subtle;
    } catch {
      // not Node
    }
    throw new AuthRelayError("no_web_crypto");
  })();
  return subtlePromise;
}

async function randomNonce() {
  const c = globalThis.crypto?.getRandomValues ? globalThis.crypto : null;
  const nonce = new Uint8Array(16);
  if (c) return c.getRandomValues(nonce);
  // Node 18 without the global: the same CSPRNG through node:crypto's webcrypto.
  await getSubtle();
  const specifier = ["node", "crypto"].join(":");
  const mod = await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
  return mod.webcrypto.getRandomValues(nonce);
}

function checkSecret(secret, code = "bad_secret") {
  // Code points, as the Rust client counts characters; lone surrogates cannot be UTF-8.
  if (typeof secret !== "string" || /\p{Surrogate}/u.test(secret)) throw new AuthRelayError(code);
  let n = 0;
  for (const _ of secret) {
    if (++n >= MIN_SECRET_LENGTH) return;
  }
  throw new AuthRelayError(code);
}

/** Derives the MAC key (a non-extractable HMAC CryptoKey) and the 4-byte key id. */
async function deriveKeys(secret) {
  const subtle = await getSubtle();
  const ikm = encoder.encode(secret);
  let base;
  try {
    base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  } finally {
    ikm.fill(0);
  }
  const hkdf = (info, bits) => subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info }, base, bits);
  const [macBits, kidBits] = await Promise.all([hkdf(HKDF_INFO_MAC_KEY, 256), hkdf(HKDF_INFO_KEY_ID, 32)]);
  const macRaw = new Uint8Array(macBits);
  let mac;
  try {
    mac = await subtle.importKey("raw", macRaw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  } finally {
    macRaw.fill(0);
  }
  return { mac, kid: new Uint8Array(kidBits), subtle };
}

function macInput(body) {
  const input = new Uint8Array(MAC_CONTEXT.length + body.length);
  input.set(MAC_CONTEXT, 0);
  input.set(body, MAC_CONTEXT.length);
  return input;
}

// ---------------------------------------------------------------------------------------
// Targets: a subset of the Rust client's rules (client/src/target.rs), at least as strict
// for everything a native state can carry.

/**
 * Checks `raw` against the URL rules. Returns null when it passes, else the reason code
 * (the Rust client's TargetError codes). A plain query (queryProblem) is allowed here;
 * callers that need a callback without query check that separately.
 */
export function targetProblem(raw) {
  if (typeof raw !== "string") return "unparseable";
  // Every accepted character is one byte, so the UTF-16 length bounds the byte length from
  // below; the exact byte length matters only when the string holds non-ASCII, which is
  // refused next anyway.
  if (raw.length > MAX_TARGET_LENGTH) return "too_long";
  if (raw.length === 0) return "empty";
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) {
      return c >= 0x80 && encoder.encode(raw).length > MAX_TARGET_LENGTH ? "too_long" : "forbidden_character";
    }
  }
  if (raw.includes("#")) return "fragment";
  const colon = raw.indexOf(":");
  if (colon < 1 || !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(raw.slice(0, colon))) return "not_absolute";
  const scheme = raw.slice(0, colon).toLowerCase();
  if (scheme !== "https" && scheme !== "http") return "scheme";

  const rawParts = splitRaw(raw);
  if (rawParts && rawParts.authority.includes("[") && rawParts.authority.includes("%")) return "ipv6_zone_id";
  let url;
  try {
    url = new URL(raw);
  } catch {
    return "unparseable";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "scheme";
  if ((rawParts && rawParts.authority.includes("@")) || url.username !== "" || url.password !== "") return "userinfo";
  const host = url.hostname;
  if (host === "") return "no_host";
  let loopback;
  if (host.startsWith("[")) {
    loopback = host === "[::1]";
  } else if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    const octets = host.split(".").map(Number);
    if (octets.some((o) => o > 255)) return "invalid_host";
    loopback = octets[0] === 127;
  } else {
    const problem = domainProblem(host);
    if (problem) return problem;
    loopback = host === "localhost";
  }
  if (url.port === "0") return "port";
  if (url.protocol === "http:" && !loopback) return "http_not_loopback";
  if (rawParts) {
    const problem = pathProblem(rawParts.path);
    if (problem) return problem;
  }
  const problem = pathProblem(url.pathname);
  if (problem) return problem;
  if (url.href !== raw) return "not_canonical";
  const q = raw.indexOf("?");
  return q < 0 ? null : queryProblem(raw.slice(q + 1));
}

/**
 * The query rule of client/src/target.rs (docs/security.md, "The target's query"): empty,
 * or name=value pairs joined by "&", with no ";" anywhere, names of ASCII letters, digits,
 * "-" and "_", and no name a callback parameter in any case. Every query parser (WHATWG,
 * PHP, Rack, legacy ";"-splitting) then reads the same names.
 */
function queryProblem(query) {
  if (query === "") return null;
  if (query.includes(";")) return "query_semicolon";
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    if (eq < 0) return "query_name";
    const name = pair.slice(0, eq);
    if (!/^[A-Za-z0-9_-]+$/.test(name)) return "query_name";
    if (CALLBACK_PARAMS.includes(name.toLowerCase())) return "query_shadows_callback_params";
  }
  return null;
}

function splitRaw(raw) {
  const i = raw.indexOf("://");
  if (i < 0) return null;
  const rest = raw.slice(i + 3);
  const q = rest.indexOf("?");
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const slash = beforeQuery.indexOf("/");
  return slash < 0
    ? { authority: beforeQuery, path: "" }
    : { authority: beforeQuery.slice(0, slash), path: beforeQuery.slice(slash) };
}

function domainProblem(host) {
  if (host.endsWith(".")) return "trailing_dot";
  if (host.length > 253) return "invalid_host";
  for (const label of host.split(".")) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) return "invalid_host";
    if (label.startsWith("xn--") && !isValidPunycodeLabel(label)) return "invalid_host";
  }
  return null;
}

/**
 * An `xn--` label must decode (RFC 3492) to Unicode that this runtime's URL parser turns
 * back into exactly the same label: what IDNA ToASCII would produce. Parsers differ in how
 * much of this they check themselves, so it is checked here in every runtime.
 */
function isValidPunycodeLabel(label) {
  const decoded = punycodeDecode(label.slice(4));
  if (decoded === null || decoded === "" || /^[\x00-\x7f]*$/.test(decoded)) return false;
  try {
    return new URL(`https://${decoded}/`).hostname === label;
  } catch {
    return false;
  }
}

function punycodeDecode(input) {
  const base = 36;
  const tMin = 1;
  const tMax = 26;
  const skew = 38;
  const damp = 700;
  const adapt = (delta, numPoints, first) => {
    delta = first ? Math.floor(delta / damp) : delta >> 1;
    delta += Math.floor(delta / numPoints);
    let k = 0;
    while (delta > ((base - tMin) * tMax) >> 1) {
      delta = Math.floor(delta / (base - tMin));
      k += base;
    }
    return k + Math.floor(((base - tMin + 1) * delta) / (delta + skew));
  };
  const digit = (c) => (c >= 0x30 && c <= 0x39 ? c - 22 : c >= 0x61 && c <= 0x7a ? c - 0x61 : -1);
  const d = input.lastIndexOf("-");
  const output = d > 0 ? Array.from(input.slice(0, d), (ch) => ch.codePointAt(0)) : [];
  let n = 128;
  let bias = 72;
  let i = 0;
  for (let pos = d > 0 ? d + 1 : 0; pos < input.length; ) {
    const oldI = i;
    let w = 1;
    for (let k = base; ; k += base) {
      if (pos >= input.length) return null;
      const dig = digit(input.charCodeAt(pos++));
      if (dig < 0) return null;
      i += dig * w;
      if (i > 0x10ffff * 64) return null;
      const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
      if (dig < t) break;
      w *= base - t;
    }
    bias = adapt(i - oldI, output.length + 1, oldI === 0);
    n += Math.floor(i / (output.length + 1));
    i %= output.length + 1;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return null;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

function pathProblem(path) {
  if (/%(?:2f|5c|2e|25|00)/i.test(path)) return "encoded_separator";
  if (path.split("/").some((s) => s === "." || s === "..")) return "dot_segment";
  if (path.includes("//")) return "empty_segment";
  return null;
}

/** The provider id of a target whose path ends in /callback/<id>, else null. */
function callbackProvider(target) {
  const q = target.indexOf("?");
  const path = new URL(q < 0 ? target : target.slice(0, q)).pathname;
  const segments = path.split("/");
  const id = segments.at(-1);
  return segments.length >= 3 && segments.at(-2) === "callback" && PROVIDER_ID.test(id) ? id : null;
}

/** Whether `id` is a provider id: 1-64 of A-Z a-z 0-9 _ -, the first a letter or digit. */
export function isValidProviderId(id) {
  return typeof id === "string" && PROVIDER_ID.test(id);
}

/** Throws unless `target` can be put in a native state; returns its provider id. */
function checkSignableTarget(target) {
  const problem = targetProblem(target);
  if (problem) throw new AuthRelayError("bad_target", problem);
  if (target.includes("?")) throw new AuthRelayError("target_has_query");
  const provider = callbackProvider(target);
  if (provider === null) throw new AuthRelayError("not_a_callback");
  return provider;
}

// ---------------------------------------------------------------------------------------
// Signing

function checkSeconds(value, code) {
  if (!Number.isSafeInteger(value) || value < 0) throw new AuthRelayError(code);
  return value;
}

function assemble(kid, iat, exp, nonce, target) {
  const body = new Uint8Array(HEADER_LENGTH + target.length);
  const view = new DataView(body.buffer);
  body[0] = VERSION;
  body.set(kid, 1);
  view.setBigUint64(5, BigInt(iat));
  view.setBigUint64(13, BigInt(exp));
  body.set(nonce, 21);
  for (let i = 0; i < target.length; i++) body[HEADER_LENGTH + i] = target.charCodeAt(i);
  return body;
}

async function signWithKeys(keys, target, iat, exp, nonce) {
  const body = assemble(keys.kid, iat, exp, nonce, target);
  const tag = new Uint8Array(await keys.subtle.sign("HMAC", keys.mac, macInput(body)));
  const out = new Uint8Array(body.length + TAG_LENGTH);
  out.set(body, 0);
  out.set(tag, body.length);
  return base64urlEncode(out);
}

function checkNonce(nonce) {
  if (!(nonce instanceof Uint8Array) || nonce.length !== 16) throw new AuthRelayError("bad_nonce");
}

/**
 * Makes a state: the lower-level call behind createRelay().signIn(). `iat` and `exp` are
 * Unix seconds, `nonce` 16 bytes from a CSPRNG (crypto.getRandomValues).
 */
export async function signState({ secret, target, iat, exp, nonce } = {}) {
  checkSecret(secret);
  checkSignableTarget(target);
  checkSeconds(iat, "bad_times");
  checkSeconds(exp, "bad_times");
  if (!(exp > iat) || exp - iat > LONGEST_LIFETIME_SECONDS) throw new AuthRelayError("bad_times");
  checkNonce(nonce);
  return signWithKeys(await deriveKeys(secret), target, iat, exp, nonce);
}

// ---------------------------------------------------------------------------------------
// Verifying

const CLASS = {
  too_long: "state_malformed",
  not_base64url: "state_malformed",
  legacy_unsigned: "state_malformed",
  too_short: "state_malformed",
  unknown_version: "state_malformed",
  unknown_key: "state_invalid",
  bad_signature: "state_invalid",
  bad_times: "state_invalid",
  lifetime_too_long: "state_invalid",
  not_yet_valid: "state_expired",
  expired: "state_expired",
  bad_target: "target_invalid",
  not_a_callback: "target_invalid",
};

function failure(detail) {
  return { ok: false, code: CLASS[detail], detail };
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/** Steps 1-5 of "Verifying a state": returns the bytes, or a failure. */
function decodeFraming(state) {
  if (typeof state !== "string") return failure("not_base64url");
  if (state.length > MAX_STATE_LENGTH) return failure("too_long");
  // Non-ASCII is never base64url, but the cap counts bytes, as the Rust relay does.
  if (/[^\x00-\x7f]/.test(state) && encoder.encode(state).length > MAX_STATE_LENGTH) return failure("too_long");
  const bytes = base64urlDecode(state);
  if (bytes === null) return failure("not_base64url");
  if (bytes[0] === 0x7b) return failure("legacy_unsigned");
  if (bytes.length < OVERHEAD + 1) return failure("too_short");
  if (bytes[0] !== VERSION) return failure("unknown_version");
  return { ok: true, bytes };
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Verifies a state with any of `secrets` (newest first), at `now` (Unix seconds, default
 * the current time), accepting lifetimes up to `maxAge` seconds (default 900). Runs the
 * checks of docs/state-format.md in order and stops at the first failure.
 *
 * Returns { ok: true, secretIndex, target, provider, iat, exp } or
 * { ok: false, code, detail }. Show the public only `code`.
 */
export async function verifyState({ secrets, state, now = nowSeconds(), maxAge = DEFAULT_MAX_AGE_SECONDS } = {}) {
  if (!Array.isArray(secrets) || secrets.length === 0) throw new AuthRelayError("bad_secrets");
  for (const s of secrets) checkSecret(s, "bad_secrets");
  checkSeconds(now, "bad_time");
  if (!Number.isSafeInteger(maxAge) || maxAge < 1) throw new AuthRelayError("bad_max_age");

  const framed = decodeFraming(state);
  if (!framed.ok) return framed;
  const bytes = framed.bytes;
  const bodyEnd = bytes.length - TAG_LENGTH;
  const body = bytes.subarray(0, bodyEnd);
  const tag = bytes.subarray(bodyEnd);

  // 6. The key id selects the secret.
  const kid = body.subarray(1, 5);
  let secretIndex = -1;
  let keys;
  for (let i = 0; i < secrets.length; i++) {
    const k = await deriveKeys(secrets[i]);
    if (sameBytes(k.kid, kid)) {
      secretIndex = i;
      keys = k;
      break;
    }
  }
  if (!keys) return failure("unknown_key");

  // 7. The tag, in constant time (Web Crypto's HMAC verify compares in constant time).
  if (!(await keys.subtle.verify("HMAC", keys.mac, tag, macInput(body)))) return failure("bad_signature");

  // 8. Times, with 15 seconds of skew; u64 arithmetic without overflow.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const iat = view.getBigUint64(5);
  const exp = view.getBigUint64(13);
  const n = BigInt(now);
  if (exp < iat) return failure("bad_times");
  if (exp - iat > BigInt(maxAge)) return failure("lifetime_too_long");
  if (iat > n + BigInt(CLOCK_SKEW_SECONDS)) return failure("not_yet_valid");
  const expPlusSkew = exp + BigInt(CLOCK_SKEW_SECONDS);
  if (n > (expPlusSkew > U64_MAX ? U64_MAX : expPlusSkew)) return failure("expired");

  // 9. The target: every byte ASCII (invalid UTF-8 and non-ASCII both fail the rules).
  const targetBytes = body.subarray(HEADER_LENGTH);
  let target = "";
  for (const b of targetBytes) {
    if (b >= 0x80) return failure("bad_target");
    target += String.fromCharCode(b);
  }
  if (targetProblem(target) !== null) return failure("bad_target");
  if (target.includes("?")) return failure("not_a_callback");
  const provider = callbackProvider(target);
  if (provider === null) return failure("not_a_callback");
  // iat <= now + 15 and exp <= iat + maxAge here, so both are exact as Numbers.
  return { ok: true, secretIndex, target, provider, iat: Number(iat), exp: Number(exp) };
}

/**
 * Reads what a state holds without a secret (native states are signed, not encrypted).
 * Nothing in the result is verified. Returns { ok: true, verified: false, version, kid,
 * iat, exp, target, provider, length } or the framing failure { ok: false, code, detail }.
 */
export function inspectState(state) {
  const framed = decodeFraming(state);
  if (!framed.ok) return framed;
  const bytes = framed.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const target = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(HEADER_LENGTH, bytes.length - TAG_LENGTH));
  let provider = null;
  if (targetProblem(target) === null && !target.includes("?")) provider = callbackProvider(target);
  return {
    ok: true,
    verified: false,
    version: bytes[0],
    kid: hex(bytes.subarray(1, 5)),
    // Unverified values above 2^53 lose precision as Numbers.
    iat: Number(view.getBigUint64(5)),
    exp: Number(view.getBigUint64(13)),
    target,
    provider,
    length: state.length,
  };
}

// ---------------------------------------------------------------------------------------
// The preview side

class SignIn {
  constructor(redirectUri, state) {
    this.redirectUri = redirectUri;
    this.state = state;
  }

  toString() {
    return "[SignIn]";
  }

  [INSPECT]() {
    return `SignIn { redirectUri: ${JSON.stringify(this.redirectUri)}, state: [redacted] }`;
  }

  [DENO_INSPECT]() {
    return this[INSPECT]();
  }
}

function relayBase(relayBaseUrl) {
  if (typeof relayBaseUrl !== "string") throw new AuthRelayError("bad_relay_base");
  let url;
  try {
    url = new URL(relayBaseUrl);
  } catch {
    throw new AuthRelayError("bad_relay_base");
  }
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.hostname === "" ||
    url.username !== "" ||
    url.password !== "" ||
    url.href.includes("?") ||
    url.href.includes("#")
  ) {
    throw new AuthRelayError("bad_relay_base");
  }
  return url.href.replace(/\/+$/, "");
}

/**
 * A preview's handle on the relay at `relayBaseUrl` (e.g.
 * "https://auth.example.com/api/auth"), with the shared secret. The keys are derived once;
 * the secret itself is not kept.
 */
export function createRelay({ relayBaseUrl, secret, ttlSeconds = DEFAULT_TTL_SECONDS } = {}) {
  checkSecret(secret);
  const base = relayBase(relayBaseUrl);
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new AuthRelayError("bad_lifetime");
  }
  const keys = deriveKeys(secret);
  // A failure (no Web Crypto) is reported by signIn(), not as an unhandled rejection.
  keys.catch(() => {});

  const redirectUri = (provider) => {
    if (!isValidProviderId(provider)) throw new AuthRelayError("bad_provider");
    return `${base}/callback/${provider}`;
  };

  const relay = {
    relayBaseUrl: base,
    ttlSeconds,
    /** The relay's callback for `provider`: the redirect_uri for authorize and token requests. */
    redirectUri,
    /**
     * Starts a sign-in with `provider` whose callback is the preview's own `callbackUrl`
     * (which must end in /callback/<provider>). Resolves to { redirectUri, state }.
     */
    async signIn(provider, callbackUrl) {
      const uri = redirectUri(provider);
      // The Rust client's order: URL rules, then the provider, then what signing needs.
      const problem = targetProblem(callbackUrl);
      if (problem) throw new AuthRelayError("bad_target", problem);
      if (callbackProvider(callbackUrl) !== provider) throw new AuthRelayError("provider_mismatch");
      checkSignableTarget(callbackUrl);
      const iat = nowSeconds();
      const nonce = await randomNonce();
      const state = await signWithKeys(await keys, callbackUrl, iat, iat + ttlSeconds, nonce);
      return new SignIn(uri, state);
    },
    toString() {
      return "[AuthRelay]";
    },
    [INSPECT]() {
      return `AuthRelay { relayBaseUrl: ${JSON.stringify(base)}, ttlSeconds: ${ttlSeconds} }`;
    },
    [DENO_INSPECT]() {
      return this[INSPECT]();
    },
  };
  return Object.freeze(relay);
}
