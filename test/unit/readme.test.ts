import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('README tour', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('uses a PKCE challenge that belongs to the verifier it gives', () => {
    const verifier = /code_verifier=([A-Za-z0-9\-._~]+)/.exec(readme)?.[1];
    const challenge = /code_challenge=([A-Za-z0-9\-._~]+)/.exec(readme)?.[1];
    expect(verifier).toBeDefined();
    expect(createHash('sha256').update(verifier!).digest('base64url')).toBe(challenge);
  });
});
