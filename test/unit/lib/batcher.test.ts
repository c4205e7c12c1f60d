import { describe, expect, it } from 'vitest';
import { Batcher } from '../../../src/lib/batcher.js';

function recorder(fail?: (items: number[]) => boolean) {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(async (items) => {
    batches.push(items);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail?.(items)) throw new Error(`failed: ${items.join(',')}`);
    return items.map((n) => n * 10);
  }, { maxBatch: 4, maxInFlight: 1 });
  return { batches, batcher };
}

describe('Batcher', () => {
  it('runs items added in the same turn as one batch, each caller getting its own result', async () => {
    const { batches, batcher } = recorder();
    const results = await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('holds items added while a batch is in flight for the next one, and splits at maxBatch', async () => {
    const { batches, batcher } = recorder();
    const first = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4, 5, 6, 7].map((n) => batcher.add(n));
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6, 7]]);
  });

  it('retries the items of a failed batch alone, so only the bad item fails', async () => {
    const { batches, batcher } = recorder((items) => items.includes(2));
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => batcher.add(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[0]).toMatchObject({ value: 10 });
    expect(outcomes[1]).toMatchObject({ reason: new Error('failed: 2') });
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('rejects every caller when the batch returns the wrong number of results', async () => {
    const batcher = new Batcher<number, number>(async (items) => (items.length > 1 ? [1] : []));
    const outcomes = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
  });
});
