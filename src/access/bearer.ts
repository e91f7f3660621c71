/**
 * The credentials of `Authorization: Bearer <credentials>` (RFC 6750 §2.1: the scheme, any case,
 * then spaces, then one token without whitespace), or undefined when the header is absent, names
 * another scheme or holds more than one word. The one parser for access tokens, API keys and the
 * admin token.
 */
export function bearerCredentials(authorization: string | undefined): string | undefined {
  return /^Bearer +(\S+)\s*$/i.exec(authorization ?? "")?.[1];
}
