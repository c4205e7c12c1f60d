import { ENV_VARS } from './config.js';

/**
 * .env.example generated from the config schema (`npm run env:example`); a test keeps the committed file
 * equal to this output, so every documented variable is one the server reads.
 */
export function renderEnvExample(): string {
  const lines = [
    '# Authly configuration. Generated from src/config/config.ts by `npm run env:example`; do not edit by hand.',
    '# Every variable is optional in development. Secrets may also be given as NAME_FILE=/path/to/file.',
    '',
  ];
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    lines.push(`# ${spec.description}${'secret' in spec && spec.secret ? ' (secret; NAME_FILE supported)' : ''}`);
    lines.push('default' in spec ? `${name}=${spec.default}` : `# ${name}=`);
    lines.push('');
  }
  return lines.join('\n');
}
