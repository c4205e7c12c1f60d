import { describe, expect, it } from 'vitest';
import { newClientId } from '../../../../src/services/admin/client-admin-service.js';

describe('newClientId', () => {
  it('is 128 random bits in base64url that never starts with - or _ (it would read as an option on a command line)', () => {
    // One base64url character in 32 is '-' or '_': 4,000 draws miss a leading one with odds of about e^-125.
    const ids = Array.from({ length: 4000 }, newClientId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.some((id) => /[-_]/.test(id))).toBe(true);
  });
});
