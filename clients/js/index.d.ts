// Types for authrelay-client (hand-written; index.js is the implementation).

/** The version byte of the native format. */
export declare const VERSION: 1;
/** Bytes before the target: version, key id, iat, exp, nonce. */
export declare const HEADER_LENGTH: 37;
/** Bytes of the HMAC-SHA256 tag. */
export declare const TAG_LENGTH: 32;
/** Bytes a state adds to its target (69). */
export declare const OVERHEAD: number;
/** The longest target accepted, in bytes (1024). */
export declare const MAX_TARGET_LENGTH: 1024;
/** The longest state looked at, in characters (1458). */
export declare const MAX_STATE_LENGTH: number;
/** The shortest secret accepted, in characters (32). */
export declare const MIN_SECRET_LENGTH: 32;
/** Clock skew allowed on issued-at and expiry, in seconds (15). */
export declare const CLOCK_SKEW_SECONDS: 15;
/** Lifetime of the states createRelay() makes by default, in seconds (600). */
export declare const DEFAULT_TTL_SECONDS: 600;
/** verifyState's default maxAge, the relay's default AUTH_STATE_MAX_AGE (900). */
export declare const DEFAULT_MAX_AGE_SECONDS: 900;
/** The longest lifetime createRelay() accepts (3600, the relay's largest AUTH_STATE_MAX_AGE). */
export declare const MAX_TTL_SECONDS: 3600;

/** The length in characters of a state for a target of `targetLength` bytes. */
export declare function encodedLength(targetLength: number): number;

/** Codes of the errors this module throws. */
export type AuthRelayErrorCode =
  | "bad_secret"
  | "bad_secrets"
  | "bad_relay_base"
  | "bad_provider"
  | "provider_mismatch"
  | "bad_target"
  | "target_has_query"
  | "not_a_callback"
  | "bad_lifetime"
  | "bad_times"
  | "bad_nonce"
  | "bad_time"
  | "bad_max_age"
  | "no_web_crypto";

/** Which URL rule a target broke (the Rust client's TargetError codes). */
export type TargetReason =
  | "empty"
  | "too_long"
  | "forbidden_character"
  | "fragment"
  | "not_absolute"
  | "unparseable"
  | "scheme"
  | "http_not_loopback"
  | "userinfo"
  | "no_host"
  | "invalid_host"
  | "trailing_dot"
  | "ipv6_zone_id"
  | "port"
  | "encoded_separator"
  | "dot_segment"
  | "empty_segment"
  | "not_canonical"
  | "query_semicolon"
  | "query_name"
  | "query_shadows_callback_params";

/**
 * Every error this module throws. The message is a fixed sentence that never holds a
 * secret, a state or the refused URL.
 */
export declare class AuthRelayError extends Error {
  readonly name: "AuthRelayError";
  readonly code: AuthRelayErrorCode;
  /** For `bad_target`: the rule that failed. */
  readonly reason?: TargetReason;
}

/** The public class of a verification failure: all a page shown to users may say. */
export type FailureCode = "state_malformed" | "state_invalid" | "state_expired" | "target_invalid";

/** The precise reason of a verification failure, for logs (the Rust client's codes). */
export type FailureDetail =
  | "too_long"
  | "not_base64url"
  | "legacy_unsigned"
  | "too_short"
  | "unknown_version"
  | "unknown_key"
  | "bad_signature"
  | "bad_times"
  | "lifetime_too_long"
  | "not_yet_valid"
  | "expired"
  | "bad_target"
  | "not_a_callback";

export interface VerifyFailure {
  ok: false;
  code: FailureCode;
  detail: FailureDetail;
}

export interface VerifiedState {
  ok: true;
  /** Position in `secrets` of the secret that verified it. */
  secretIndex: number;
  /** The preview callback URL the state carries. */
  target: string;
  /** The provider the state is bound to: the target's last path segment. */
  provider: string;
  /** Issued-at, Unix seconds. */
  iat: number;
  /** Expiry, Unix seconds. */
  exp: number;
}

export type VerifyResult = VerifiedState | VerifyFailure;

export interface SignStateOptions {
  /** The shared secret (AUTH_SECRET), at least 32 characters. */
  secret: string;
  /** The preview's canonical callback URL, ending in /callback/<provider>, without query. */
  target: string;
  /** Issued-at, Unix seconds. */
  iat: number;
  /** Expiry, Unix seconds, after `iat`. */
  exp: number;
  /** 16 bytes from a CSPRNG (crypto.getRandomValues(new Uint8Array(16))). */
  nonce: Uint8Array;
}

/** Makes a native state. Throws AuthRelayError on bad input. */
export declare function signState(options: SignStateOptions): Promise<string>;

export interface VerifyStateOptions {
  /** Every secret to accept, newest first; the state's key id picks one. */
  secrets: readonly string[];
  /** The state to check. Anything that is not a string fails as `not_base64url`. */
  state: unknown;
  /** The time of the check, Unix seconds. Default: now. */
  now?: number;
  /** The longest lifetime accepted, seconds. Default: 900. */
  maxAge?: number;
}

/**
 * Verifies a state, running the checks of the spec in order. Resolves to a result (never
 * rejects for a bad state); throws AuthRelayError only for bad options.
 */
export declare function verifyState(options: VerifyStateOptions): Promise<VerifyResult>;

export interface InspectedState {
  ok: true;
  /** Always false: nothing here is checked beyond the framing. */
  verified: false;
  version: number;
  /** The key id, lowercase hex. */
  kid: string;
  iat: number;
  exp: number;
  /** The target bytes as text (unverified). */
  target: string;
  /** The provider, when the target is a callback URL; else null. */
  provider: string | null;
  /** The state's length in characters. */
  length: number;
}

/** Reads a native state's fields without a secret. */
export declare function inspectState(state: unknown): InspectedState | VerifyFailure;

/** Checks a URL against the target rules: null when it passes, else the rule it breaks. */
export declare function targetProblem(raw: unknown): TargetReason | null;

/** Whether `id` is a provider id: 1-64 of A-Z a-z 0-9 _ -, the first a letter or digit. */
export declare function isValidProviderId(id: unknown): boolean;

export interface CreateRelayOptions {
  /** The relay's public URL with its base path, e.g. "https://auth.example.com/api/auth". */
  relayBaseUrl: string;
  /** The shared secret (AUTH_SECRET), at least 32 characters. */
  secret: string;
  /** Lifetime of the states it makes, 1-3600 seconds. Default: 600. */
  ttlSeconds?: number;
}

/** What to send the provider when a sign-in starts. Inspecting it shows no state. */
export interface SignIn {
  /** The relay's callback: the redirect_uri for the authorize and the token request. */
  readonly redirectUri: string;
  /** The state for the provider; also keep it in the preview's own cookie. */
  readonly state: string;
}

export interface Relay {
  readonly relayBaseUrl: string;
  readonly ttlSeconds: number;
  /** `<relayBaseUrl>/callback/<provider>`. Throws for an invalid provider id. */
  redirectUri(provider: string): string;
  /** Prepares a sign-in whose callback is `callbackUrl` (ending in /callback/<provider>). */
  signIn(provider: string, callbackUrl: string): Promise<SignIn>;
}

/** A preview's handle on the relay. Throws AuthRelayError on bad options. */
export declare function createRelay(options: CreateRelayOptions): Relay;
