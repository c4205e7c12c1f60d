import { describe, expect, it } from 'vitest';
import { canonicalResourceIdentifier } from '../../../src/lib/resource-identifier.js';

describe('canonicalResourceIdentifier (RFC 8707 section 2)', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['https://API.Example.COM:443/', 'https://api.example.com'],
    ['HTTPS://api.example.com/mcp', 'https://api.example.com/mcp'],
    ['https://api.example.com/mcp/', 'https://api.example.com/mcp/'],
    ['https://api.example.com:8443/Path', 'https://api.example.com:8443/Path'],
    ['http://localhost:8080/', 'http://localhost:8080'],
    ['https://api.example.com/?v=1', 'https://api.example.com/?v=1'],
    ['urn:example:api', 'urn:example:api'],
    ['URN:example:Api', 'urn:example:Api'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalResourceIdentifier(input)).toEqual({ ok: true, identifier: canonical });
  });

  it.each([
    ['', 'is empty'],
    ['api/path', 'is not an absolute URI'],
    ['//api.example.com', 'is not an absolute URI'],
    ['https://api.example.com/#section', 'must not contain a fragment'],
    ['https://api.example.com/ x', 'contains whitespace or a control character'],
    ['https://api.example.com/\u0000', 'contains whitespace or a control character'],
    ['https://user:pw@api.example.com', 'must not contain user information'],
    ['https://', 'is not an absolute URI'],
    [`https://api.example.com/${'a'.repeat(2048)}`, 'is too long'],
  ])('refuses %j: %s', (input, reason) => {
    expect(canonicalResourceIdentifier(input)).toEqual({ ok: false, reason });
  });
});
