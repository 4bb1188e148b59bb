#!/usr/bin/env bash
# Writes seed inputs for each fuzz target into fuzz/corpus-raw/<target>/ from the test
# fixtures (the open-redirect payloads, the native vectors, the states made by
# @auth/core) and from states signed with the fuzz secret by the relay's own `sign`.
# `cargo fuzz cmin` then keeps the ones that add coverage in fuzz/corpus/<target>/.
#   fuzz/make-seeds.sh [path/to/authrelay]
set -euo pipefail
cd "$(dirname "$0")"
BIN="${1:-../target/release/authrelay}"
SECRET="fuzz-secret-0123456789abcdef0123456789"
RAW=corpus-raw
rm -rf "$RAW"
mkdir -p "$RAW"/{native_state,authjs_jwe,origin_pattern,target_url,params,decide}
n=0
seed() { n=$((n + 1)); printf '%s' "$2" >"$RAW/$1/seed-$n"; }

targets=(
  "https://pr-1.preview.example.com/api/auth/callback/github"
  "https://app.example.com/api/auth/callback/github"
  "http://localhost:5173/api/auth/callback/apple"
  "https://evil.example.net/api/auth/callback/github"
  "https://auth.example.test/api/auth/callback/github"
  "http://[::1]:3000/callback/google"
  "https://a.example.com:8443/x/y/callback/azure-ad_b2c"
)
for t in "${targets[@]}"; do
  p="${t##*/}"
  s="$(env -i AUTH_SECRET="$SECRET" "$BIN" sign --target "$t" --provider "$p" --ttl 900)"
  seed native_state "$s"
  seed params "code=abc&state=$s&iss=https%3A%2F%2Fidp.example.com"
  a="$(env -i AUTH_SECRET="$SECRET" "$BIN" sign --target "$t" --provider "$p" --ttl 900 --format authjs)"
  seed authjs_jwe "$a"
  seed params "state=$a&code=x&user=%7B%22a%22%3A1%7D"
  seed target_url "$t"
done
# The native known-answer vectors.
python3 - "$RAW" <<'PY'
import json, sys, os
raw = sys.argv[1]
v = json.load(open("../client/tests/vectors/native-v1.json"))
i = 0
def walk(x):
    global i
    if isinstance(x, dict):
        for k, val in x.items():
            if k == "state" and isinstance(val, str):
                i += 1
                open(os.path.join(raw, "native_state", f"vector-{i}"), "w").write(val)
            elif k == "target" and isinstance(val, str):
                i += 1
                open(os.path.join(raw, "target_url", f"vector-{i}"), "w").write(val)
            else:
                walk(val)
    elif isinstance(x, list):
        for y in x:
            walk(y)
walk(v)
# States made by @auth/core itself.
for j, line in enumerate(open("../client/tests/fixtures/authjs/states-auth-core-0.41.3.jsonl")):
    rec = json.loads(line)
    if "state" in rec:
        open(os.path.join(raw, "authjs_jwe", f"auth-core-{j}"), "w").write(rec["state"])
    if "origin" in rec:
        open(os.path.join(raw, "target_url", f"auth-core-{j}"), "w").write(rec["origin"])
# The open-redirect payloads, bare and after an allowed origin.
for j, line in enumerate(open("../tests/fixtures/openredirects.txt", encoding="utf-8", errors="replace")):
    line = line.rstrip("\n")
    for k, t in enumerate([line, "https://app.example.com" + line, "https://app.example.com/api/auth/callback/github" + line]):
        open(os.path.join(raw, "target_url", f"openredirect-{j}-{k}"), "w").write(t)
    open(os.path.join(raw, "params", f"openredirect-{j}"), "w").write("next=" + line)
PY
patterns=(
  "https://*.preview.example.com" "https://myapp-*-acme.vercel.app" "http://localhost:*"
  "http://127.0.0.1:3000,http://[::1]:*" "https://app.example.com:8443" "https://*.com"
  "https://bücher.example" "https://ａｃｍｅ.com" "https://a*b*c.example.com"
  "https://*.*.acme.com" "https://x.*.com" "https://a.*.ck" "https://*.co.uk:8443"
  " https://a.com , https://*.b.com " "https://a.com,,https://b.com" "http://[fe80::1%25eth0]"
  "HTTPS://APP.Example.COM:443" "https://xn--bcher-kva.example:*" "https://127.0.0.*"
)
for p in "${patterns[@]}"; do seed origin_pattern "$p"; done
for q in "a=1&b=%2B&c=+&d&&e=%E2%9C%93" "state=%zz" "a=%ff" "%73tate=x" "state[]=1&State=2"; do
  seed params "$q"
done
echo "seeds: $(find "$RAW" -type f | wc -l) files in fuzz/$RAW"
