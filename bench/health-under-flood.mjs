// Health under flood (issue 10 §3): fires N concurrent token requests (client_credentials) at a running
// Authly and times GET /health while they are in flight. Liveness must keep answering: admission
// control (AUTHLY_MAX_INFLIGHT_EXPENSIVE) refuses the excess with 503 + Retry-After instead of queueing it.
//
//   node bench/health-under-flood.mjs --issuer http://127.0.0.1:8000 --client-id ID --client-secret SECRET [--requests 500]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Fires `requests` token requests at once and polls /health (one probe at a time) until they have all
 * answered. Returns the token status counts, the probes' latencies and the worst probe.
 */
export async function floodAndProbe({ issuer, clientId, clientSecret, requests = 500, scope }) {
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString();
  const statuses = {};
  let retryAfterMissing = 0;
  const started = performance.now();
  let done = false;
  const flood = Promise.all(
    Array.from({ length: requests }, async () => {
      try {
        const res = await fetch(`${issuer}/oauth/token`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 503 && !res.headers.get('retry-after')) retryAfterMissing++;
      } catch {
        statuses.network_error = (statuses.network_error ?? 0) + 1;
      }
    }),
  ).then(() => (done = true));
  const probes = [];
  while (!done) {
    const t0 = performance.now();
    let status;
    try {
      const res = await fetch(`${issuer}/health`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = 'timeout';
    }
    probes.push({ status, ms: Math.round(performance.now() - t0) });
    await new Promise((r) => setTimeout(r, 20));
  }
  await flood;
  const latencies = probes.map((p) => p.ms).sort((a, b) => a - b);
  return {
    requests,
    floodMs: Math.round(performance.now() - started),
    statuses,
    retryAfterMissing,
    probes: probes.length,
    probeFailures: probes.filter((p) => p.status !== 200).length,
    healthP50Ms: latencies[Math.floor(latencies.length / 2)] ?? 0,
    healthMaxMs: latencies.at(-1) ?? 0,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      issuer: { type: 'string', default: 'http://127.0.0.1:8000' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      requests: { type: 'string', default: '500' },
      scope: { type: 'string' },
    },
  });
  const result = await floodAndProbe({
    issuer: values.issuer,
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    requests: Number(values.requests),
    scope: values.scope,
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
