/**
 * Runs `work` and answers no sooner than `floorMs` after it began. Where the answer must not tell whether
 * an account exists (password recovery, resending a verification link, sign-up), the paths for a real
 * and an unknown account do different amounts of work (a token and a mail are written for one only); the
 * floor makes both answers take the same time as long as the work fits within it, so response time is no
 * oracle either (OWASP Forgot Password Cheat Sheet: "return a consistent message … ensure responses
 * return in a consistent amount of time").
 */
export async function withTimeFloor<T>(floorMs: number, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  const left = floorMs - (performance.now() - started);
  // Rounded up: timers count whole milliseconds and may fire a fraction early.
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(left) + 1));
  return result;
}
