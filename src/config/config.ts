import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable Authly reads, with its description and default. `.env.example` is
 * tested against this table (test/unit/config/env-example.test.ts), so the two cannot drift.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'expected a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `expected at least ${min}` }).max(max, { message: `expected at most ${max}` }));

interface VarSpec {
  schema: z.ZodType;
  description: string;
  /** The default as written in .env.example; undefined means "unset by default". */
  default?: string;
  secret?: boolean;
}

export const ENV_VARS = {
  ENVIRONMENT: {
    schema: z.enum(['development', 'production']),
    default: 'development',
    description: 'development or production. Production refuses insecure settings at start-up.',
  },
  HOST: { schema: z.string().min(1), default: '0.0.0.0', description: 'Interface to listen on.' },
  PORT: { schema: int(0, 65535), default: '8000', description: 'TCP port to listen on.' },
  DEFAULT_ISSUER_URL: {
    schema: z.url({ message: 'expected an absolute http(s) URL' }),
    description: 'The issuer identifier and public base URL (default http://localhost:PORT).',
  },
  DATABASE_URL: {
    schema: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// URL' }),
    secret: true,
    description: 'PostgreSQL connection URL. Unset: embedded PGlite stored in AUTHLY_DATA_DIR.',
  },
  DATABASE_POOL_MAX: { schema: int(1, 1000), default: '10', description: 'Maximum PostgreSQL pool connections.' },
  AUTHLY_DATA_DIR: {
    schema: z.string().min(1),
    default: './data',
    description: 'Directory for the embedded database and the development admin credentials.',
  },
  AUTOMIGRATE: { schema: bool, default: 'true', description: 'Apply pending migrations at start-up.' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'pino log level.',
  },
  ACCESS_TOKEN_EXPIRE_MINUTES: { schema: int(1, 1440), default: '15', description: 'Access token lifetime.' },
  REFRESH_TOKEN_EXPIRE_DAYS: { schema: int(1, 365), default: '7', description: 'Refresh token lifetime.' },
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: {
    schema: int(0, 60),
    default: '5',
    description:
      'Seconds after a rotation in which repeating the same refresh returns the same successor instead of revoking the family; 0 disables.',
  },
  AUTHORIZATION_CODE_EXPIRE_MINUTES: {
    schema: int(1, 10),
    default: '10',
    description: 'Authorization code lifetime (RFC 6749 section 4.1.2 recommends at most 10).',
  },
  ID_TOKEN_EXPIRE_MINUTES: { schema: int(1, 1440), default: '60', description: 'ID token lifetime.' },
  SESSION_EXPIRE_HOURS: { schema: int(1, 8760), default: '24', description: 'Browser session (single sign-on) lifetime.' },
  CLEANUP_INTERVAL_MINUTES: {
    schema: int(0, 10080),
    default: '60',
    description:
      'Minutes between background deletions of expired codes, tokens, sessions and grants (plus up to 10% jitter); 0 disables the job.',
  },
  REQUIRE_USER_CONSENT: {
    schema: bool,
    default: 'true',
    description: 'Show the consent page (clients marked skip_consent never see it).',
  },
  AUTHLY_LOCKOUT_MAX_ATTEMPTS: {
    schema: int(1, 1000),
    default: '5',
    description:
      'Failed logins (per account) or client authentications (per client) before a temporary lock; an IP gets ten times as many.',
  },
  AUTHLY_LOCKOUT_DURATION_SECONDS: {
    schema: int(1, 86400),
    default: '900',
    description: 'The window in which failures are counted, and how long a lock lasts.',
  },
  JWT_SECRET_KEY: {
    schema: z.string().min(32, { message: 'expected at least 32 characters' }),
    secret: true,
    description:
      "Keys the server's own HMACs (CSRF, client secret hashes). Required in production; " +
      'development generates one into AUTHLY_DATA_DIR.',
  },
  JWT_ALGORITHM: {
    schema: z.enum(['RS256', 'ES256', 'EdDSA', 'HS256']),
    default: 'RS256',
    description: 'Algorithm of access-token signing keys: RS256, ES256 or EdDSA. ID tokens always offer RS256.',
  },
  AUTHLY_KEY_ENCRYPTION_KEY: {
    schema: z.string().min(32, { message: 'expected at least 32 characters' }),
    secret: true,
    description: 'When set, private signing keys are stored AES-256-GCM encrypted with a key derived from it.',
  },
  AUTHLY_ADMIN_CLIENT_ID: { schema: z.string().min(1).max(255), description: 'Bootstrap admin client id.' },
  AUTHLY_ADMIN_CLIENT_SECRET: {
    schema: z.string().min(16, { message: 'expected at least 16 characters' }),
    secret: true,
    description: 'Bootstrap admin client secret.',
  },
  AUTHLY_ADMIN_USERNAME: { schema: z.string().min(1).max(255), description: 'Bootstrap admin user name.' },
  AUTHLY_ADMIN_EMAIL: { schema: z.email({ message: 'expected an email address' }), description: 'Bootstrap admin email.' },
  AUTHLY_ADMIN_PASSWORD: {
    schema: z.string().min(8, { message: 'expected at least 8 characters' }),
    secret: true,
    description: 'Bootstrap admin password.',
  },
  AUTHLY_BOOTSTRAP_DEV_MODE: {
    schema: bool,
    default: 'true',
    description:
      'Development only: generate admin client credentials on first start into AUTHLY_DATA_DIR. Refused in production.',
  },
} satisfies Record<string, VarSpec>;

