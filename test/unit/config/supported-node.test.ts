import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * The Node.js versions package.json says Authly supports are honest: every package the lockfile installs
 * accepts the oldest of them (otherwise npm prints EBADENGINE warnings on a newcomer's install, and the
 * package may not work there), and the machine running the tests is one of them.
 */
describe('supported Node.js versions', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
    packages: Record<string, { engines?: { node?: string } | string[]; version?: string }>;
  };
  const oldest = semver.minVersion(pkg.engines.node)!;

  it('this machine runs a supported version', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  it(`every locked package accepts Node ${oldest.version}`, () => {
    const refusing = Object.entries(lock.packages)
      .filter(([name]) => name !== '')
      .map(([name, entry]) => [name.replace(/^.*node_modules\//, ''), entry.engines] as const)
      .filter(([, engines]) => engines && !Array.isArray(engines) && engines.node)
      .filter(([, engines]) => !semver.satisfies(oldest, (engines as { node: string }).node))
      .map(([name, engines]) => `${name} (${(engines as { node: string }).node})`);
    expect(refusing).toEqual([]);
  });
});
