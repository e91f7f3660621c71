/**
 * API keys: `sm_<10 lowercase alphanumerics>_<43 base64url chars>` (256 random bits after the
 * prefix). Only the SHA-256 of the whole key is stored; the `sm_<10>` prefix is kept in clear so
 * operators and customers can tell keys apart in listings.
 */
import { sha256Hex } from "../lib/sha256";

const PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const PREFIX_LENGTH = 10;
const SECRET_BYTES = 32;
const API_KEY_PATTERN = /^(sm_[a-z0-9]{10})_[A-Za-z0-9_-]{43}$/;

export interface NewApiKey {
  /** The full key: shown once, never stored. */
  key: string;
  /** The visible part, stored and listed. */
  prefix: string;
  /** SHA-256 of `key`, lowercase hex: the only form stored. */
  hash: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A new random key with its prefix and hash. */
export async function generateApiKey(): Promise<NewApiKey> {
  // 36 symbols from bytes mod 36 would be biased; 252 = 7 * 36 keeps it uniform.
  let prefixId = "";
  while (prefixId.length < PREFIX_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      if (byte < 252 && prefixId.length < PREFIX_LENGTH) prefixId += PREFIX_ALPHABET[byte % 36];
    }
  }
  const prefix = `sm_${prefixId}`;
  const key = `${prefix}_${base64url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
  return { key, prefix, hash: await hashApiKey(key) };
}

/** SHA-256 of a key, lowercase hex. */
export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/** The visible prefix of a well-formed key, or undefined when `value` is not shaped like one. */
export function apiKeyPrefix(value: string): string | undefined {
  return API_KEY_PATTERN.exec(value)?.[1];
}
