import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

/**
 * RFC 8414 section 2: the issuer has no query or fragment component. An empty query ("?") or fragment
 * ("#") is still a component; WHATWG URL reports both as '' so a check on url.search/url.hash misses them,
 * and the issuer would then be "https://auth.example.com/?" in every token and in discovery.
 */
describe('DEFAULT_ISSUER_URL with an empty query or fragment marker', () => {
  it.each(['https://auth.example.com?', 'https://auth.example.com/?', 'https://auth.example.com#', 'https://auth.example.com/#'])('%s is refused', (url) => {
    expect(() => loadConfig({ DEFAULT_ISSUER_URL: url })).toThrow(ConfigError);
    expect(() => loadConfig({ DEFAULT_ISSUER_URL: url })).toThrow('DEFAULT_ISSUER_URL: must not contain a query or fragment');
  });
});
