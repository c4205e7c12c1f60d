/**
 * Resource identifiers (RFC 8707 section 2): an absolute URI with no fragment. Identifiers are compared in
 * canonical form, as the MCP authorization spec asks of servers: scheme and host are case-insensitive
 * (RFC 3986 section 6.2.2.1) and lowercased, a default port is dropped, and an empty path is the same as
 * "/" at the root. Any other trailing slash is significant: "https://api.example/mcp" and
 * "https://api.example/mcp/" name different resources.
 */

/** The longest identifier accepted, before any parsing. */
export const MAX_RESOURCE_IDENTIFIER_LENGTH = 2048;

export type ResourceIdentifierResult = { ok: true; identifier: string } | { ok: false; reason: string };

export function canonicalResourceIdentifier(value: string): ResourceIdentifierResult {
  if (value.length === 0) return { ok: false, reason: 'is empty' };
  if (value.length > MAX_RESOURCE_IDENTIFIER_LENGTH) return { ok: false, reason: 'is too long' };
  // Whitespace and control characters would be silently trimmed or escaped by the URL parser.
  if (/[\s\x00-\x1f\x7f]/.test(value)) return { ok: false, reason: 'contains whitespace or a control character' };
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return { ok: false, reason: 'is not an absolute URI' };
  if (value.includes('#')) return { ok: false, reason: 'must not contain a fragment' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'is not an absolute URI' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not contain user information' };
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    // An empty path is "/" (RFC 3986 section 6.2.3); written without it, as MCP clients write it.
    const path = url.pathname === '/' && !url.search ? '' : url.pathname;
    return { ok: true, identifier: `${url.protocol}//${url.host}${path}${url.search}` };
  }
  // Other schemes (urn:, for one) keep their text, with the scheme lowercased.
  return { ok: true, identifier: url.protocol + value.slice(url.protocol.length) };
}
