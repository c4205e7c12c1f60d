import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * STYLE.md's one-way rule: entry points → wiring → routes (+ http, views) → grants → services → tokens →
 * repositories → db; config, errors and lib are leaves anyone may import.
 */
const LAYERS: Record<string, number> = {
  'main.ts': 0,
  'cluster.ts': 0,
  cli: 0,
  'app.ts': 1,
  plugins: 1,
  routes: 2,
  http: 2,
  views: 2,
  grants: 3,
  services: 4,
  tokens: 5,
  repositories: 6,
  // Redis-backed shared state (cache, rate-limit counters): below services, above the db/ drivers, and
  // beside repositories (Redis commands live here as SQL lives there).
  cache: 6,
  db: 7,
};
const LEAVES = new Set(['config', 'errors', 'lib']);

const SRC = path.resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const area = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1]!,
  );
}

describe('dependency rule', () => {
  const all = files(SRC);

  it('imports point downward only', () => {
    const violations: string[] = [];
    for (const file of all) {
      const from = area(file);
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const to = area(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
        if (LEAVES.has(to) || to === from) continue;
        if (LEAVES.has(from)) violations.push(`${path.relative(SRC, file)} (a leaf) imports ${spec}`);
        else if ((LAYERS[to] ?? -1) < (LAYERS[from] ?? 99)) violations.push(`${path.relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only the HTTP edge imports Fastify, only db/ imports drivers, only repositories hold SQL', () => {
    const violations: string[] = [];
    const httpEdge = new Set(['main.ts', 'cli', 'app.ts', 'plugins', 'routes', 'http', 'views']);
    for (const file of all) {
      const from = area(file);
      const rel = path.relative(SRC, file);
      const specs = imports(file);
      if (specs.some((s) => s === 'fastify' || s.startsWith('@fastify/')) && !httpEdge.has(from)) violations.push(`${rel} imports fastify`);
      // ioredis is a driver too: src/db/redis-connection.ts wraps it.
      if (specs.some((s) => s === 'pg' || s === 'ioredis' || s.startsWith('@electric-sql/')) && from !== 'db') violations.push(`${rel} imports a driver`);
      const text = readFileSync(file, 'utf8');
      if (from !== 'repositories' && from !== 'db' && /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/.test(text)) {
        violations.push(`${rel} holds SQL`);
      }
    }
    expect(violations).toEqual([]);
  });
});
