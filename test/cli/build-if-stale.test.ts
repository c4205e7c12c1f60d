import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/build-if-stale.mjs');

/**
 * scripts/build-if-stale.mjs against a tiny project in a scratch directory (--root), so it never rebuilds
 * the checkout's dist/ under other tests. Times are set explicitly instead of waiting for the clock to move.
 */
describe('scripts/build-if-stale.mjs', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'authly-build-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const hourAgo = new Date(Date.now() - 3_600_000);
  const write = (file: string, text: string, at = hourAgo) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
    utimesSync(path.join(root, file), at, at);
  };
  const stamp = path.join(root, 'dist/.build-stamp');
  const stampTime = () => statSync(stamp).mtimeMs;
  /** An edit made since the last build, in the past: the stamp moves back 30 minutes, the edit is 20 minutes old. */
  const afterStamp = () => {
    const built = new Date(Date.now() - 1_800_000);
    utimesSync(stamp, built, built);
    return new Date(Date.now() - 1_200_000);
  };
  const build = () => {
    const result = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8' });
    return { status: result.status, stderr: result.stderr, stdout: result.stdout };
  };

  write('package.json', '{"type":"module"}\n');
  write('tsconfig.json', JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, types: [] } }));
  write('tsconfig.build.json', JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }));
  write('src/greet.ts', "export const greet = (name: string): string => `hello ${name}`;\n");
  write('src/lib/n.ts', 'export const n: number = 1;\n');
  utimesSync(path.join(root, 'src/lib'), hourAgo, hourAgo);
  utimesSync(path.join(root, 'src'), hourAgo, hourAgo);

  it('compiles when there is no stamp, then writes one', () => {
    expect(build()).toEqual({ status: 0, stdout: '', stderr: 'build-if-stale: no dist/.build-stamp; compiling (tsc -p tsconfig.build.json)\n' });
    expect(readFileSync(path.join(root, 'dist/greet.js'), 'utf8')).toContain('hello');
    expect(existsSync(path.join(root, 'dist/lib/n.js'))).toBe(true);
    expect(existsSync(stamp)).toBe(true);
  }, 120_000);

  it('does nothing when dist/ is current', () => {
    rmSync(path.join(root, 'dist/greet.js'));
    expect(build()).toEqual({ status: 0, stdout: '', stderr: '' });
    // Proof that tsc did not run: the removed output stays removed.
    expect(existsSync(path.join(root, 'dist/greet.js'))).toBe(false);
  });

  it('compiles again when a source file is newer than the stamp', () => {
    write('src/lib/n.ts', 'export const n: number = 2;\n', afterStamp());
    expect(build()).toMatchObject({ status: 0, stderr: expect.stringContaining('src/ changed') });
    expect(readFileSync(path.join(root, 'dist/lib/n.js'), 'utf8')).toContain('= 2');
    expect(existsSync(path.join(root, 'dist/greet.js'))).toBe(true);
  }, 120_000);

  it('compiles again when a file was removed (its folder changed) or a tsconfig or package.json changed', () => {
    for (const touch of ['src', 'tsconfig.build.json', 'tsconfig.json', 'package.json']) {
      const at = afterStamp();
      utimesSync(path.join(root, touch), at, at);
      expect(build(), touch).toMatchObject({ status: 0, stderr: expect.stringContaining('compiling') });
      expect(build(), touch).toEqual({ status: 0, stdout: '', stderr: '' });
    }
  }, 300_000);

  it('writes no stamp when the build fails, so the next call tries again', () => {
    write('src/greet.ts', 'export const greet: number = "not a number";\n', afterStamp());
    const before = stampTime();
    const failed = build();
    expect(failed.status).not.toBe(0);
    expect(stampTime()).toBe(before);
    expect(build().stderr).toContain('compiling');
  }, 120_000);
});
