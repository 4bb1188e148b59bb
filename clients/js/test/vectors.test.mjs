// The known-answer vectors of the native format (client/tests/vectors/native-v1.json,
// written by an independent Python implementation of docs/state-format.md).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { inspectState, signState, verifyState } from "../index.js";

const vectors = JSON.parse(
  readFileSync(new URL("../../../client/tests/vectors/native-v1.json", import.meta.url), "utf8"),
);

const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

test("the vector file has the cases this test expects", () => {
  assert.equal(vectors.format, "authrelay native state v1");
  assert.ok(vectors.valid.length >= 4);
  assert.ok(vectors.invalid.length >= 15);
});

for (const v of vectors.valid) {
  test(`valid vector "${v.name}": reproduced byte for byte and verified`, async () => {
    const state = await signState({
      secret: v.secret,
      target: v.target,
      iat: v.iat,
      exp: v.exp,
      nonce: fromHex(v.nonce_hex),
    });
    assert.equal(state, v.state);

    const got = await verifyState({ secrets: [v.secret], state: v.state, now: v.verify_at, maxAge: vectors.max_age });
    assert.deepEqual(got, {
      ok: true,
      secretIndex: 0,
      target: v.target,
      provider: v.provider,
      iat: v.iat,
      exp: v.exp,
    });
    // The key id is readable without the secret.
    const seen = inspectState(v.state);
    assert.equal(seen.kid, v.kid_hex);
    assert.equal(seen.target, v.target);
    assert.equal(seen.provider, v.provider);
  });
}

for (const v of vectors.invalid) {
  test(`invalid vector "${v.name}": ${v.code} / ${v.detail}`, async () => {
    const got = await verifyState({ secrets: vectors.secrets, state: v.state, now: v.verify_at, maxAge: v.max_age });
    assert.deepEqual(got, { ok: false, code: v.code, detail: v.detail });
  });
}

test("with the second vector secret first, its states verify with secretIndex 1", async () => {
  const [one, two] = [vectors.valid[0], vectors.valid[1]];
  const secrets = [one.secret, two.secret];
  const a = await verifyState({ secrets, state: one.state, now: one.verify_at });
  const b = await verifyState({ secrets, state: two.state, now: two.verify_at });
  assert.equal(a.ok && a.secretIndex, 0);
  assert.equal(b.ok && b.secretIndex, 1);
});
