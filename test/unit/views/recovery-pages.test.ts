import { describe, expect, it } from 'vitest';
import { withTimeFloor } from '../../../src/lib/equal-time.js';

describe('withTimeFloor', () => {
  it('answers no sooner than the floor, with the result of the work', async () => {
    const started = performance.now();
    expect(await withTimeFloor(50, async () => 'done')).toBe('done');
    expect(performance.now() - started).toBeGreaterThanOrEqual(48);
  });

  it('adds nothing when the work took longer than the floor', async () => {
    const work = () => new Promise<string>((resolve) => setTimeout(() => resolve('slow'), 30));
    const started = performance.now();
    expect(await withTimeFloor(10, work)).toBe('slow');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
