/** Retries of the outboxes (mail, back-channel logout) wait at most an hour, whatever the attempt. */
export const MAX_RETRY_DELAY_SECONDS = 3600;
/** Up to a tenth of the delay added at random, so rows deferred together by an outage spread out. */
const JITTER = 0.1;

/** The wait before the retry that follows failed attempt `attempt` (1-based): base · 2^(attempt-1), capped, plus jitter. */
export function retryDelaySeconds(baseSeconds: number, attempt: number, random: () => number = Math.random): number {
  const delay = Math.min(baseSeconds * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS);
  return Math.round(delay * (1 + random() * JITTER));
}