export type EnvName = keyof typeof ENV_VARS;

export interface Config {
  environment: 'development' | 'production';
  host: string;
  port: number;
  issuer: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  dataDir: string;
  autoMigrate: boolean;
  logLevel: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshTokenReuseGraceSeconds: number;
  authorizationCodeTtlSeconds: number;
  idTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  cleanupIntervalMinutes: number;
  requireUserConsent: boolean;
  lockoutMaxAttempts: number;
  lockoutDurationSeconds: number;
  jwtSecretKey: string | undefined;
  jwtAlgorithm: 'RS256' | 'ES256' | 'EdDSA';
  keyEncryptionKey: string | undefined;
  admin: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    username: string | undefined;
    email: string | undefined;
    password: string | undefined;
    bootstrapDevMode: boolean;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** NAME_FILE wins over NAME so Docker and Kubernetes secrets can be mounted as files. */
function readRaw(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const value = env[name];
  return value === '' ? undefined : value;
}

function parseVar(env: Env, name: EnvName): unknown {
  const spec: VarSpec = ENV_VARS[name];
  const raw = readRaw(env, name) ?? spec.default;
  if (raw === undefined) return undefined;
  const result = spec.schema.safeParse(raw);
  if (!result.success) {
    const shown = spec.secret ? '' : ` (got "${raw}")`;
    throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'}${shown}`);
  }
  return result.data;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Parse and validate the whole environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const v = <T>(name: EnvName) => parseVar(env, name) as T;
  const environment = v<Config['environment']>('ENVIRONMENT');
  const port = v<number>('PORT');
  const issuerRaw = v<string | undefined>('DEFAULT_ISSUER_URL') ?? `http://localhost:${port}`;
  const issuerUrl = new URL(issuerRaw);
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') {
    throw new ConfigError('DEFAULT_ISSUER_URL: expected an http(s) URL');
  }
  // Checked on the string: URL drops an empty "?" or "#", which would still make the issuer differ.
  if (issuerRaw.includes('?') || issuerRaw.includes('#')) {
    throw new ConfigError('DEFAULT_ISSUER_URL: must not contain a query or fragment (RFC 8414 section 2)');
  }
  const issuer = issuerRaw.replace(/\/+$/, '');

  const algorithm = v<string>('JWT_ALGORITHM');
  if (algorithm === 'HS256') {
    throw new ConfigError(
      'JWT_ALGORITHM: HS256 is refused: a shared-secret signature cannot be published in the JWKS, so every ' +
        'resource server would need the secret. Use RS256 (default), ES256 or EdDSA.',
    );
  }

