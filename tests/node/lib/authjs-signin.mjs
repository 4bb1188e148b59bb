// The first step of an Auth.js sign-in, as a preview's sign-in page takes it: fetch the
// CSRF token, then POST signin/<provider> with it. Shared by tests/node/e2e.test.mjs and
// the Auth.js version matrix.

import assert from "node:assert/strict";

import { CookieJar, hop } from "./http.mjs";
import { PROVIDER_ID } from "./authjs-config.mjs";

/**
 * Starts a sign-in at `preview` ({ baseUrl, origin }) with a fresh cookie jar, asking to
 * come back to the preview's `/`. Asserts Auth.js answers the CSRF request with a token and
 * the sign-in with a redirect; resolves with { jar, authorize }, `authorize` being the
 * redirect's URL (the caller checks it goes to the provider).
 */
export async function requestAuthorization(preview, { providerId = PROVIDER_ID } = {}) {
  const jar = new CookieJar();
  const csrf = await hop(jar, `${preview.baseUrl}/csrf`);
  assert.equal(csrf.status, 200, `csrf: ${csrf.text}`);
  const { csrfToken } = csrf.json();
  assert.ok(csrfToken, "Auth.js gave a CSRF token");

  const signin = await hop(jar, `${preview.baseUrl}/signin/${providerId}`, {
    method: "POST",
    form: { csrfToken, callbackUrl: `${preview.origin}/` },
  });
  assert.equal(signin.status, 302, `sign-in should redirect to the provider: ${signin.text}`);
  return { jar, authorize: new URL(signin.location) };
}
