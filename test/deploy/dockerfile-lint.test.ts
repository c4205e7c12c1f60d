import { readFileSync } from 'node:fs';
import { DockerfileParser, Healthcheck, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/config/routes.js';

/**
 * The Dockerfile, parsed and linted by dockerfile-ast/dockerfile-utils (rcjsuen's parser and validator,
 * which produce the VS Code Docker language server's diagnostics), then checked for the properties the
 * deployment relies on. No Docker engine runs here; docker-build.test.ts performs the steps themselves.
 */
const text = readFileSync('Dockerfile', 'utf8');
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();

/** Instructions of the last stage (the runtime image). */
function finalStage(): Instruction[] {
  const froms = dockerfile.getFROMs();
  const lastFrom = froms[froms.length - 1]!;
  return instructions.filter((i) => i.getRange().start.line >= lastFrom.getRange().start.line);
}

const args = (i: Instruction) => i.getArgumentsContent() ?? '';

describe('Dockerfile', () => {
  it('has no linter diagnostics', () => {
    expect(validate(text, {})).toEqual([]);
  });

  it('the linter does catch mistakes (the check can fail)', () => {
    const broken = text.replace('EXPOSE 8000', 'EXPOSE eighty').replace('STOPSIGNAL SIGTERM', 'STOPSIGNAL');
    expect(validate(broken, {}).length).toBeGreaterThanOrEqual(2);
  });

  it('is multi-stage from one pinned Node LTS major on a glibc slim base', () => {
    const stages = dockerfile.getFROMs().map((f) => f.getBuildStage());
    expect(stages).toEqual(['deps', 'build', 'runtime']);
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    // A major, a Debian release and slim: never :latest, never alpine (argon2's prebuild is glibc).
    expect(image).toMatch(/^node:\d+-(bookworm|trixie)-slim$/);
  });

  it('runtime stage: production dependencies only, non-root, health check, port, signal, command', () => {
    const stage = finalStage();
    const of = (keyword: string) => stage.filter((i) => i.getKeyword() === keyword).map(args);
    expect(of('RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(of('USER')).toEqual(['node']);
    const user = stage.findIndex((i) => i.getKeyword() === 'USER');
    const lastRun = stage.map((i) => i.getKeyword()).lastIndexOf('RUN');
    expect(user).toBeGreaterThan(lastRun); // nothing runs as root after the switch, and the app is root-owned
    expect(of('EXPOSE')).toEqual(['8000']);
    expect(of('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(of('CMD')).toEqual(['["node", "dist/main.js"]']);
    const env = of('ENV').join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/ENVIRONMENT=production/);
    // Authly listens on 127.0.0.1 unless HOST says otherwise; a container must listen on every interface.
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    const healthcheck = stage.find((i): i is Healthcheck => i instanceof Healthcheck);
    expect(args(healthcheck!)).toMatch(/^CMD \["node", "-e", ".*'\/health'/);
    expect(args(healthcheck!)).toContain(`'${ROUTES.health}'`);
    const flags = healthcheck!.getFlags().map((f) => f.getName());
    expect(flags.sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    const labels = of('LABEL').join(' ');
    for (const label of ['title', 'description', 'version', 'licenses', 'base.name']) {
      expect(labels).toContain(`org.opencontainers.image.${label}=`);
    }
  });

  it('.dockerignore keeps secrets, dependencies, data and build output out of the context', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', '.env', '.env.*', 'secrets', 'node_modules', 'dist', 'data', 'coverage', 'test']) {
      expect(ignored).toContain(entry);
    }
  });
});
