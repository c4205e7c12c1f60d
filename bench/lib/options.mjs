// Bench options: flags (--duration=10) win over environment variables (BENCH_DURATION=10).
export const SCENARIOS = [
  'client_credentials',
  'client_credentials_dpop',
  'client_credentials_resource',
  'authorization_code',
  'refresh_token',
  'refresh_token_dpop',
  'introspection',
  'userinfo',
  'jwks',
  'discovery',
  'login',
  'passkey_sign_in',
];

const SPEC = {
  duration: { env: 'BENCH_DURATION', default: '10', help: 'seconds measured per scenario, server and round' },
  warmup: { env: 'BENCH_WARMUP', default: '3', help: 'seconds of warm-up before each measurement' },
  connections: { env: 'BENCH_CONNECTIONS', default: '32', help: 'autocannon connections' },
  rounds: { env: 'BENCH_ROUNDS', default: '2', help: 'alternating rounds (Authly, peer, Authly, peer, ...)' },
  scenarios: { env: 'BENCH_SCENARIOS', default: SCENARIOS.join(','), help: 'comma-separated subset of the scenarios' },
  format: { env: 'BENCH_ACCESS_TOKEN_FORMAT', default: 'opaque', help: "Authly's ACCESS_TOKEN_FORMAT: opaque (like the peer's access tokens) or jwt" },
  alg: { env: 'BENCH_ALG', default: 'ES256', help: "Authly's JWT_ALGORITHM for JWT access tokens: RS256, ES256 or EdDSA" },
  servers: { env: 'BENCH_SERVERS', default: 'authly,peer', help: 'authly,peer or one of them' },
  database: { env: 'BENCH_DATABASE_URL', default: 'postgres://postgres@127.0.0.1:5432/postgres', help: 'PostgreSQL server (a fresh database is created on it and dropped)' },
  redis: { env: 'REDIS_URL', default: '', help: 'Redis for Authly (cache, rate-limit counters) when set' },
  logLevel: { env: 'BENCH_LOG_LEVEL', default: 'info', help: "Authly's LOG_LEVEL (info is the production default)" },
  workersScaling: { env: 'BENCH_WORKERS_SCALING', default: 'client_credentials,introspection', help: 'scenarios re-run with WORKERS=2 ("" to skip)' },
  codeRate: { env: 'BENCH_CODE_RATE', default: '3000', help: 'authorization codes minted per measured second (pool size)' },
  cpuProf: { env: 'BENCH_CPU_PROF', default: '', help: 'a directory: run Authly under node --cpu-prof into it' },
  authlyEnv: { env: 'BENCH_AUTHLY_ENV', default: '', help: 'extra environment for Authly, KEY=VALUE,KEY=VALUE (e.g. DATABASE_POOL_MAX=20)' },
  authlyRoot: { env: 'BENCH_AUTHLY_ROOT', default: '', help: 'another built checkout of Authly to measure (before/after comparisons)' },
  out: { env: 'BENCH_OUT', default: 'bench/results', help: 'directory for the JSON results' },
  quiet: { env: 'BENCH_QUIET', default: '', help: 'no progress lines on stderr' },
};

export function usage() {
  return Object.entries(SPEC)
    .map(([k, s]) => `  --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=…  (${s.env}, default ${s.default || '""'}): ${s.help}`)
    .join('\n');
}

export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const raw = {};
  for (const [key, spec] of Object.entries(SPEC)) raw[key] = env[spec.env] ?? spec.default;
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return { help: true };
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const key = m && m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!m || !(key in SPEC)) throw new Error(`unknown option ${arg}\n${usage()}`);
    raw[key] = m[2] ?? 'true';
  }
  const int = (k, min) => {
    const n = Number(raw[k]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k} must be an integer >= ${min}`);
    return n;
  };
  const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const scenarios = list(raw.scenarios);
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (${SCENARIOS.join(', ')})`);
  const servers = list(raw.servers);
  for (const s of servers) if (!['authly', 'peer'].includes(s)) throw new Error(`unknown server ${s}`);
  if (!['RS256', 'ES256', 'EdDSA'].includes(raw.alg)) throw new Error('--alg must be RS256, ES256 or EdDSA');
  if (!['opaque', 'jwt'].includes(raw.format)) throw new Error('--format must be opaque or jwt');
  return {
    duration: int('duration', 1),
    warmup: int('warmup', 0),
    connections: int('connections', 1),
    rounds: int('rounds', 1),
    scenarios,
    alg: raw.alg,
    format: raw.format,
    servers,
    databaseUrl: raw.database,
    redisUrl: raw.redis || undefined,
    logLevel: raw.logLevel,
    workersScaling: list(raw.workersScaling).filter((s) => scenarios.includes(s)),
    codeRate: int('codeRate', 1),
    cpuProfDir: raw.cpuProf || undefined,
    outDir: raw.out,
    authlyRoot: raw.authlyRoot || undefined,
    quiet: Boolean(raw.quiet),
    nodeArgs: raw.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${raw.cpuProf}`] : [],
    authlyEnv: Object.fromEntries(
      list(raw.authlyEnv).map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 1) throw new Error(`--authly-env wants KEY=VALUE pairs, got ${pair}`);
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    ),
  };
}
