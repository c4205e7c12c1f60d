// One autocannon run of one scenario against one server, counting only verified responses.
import autocannon from 'autocannon';

/**
 * Runs `spec` (from a scenario's build()) for `duration` seconds on `connections` keep-alive
 * connections. Single-use inputs come from spec.take(); when a pool runs dry the run stops early and the
 * rate is computed over the time actually measured.
 */
export async function runLoad(url, spec, { duration, connections }) {
  let ok = 0;
  let bad = 0;
  let exhausted = false;
  const badSamples = [];
  let instance;
  const request = {
    method: spec.method,
    path: spec.path,
    headers: spec.headers,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    setupRequest: (req, context) => {
      context.skip = false;
      if (spec.take) {
        const body = spec.take();
        if (body === undefined) {
          // Pool empty: stop, and send something harmless that is not counted.
          exhausted = true;
          context.skip = true;
          setImmediate(() => instance?.stop());
          // Fresh headers: the form request's Content-Length must not go out on a GET without a body.
          return { method: 'GET', path: '/.well-known/openid-configuration', headers: {}, body: undefined };
        }
        // A take() may give a whole request (its own path and cookie: one interaction per assertion).
        req = typeof body === 'object' ? { ...req, ...body, headers: { ...spec.headers, ...body.headers } } : { ...req, body };
      }
      if (spec.takeHeaders) req = { ...req, headers: { ...spec.headers, ...spec.takeHeaders() } };
      return req;
    },
    onResponse: (status, body, context, rawHeaders) => {
      if (context.skip) return;
      // autocannon keeps header names as sent (Koa sends "Location", Node "location").
      const headers = {};
      for (const [k, v] of Object.entries(rawHeaders ?? {})) headers[k.toLowerCase()] = v;
      if (spec.verify(status, body, headers)) ok++;
      else {
        bad++;
        if (badSamples.length < 3) badSamples.push(`${status} ${headers?.location ?? ""} ${String(body).slice(0, 200)}`.trim());
      }
    },
  };
  const started = process.hrtime.bigint();
  instance = autocannon({ url, connections, duration, pipelining: 1, timeout: 30, requests: [request] });
  const result = await instance;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  // Requests still in the server when autocannon stopped (argon2 logins queue for seconds) must finish
  // before the next measurement starts, or they would be charged to it.
  await new Promise((resolve) => setTimeout(resolve, Math.min(15_000, 250 + (result.latency.max || 0))));
  const seconds = Math.max(Math.min(elapsed, duration + 1), 0.001);
  return {
    rps: ok / seconds,
    ok,
    bad,
    non2xx: result.non2xx,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    seconds: Number(seconds.toFixed(2)),
    exhausted,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    badSamples,
  };
}
