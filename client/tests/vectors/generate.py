#!/usr/bin/env python3
"""Writes native-v1.json from the specification in docs/state-format.md.

This is a second, independent implementation of the native format (Python standard
library only), so the Rust client's known-answer tests check the spec, not themselves.
Run: python3 client/tests/vectors/generate.py > client/tests/vectors/native-v1.json
"""
import base64
import hashlib
import hmac
import json
import struct

SALT = b"authrelay"
INFO_MAC = b"authrelay native state v1 mac key"
INFO_KID = b"authrelay native state v1 key id"
CONTEXT = b"authrelay-state-v1\x00"


def hkdf_sha256(ikm, salt, info, length):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def keys(secret):
    ikm = secret.encode()
    return hkdf_sha256(ikm, SALT, INFO_MAC, 32), hkdf_sha256(ikm, SALT, INFO_KID, 4)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(secret, target, iat, exp, nonce):
    mac_key, kid = keys(secret)
    body = bytes([1]) + kid + struct.pack(">QQ", iat, exp) + nonce + target.encode()
    tag = hmac.new(mac_key, CONTEXT + body, hashlib.sha256).digest()
    return b64(body + tag)


def sign_raw(secret, body):
    mac_key, _ = keys(secret)
    return b64(body + hmac.new(mac_key, CONTEXT + body, hashlib.sha256).digest())


S1 = "vector-secret-one-0123456789abcdef"
S2 = "vector-secret-two-fedcba9876543210"
IAT = 1700000000

valid = []
for name, secret, target, ttl, nonce in [
    ("github", S1, "https://pr-1.preview.example.com/api/auth/callback/github", 600, bytes(range(16))),
    ("google with port", S2, "https://preview.example.com:8443/auth/callback/google", 900, bytes([0xAB]) * 16),
    ("loopback http", S1, "http://127.0.0.1:5173/api/auth/callback/discord", 60, bytes([0]) * 16),
    ("idna host", S2, "https://xn--bcher-kva.example/api/auth/callback/azure-ad", 300, bytes([0xFF]) * 16),
]:
    mac_key, kid = keys(secret)
    valid.append({
        "name": name,
        "secret": secret,
        "mac_key_hex": mac_key.hex(),
        "kid_hex": kid.hex(),
        "target": target,
        "provider": target.rsplit("/", 1)[1],
        "iat": IAT,
        "exp": IAT + ttl,
        "nonce_hex": nonce.hex(),
        "state": sign(secret, target, IAT, IAT + ttl, nonce),
        "verify_at": IAT + 1,
    })

good = valid[0]
raw = base64.urlsafe_b64decode(good["state"] + "=" * (-len(good["state"]) % 4))
T = good["target"]


def flip(state, i):
    c = state[i]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return state[:i] + alphabet[(alphabet.index(c) + 1) % 64] + state[i + 1:]


_, kid1 = keys(S1)
invalid = [
    ("tag changed", flip(good["state"], len(good["state"]) - 5), "state_invalid", "bad_signature"),
    ("target changed", flip(good["state"], 60), "state_invalid", "bad_signature"),
    ("signed with another secret", sign(S2, T, IAT, IAT + 600, bytes(16)), "state_invalid", "unknown_key"),
    ("expired", good["state"], "state_expired", "expired"),
    ("unknown version", b64(bytes([2]) + raw[1:]), "state_malformed", "unknown_version"),
    ("padding", good["state"] + "=", "state_malformed", "not_base64url"),
    ("standard base64 alphabet", good["state"].replace("-", "+").replace("_", "/") + "+", "state_malformed", "not_base64url"),
    ("too short", b64(raw[:60]), "state_malformed", "too_short"),
    ("legacy unsigned Auth.js JSON", b64(json.dumps({"origin": T}).encode()), "state_malformed", "legacy_unsigned"),
    ("lifetime over max age", sign(S1, T, IAT, IAT + 3601, bytes(16)), "state_invalid", "lifetime_too_long"),
    ("issued in the future", sign(S1, T, IAT + 100, IAT + 200, bytes(16)), "state_expired", "not_yet_valid"),
    ("expiry before issue", sign(S1, T, IAT, IAT - 1, bytes(16)), "state_invalid", "bad_times"),
    ("target with userinfo", sign(S1, "https://user@pr-1.preview.example.com/api/auth/callback/github", IAT, IAT + 600, bytes(16)), "target_invalid", "bad_target"),
    ("target with query", sign(S1, T + "?next=/", IAT, IAT + 600, bytes(16)), "target_invalid", "not_a_callback"),
    ("target not a callback", sign(S1, "https://pr-1.preview.example.com/login", IAT, IAT + 600, bytes(16)), "target_invalid", "not_a_callback"),
    ("target not canonical", sign(S1, "https://PR-1.preview.example.com/api/auth/callback/github", IAT, IAT + 600, bytes(16)), "target_invalid", "bad_target"),
]
now_for = {"expired": IAT + 600 + 16, "issued in the future": IAT}
out = {
    "format": "authrelay native state v1",
    "spec": "docs/state-format.md",
    "max_age": 900,
    "secrets": [S1],
    "valid": valid,
    "invalid": [
        {
            "name": n,
            "state": s,
            "verify_at": now_for.get(n, IAT + 1),
            "max_age": 3600 if n == "lifetime over max age" else 900,
            "code": c,
            "detail": d,
        }
        for n, s, c, d in invalid
    ],
}
print(json.dumps(out, indent=2))
