/** Postgres error codes the repositories translate into domain outcomes. */
export const PG_UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(err: unknown): err is { code: string; constraint?: string } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === PG_UNIQUE_VIOLATION;
}
