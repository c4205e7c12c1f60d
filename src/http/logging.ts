import { randomUUID } from 'node:crypto';
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions, type RawRequestDefaultExpression } from 'fastify';

// Query parameters whose values are credentials or personal data: never logged.
const SENSITIVE_PARAMS = new Set([
  'code',
  'code_verifier',
  'access_token',
  'refresh_token',
  'id_token',
  'id_token_hint',
  'client_secret',
  'password',
  'token',
  'login_hint',
  'state',
  'nonce',
]);

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of new Set(params.keys())) if (SENSITIVE_PARAMS.has(key.toLowerCase())) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}

const REQUEST_ID = /^[A-Za-z0-9\-_.:]{1,128}$/;

/** Accepts a well-formed X-Request-ID or X-Correlation-ID from the caller; otherwise generates one. */
export function requestIdFor(req: RawRequestDefaultExpression): string {
  for (const name of ['x-request-id', 'x-correlation-id']) {
    const value = req.headers[name];
    if (typeof value === 'string' && REQUEST_ID.test(value)) return value;
  }
  return randomUUID();
}

/**
 * pino options: JSON lines; requests are logged as method, redacted URL and client address only, so
 * Authorization headers, cookies, bodies and tokens never reach a log line.
 */
export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: redactUrl(req.url),
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  } as FastifyServerOptions['logger'];
}

/**
 * One access-log line per request, when it completes: method, redacted URL, client address, status and
 * time. Fastify's default is two lines, one on arrival; each is a synchronous write, and at thousands of
 * requests per second the arrival line alone cost a third of the throughput of a small response, so it is
 * logged at debug only. Every other line Fastify writes (errors, aborted streams, 404s) stays as it is.
 */
export class AccessLogController extends LogController {
  /** The arrival line only at debug (troubleshooting a request that never completes). */
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}
