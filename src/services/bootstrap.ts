import type { ServiceContext } from './context.js';

/** What start-up bootstrap did, for the start-up banner. */
export interface BootstrapReport {
  adminClientId?: string;
  /** Set only when development credentials were generated on this start (printed once). */
  generatedClientSecret?: string;
  credentialsFile?: string;
}

// TODO(admin helper): ensure the bootstrap admin client and user; development credentials file.
export async function bootstrap(_ctx: ServiceContext): Promise<BootstrapReport> {
  return {};
}
