import { ConfigError, ENV_VARS, loadConfig, parseVar, type Env, type EnvName } from './config.js';
import { closestKnown, configWarnings, KNOWN_VARIABLES } from './config-warnings.js';

/**
 * `authly config check`: every problem of an environment at once, without starting anything. loadConfig
 * stops at the first bad variable (start-up needs no more); an operator fixing a deployment wants the list.
 */

export interface VariableProblem {
  variable: string;
  message: string;
}

export interface VariableProblems {
  /** Values Authly refuses: the server would not start. */
  errors: VariableProblem[];
  /** Settings that change nothing: unknown names that look like Authly's, variables Authly ignores. */
  warnings: VariableProblem[];
}

/**
 * The first words Authly's variables share (`SMTP_`, `BRAND_`, `CIMD_`, …): an unknown name in one of these
 * families is most likely meant for Authly. HTTP_ is left out: HTTP_PROXY is the proxy convention.
 */
const FAMILIES = (() => {
  const counts = new Map<string, number>();
  for (const name of Object.keys(ENV_VARS)) {
    const first = name.split('_')[0]!;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return new Set([...counts].filter(([first, n]) => n >= 2 && first !== 'HTTP').map(([first]) => `${first}_`));
})();

const variableOf = (message: string) => /^([A-Z][A-Z0-9_]*): /.exec(message)?.[1] ?? 'configuration';
const reasonOf = (message: string) => message.replace(/^[A-Z][A-Z0-9_]*: /, '');

/**
 * Problems of `env` (the process environment merged with .env, as the server sees it); `dotEnv`: the names
 * the .env file set, `dotEnvFile`: its name as the operator gave it. Each variable's own value is checked
 * on its own, so all bad values are named; the rules between variables (production requirements, pairs
 * that go together) are checked when every value is valid, as the server would check them next.
 */
export function variableProblems(env: Env, dotEnv: readonly string[] = [], dotEnvFile = '.env'): VariableProblems {
  const errors: VariableProblem[] = [];
  for (const name of Object.keys(ENV_VARS) as EnvName[]) {
    try {
      parseVar(env, name);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push({ variable: variableOf(err.message), message: reasonOf(err.message) });
    }
  }
  if (errors.length === 0) {
    try {
      loadConfig(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push({ variable: variableOf(err.message), message: reasonOf(err.message) });
    }
  }

  const warnings: VariableProblem[] = configWarnings(env, dotEnv, dotEnvFile);
  const named = new Set(warnings.map((w) => w.variable));
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || named.has(variable) || KNOWN_VARIABLES.has(variable)) continue;
    const family = [...FAMILIES].find((prefix) => variable.startsWith(prefix));
    if (!family) continue;
    const close = closestKnown(variable);
    warnings.push({
      variable,
      message: `${variable} is not a variable Authly reads${close ? `; did you mean ${close}?` : ` (Authly reads other ${family}* variables)`}`,
    });
  }
  return { errors, warnings };
}