  const config: Config = {
    environment,
    host: v('HOST'),
    port,
    issuer,
    databaseUrl: v('DATABASE_URL'),
    databasePoolMax: v('DATABASE_POOL_MAX'),
    dataDir: path.resolve(v<string>('AUTHLY_DATA_DIR')),
    autoMigrate: v('AUTOMIGRATE'),
    logLevel: v('LOG_LEVEL'),
    accessTokenTtlSeconds: v<number>('ACCESS_TOKEN_EXPIRE_MINUTES') * 60,
    refreshTokenTtlSeconds: v<number>('REFRESH_TOKEN_EXPIRE_DAYS') * 86400,
    refreshTokenReuseGraceSeconds: v('REFRESH_TOKEN_REUSE_GRACE_SECONDS'),
    authorizationCodeTtlSeconds: v<number>('AUTHORIZATION_CODE_EXPIRE_MINUTES') * 60,
    idTokenTtlSeconds: v<number>('ID_TOKEN_EXPIRE_MINUTES') * 60,
    sessionTtlSeconds: v<number>('SESSION_EXPIRE_HOURS') * 3600,
    cleanupIntervalMinutes: v('CLEANUP_INTERVAL_MINUTES'),
    requireUserConsent: v('REQUIRE_USER_CONSENT'),
    lockoutMaxAttempts: v('AUTHLY_LOCKOUT_MAX_ATTEMPTS'),
    lockoutDurationSeconds: v('AUTHLY_LOCKOUT_DURATION_SECONDS'),
    jwtSecretKey: v('JWT_SECRET_KEY'),
    jwtAlgorithm: algorithm as Config['jwtAlgorithm'],
    keyEncryptionKey: v('AUTHLY_KEY_ENCRYPTION_KEY'),
    admin: {
      clientId: v('AUTHLY_ADMIN_CLIENT_ID'),
      clientSecret: v('AUTHLY_ADMIN_CLIENT_SECRET'),
      username: v('AUTHLY_ADMIN_USERNAME'),
      email: v('AUTHLY_ADMIN_EMAIL'),
      password: v('AUTHLY_ADMIN_PASSWORD'),
      bootstrapDevMode: v('AUTHLY_BOOTSTRAP_DEV_MODE'),
    },
  };

  if (Boolean(config.admin.clientId) !== Boolean(config.admin.clientSecret)) {
    throw new ConfigError('AUTHLY_ADMIN_CLIENT_ID: AUTHLY_ADMIN_CLIENT_ID and AUTHLY_ADMIN_CLIENT_SECRET go together');
  }
  if (Boolean(config.admin.username) !== Boolean(config.admin.password)) {
    throw new ConfigError('AUTHLY_ADMIN_USERNAME: AUTHLY_ADMIN_USERNAME and AUTHLY_ADMIN_PASSWORD go together');
  }
  if (environment === 'production') {
    if (issuerUrl.protocol !== 'https:' && !isLoopback(issuerUrl.hostname)) {
      throw new ConfigError('DEFAULT_ISSUER_URL: production requires an https issuer (http only for loopback)');
    }
    if (!config.databaseUrl) throw new ConfigError('DATABASE_URL: required in production (the embedded database is for development)');
    if (!config.jwtSecretKey) throw new ConfigError('JWT_SECRET_KEY: required in production');
    if (/not-for-production|change-?me|^dev[-_]|^your[-_]|^example/i.test(config.jwtSecretKey)) {
      throw new ConfigError('JWT_SECRET_KEY: looks like a development placeholder; generate a random value');
    }
    // The variable defaults to true for development; in production only an explicit "true" is an error.
    if (readRaw(env, 'AUTHLY_BOOTSTRAP_DEV_MODE') && config.admin.bootstrapDevMode) {
      throw new ConfigError('AUTHLY_BOOTSTRAP_DEV_MODE: development bootstrap is refused in production');
    }
    config.admin.bootstrapDevMode = false;
  }
  return Object.freeze(config);
}
