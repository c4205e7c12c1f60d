import { existsSync, readFileSync } from 'node:fs';
import { didYouMean } from '../lib/did-you-mean.js';
import { ENV_VARS } from './config.js';

/**
 * Variables an operator may set because a deployment guide or another server uses them, which Authly does
 * not read. Each is named once at start-up with the reason, so a setting that changes nothing is never
 * silent. `agrees`: values that describe what Authly does anyway, which need no warning.
 */
const FOREIGN: Record<string, { reason: string; agrees?: readonly string[] }> = {
  PKCE_REQUIRED: {
    agrees: ['true', '1', 'yes'],
    reason: 'PKCE is always required for the authorization code flow (OAuth 2.1 section 4.1.1) and cannot be switched off',
  },
  OAUTH_ENABLED: { agrees: ['true', '1', 'yes'], reason: 'OAuth is what Authly serves; it cannot be switched off' },
  HEALTH_CHECK_ENABLED: {
    agrees: ['true', '1', 'yes'],
    reason: 'the /health probes are always served (the Kubernetes manifests and the image HEALTHCHECK use them)',
  },
  CACHE_TTL: {
    reason: 'each cached entry lives as long as what it caches (a verified token until it expires, a client until it changes); there is no global cache lifetime',
  },
  JWT_REFRESH_SECRET_KEY: {
    reason: 'refresh tokens are random opaque strings stored as hashes, not signed JWTs, so no second secret is used',
  },
  AUTHLY_LOG_LEVEL: { reason: 'the log level is LOG_LEVEL' },
  DB_PASSWORD: { reason: 'put the password in DATABASE_URL (or mount it with DATABASE_URL_FILE); .env values are not interpolated' },
};

export interface ConfigWarning {
  variable: string;
  message: string;
}

/** Every variable Authly reads, and its _FILE form. */
export const KNOWN_VARIABLES = new Set<string>(Object.keys(ENV_VARS).flatMap((name) => [name, `${name}_FILE`]));

/** A known name within two edits (src/lib/did-you-mean.ts). */
export function closestKnown(name: string): string | undefined {
  return didYouMean(name, KNOWN_VARIABLES, 2);
}

/** The variable names a .env file assigns (KEY=value lines, optionally after `export`). */
export function dotEnvNames(file = '.env'): string[] {
  if (!existsSync(file)) return [];
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1]!);
}

/**
 * What the operator set that Authly will not act on: the guides' variables it does not read (with why),
 * and unknown names that are likely typos. Every unknown name in .env is reported (the file exists only
 * to configure Authly); in the process environment, which holds everything else too, only names that
 * start with AUTHLY_ or are one or two letters away from a variable Authly reads.
 */
export function configWarnings(env: Record<string, string | undefined>, dotEnv: readonly string[] = [], dotEnvFile = '.env'): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const fromDotEnv = new Set(dotEnv);
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || KNOWN_VARIABLES.has(variable)) continue;
    const foreign = FOREIGN[variable];
    if (foreign) {
      if (!foreign.agrees?.includes(value.trim().toLowerCase())) {
        warnings.push({ variable, message: `${variable} is ignored: ${foreign.reason}` });
      }
      continue;
    }
    const suggestion = closestKnown(variable);
    if (fromDotEnv.has(variable) || variable.startsWith('AUTHLY_') || (suggestion && variable.length >= 8)) {
      const hint = suggestion ? `; did you mean ${suggestion}?` : '';
      const where = fromDotEnv.has(variable) ? ` (set in ${dotEnvFile})` : '';
      warnings.push({ variable, message: `${variable}${where} is not a variable Authly reads${hint}` });
    }
  }
  return warnings;
}
