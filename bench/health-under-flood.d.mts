// Types for the TypeScript test (test/e2e/health-under-flood.test.ts); the script is plain ESM JavaScript.
export interface FloodResult {
  requests: number;
  floodMs: number;
  statuses: Record<string, number>;
  retryAfterMissing: number;
  probes: number;
  probeFailures: number;
  healthP50Ms: number;
  healthMaxMs: number;
}

export function floodAndProbe(options: {
  issuer: string;
  clientId: string;
  clientSecret: string;
  requests?: number;
  scope?: string;
}): Promise<FloodResult>;
