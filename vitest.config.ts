import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: more parallel files only queue behind argon2 and PGlite start-up.
    maxWorkers: 2,
    // Timeouts catch a hang, not slowness: on a loaded two-core machine a set-up of migrations, argon2 hashes
    // and a PGlite start took over 60 s (issue 10 §5). Nothing in the suite waits on a timer this long.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    sequence: { shuffle: { files: false, tests: false } },
  },
});
