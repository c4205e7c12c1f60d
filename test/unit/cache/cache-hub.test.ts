import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheHub, type CacheResult, type CacheSpec } from '../../../src/cache/cache-hub.js';
import { cacheModeFor } from '../../../src/plugins/shared-state.js';

interface Row {
  id: string;
  tags: string[];
  at: Date;
}

const SPEC: CacheSpec<Row> = {
  name: 'rows',
  l1TtlMs: 1000,
  l1MaxEntries: 3,
  l2TtlSeconds: 60,
  revive: (json) => ({ ...(json as Row), at: new Date((json as { at: string }).at) }),
};

function setup(mode: 'local' | 'off') {
  const results: CacheResult[] = [];
  const hub = new CacheHub({ mode, prefix: 'unit:', observe: (_cache, result) => results.push(result) });
  const cache = hub.define(SPEC);
  const db = new Map<string, Row>([['a', { id: 'a', tags: ['x'], at: new Date(0) }]]);
  const loads: string[] = [];
  const load = (id: string) => async () => {
    loads.push(id);
    const row = db.get(id);
    return row && structuredClone(row);
  };
  return { hub, cache, db, loads, load, results };
}

afterEach(() => vi.useRealTimers());

describe('CacheHub integrity key', () => {
  it('refuses shared mode without an integrity key (no fixed fallback key an attacker could know)', () => {
    const redis = { subscribe: () => undefined, onStateChange: () => undefined } as never;
    expect(() => new CacheHub({ mode: 'shared', redis, prefix: 'unit:' })).toThrow(/integrityKey/);
    expect(() => new CacheHub({ mode: 'shared', redis, prefix: 'unit:', integrityKey: Buffer.alloc(16) })).toThrow(/integrityKey/);
    expect(new CacheHub({ mode: 'shared', redis, prefix: 'unit:', integrityKey: Buffer.alloc(32, 1) }).mode).toBe('shared');
  });
});

describe('CacheHub, local mode (one process, no Redis)', () => {
  it('loads once, then serves hits', async () => {
    const { cache, loads, load, results } = setup('local');
    expect(await cache.get('a', load('a'))).toMatchObject({ id: 'a' });
    expect(await cache.get('a', load('a'))).toMatchObject({ id: 'a' });
    expect(loads).toEqual(['a']);
    expect(results).toEqual(['miss', 'hit']);
  });

  it('never caches a miss: a row created afterwards is found at once', async () => {
    const { cache, db, loads, load } = setup('local');
    expect(await cache.get('b', load('b'))).toBeUndefined();
    db.set('b', { id: 'b', tags: [], at: new Date(0) });
    expect(await cache.get('b', load('b'))).toMatchObject({ id: 'b' });
    expect(loads).toEqual(['b', 'b']);
  });

  it('invalidate drops the entry: the next read sees the new row', async () => {
    const { cache, db, load } = setup('local');
    await cache.get('a', load('a'));
    db.set('a', { id: 'a', tags: ['changed'], at: new Date(0) });
    await cache.invalidate('a');
    expect((await cache.get('a', load('a')))?.tags).toEqual(['changed']);
  });

  it('does not store a row that was read before an invalidation that happened during the read', async () => {
    const { cache, db, load } = setup('local');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = cache.get('a', async () => {
      const row = await load('a')();
      await gate; // the row is read; the admin write and its invalidation land now
      return row;
    });
    db.set('a', { id: 'a', tags: ['new'], at: new Date(0) });
    await cache.invalidate('a');
    release();
    expect((await slow)?.tags).toEqual(['x']); // that reader gets what it read...
    expect((await cache.get('a', load('a')))?.tags).toEqual(['new']); // ...but it was not cached
  });

  it('expires entries after the L1 TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { cache, loads, load } = setup('local');
    await cache.get('a', load('a'));
    vi.setSystemTime(Date.now() + SPEC.l1TtlMs + 1);
    await cache.get('a', load('a'));
    expect(loads).toEqual(['a', 'a']);
  });

  it('holds at most l1MaxEntries, dropping the oldest', async () => {
    const { cache, db, load } = setup('local');
    for (const id of ['b', 'c', 'd', 'e']) db.set(id, { id, tags: [], at: new Date(0) });
    for (const id of ['b', 'c', 'd', 'e']) await cache.get(id, load(id));
    expect(cache.localSize).toBe(3);
  });

  it('hands out frozen values, so a caller cannot corrupt what others read', async () => {
    const { cache, load } = setup('local');
    const row = (await cache.get('a', load('a')))!;
    expect(() => row.tags.push('y')).toThrow(TypeError);
    expect(() => ((row as { id: string }).id = 'b')).toThrow(TypeError);
  });
});

describe('CacheHub, off mode', () => {
  it('always loads, counted as bypass', async () => {
    const { cache, loads, load, results } = setup('off');
    await cache.get('a', load('a'));
    await cache.get('a', load('a'));
    expect(loads).toEqual(['a', 'a']);
    expect(results).toEqual(['bypass', 'bypass']);
  });
});

describe('cacheModeFor', () => {
  it.each([
    [{ redisUrl: 'redis://r', redisCache: true, workers: 4 }, 'shared'],
    [{ redisUrl: 'redis://r', redisCache: false, workers: 1 }, 'local'],
    [{ redisUrl: undefined, redisCache: true, workers: 1 }, 'local'],
    [{ redisUrl: undefined, redisCache: true, workers: 2 }, 'off'],
    [{ redisUrl: 'redis://r', redisCache: false, workers: 2 }, 'off'],
  ] as const)('%o → %s', (config, mode) => {
    expect(cacheModeFor(config)).toBe(mode);
  });
});
