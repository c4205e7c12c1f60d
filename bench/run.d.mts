// Types for the TypeScript smoke test (test/bench); the harness itself is plain ESM JavaScript.
export interface ScenarioSummary {
  rps: number;
  spread: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  exhausted: boolean;
}

export interface BenchResult {
  scenarios: Record<string, { bound: string; authly?: ScenarioSummary; peer?: ScenarioSummary; ratio?: number; note?: string }>;
  correctness: Record<string, string>;
  memory: Record<string, { total: number; perProcess: number[] }>;
  [key: string]: unknown;
}

export interface BenchOptions {
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
  scenarios: string[];
  alg: 'RS256' | 'ES256' | 'EdDSA';
  /** Authly's ACCESS_TOKEN_FORMAT (default opaque, like the peer's access tokens). */
  format?: 'opaque' | 'jwt';
  servers: ('authly' | 'peer')[];
  logLevel: string;
  workersScaling: string[];
  codeRate: number;
  nodeArgs: string[];
  authlyEnv: Record<string, string>;
  databaseUrl?: string;
  redisUrl?: string;
  measureCeiling?: boolean;
  argon2Params?: { memoryCost: number; timeCost: number; parallelism: number };
  externalAuthly?: {
    issuer: string;
    adminSecret: string;
    countAccessTokens?: () => Promise<number>;
    /** Writes the bench's resource (client_credentials_resource); without it that scenario has no resource. */
    insertResource?: (resource: { identifier: string; name: string; scopes: string[] }) => Promise<void>;
  };
}

export function runBench(options: BenchOptions, log?: (line: string) => void): Promise<BenchResult>;
