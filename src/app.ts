import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { MAX_PATH_PARAM_LENGTH } from './config/input-limits.js';
import type { Db } from './db/db.js';
import { openDatabase } from './db/open-database.js';
import { registerAdmissionControl } from './http/admission-control.js';
import { registerAllowedHosts } from './http/allowed-hosts.js';
import { clientErrorHandler } from './http/client-errors.js';
import { registerCors } from './http/cors.js';
import { frameworkErrors, registerErrorHandler, sendUnavailable } from './http/error-handler.js';
import { registerFormParser } from './http/form-body.js';
import { registerInputGuard } from './http/input-guard.js';
import './http/fastify-types.js';
import { AccessLogController, loggerOptions, requestIdFor } from './http/logging.js';
import { registerRequestAudit } from './http/request-audit.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { rateLimiting } from './plugins/rate-limit.js';
import { requestMetrics } from './plugins/request-metrics.js';
import { createSharedState } from './plugins/shared-state.js';
import { accountRoutes } from './routes/account/account-routes.js';
import { accountTotpRoutes } from './routes/account/totp-route.js';
import { adminRoutes } from './routes/admin/admin-routes.js';
import { assetsRoutes } from './routes/assets/assets-route.js';
import { consoleRoutes } from './routes/console/console-route.js';
import { authorizeRoutes } from './routes/authorize/authorize-route.js';
import { deviceAuthorizationRoutes } from './routes/device/device-authorization-route.js';
import { devicePageRoutes } from './routes/device/device-page-routes.js';
import { discoveryRoutes } from './routes/discovery/discovery-route.js';
import { healthRoutes } from './routes/health/health-route.js';
import { accountEmailRoutes } from './routes/account/account-email-route.js';
import { interactionRoutes } from './routes/interaction/interaction-route.js';
import { passkeyRoutes } from './routes/interaction/passkey-route.js';
import { accountPasskeyRoutes } from './routes/account/passkeys-route.js';
import { passkeyScriptRoutes } from './routes/assets/passkey-script-route.js';
import { mfaRoutes } from './routes/interaction/mfa-route.js';
import { introspectionRoutes } from './routes/introspection/introspection-route.js';
import { jwksRoutes } from './routes/jwks/jwks-route.js';
import { logoutRoutes } from './routes/logout/logout-route.js';
import { metricsRoutes } from './routes/metrics/metrics-route.js';
import { recoveryRoutes } from './routes/recovery/recovery-routes.js';
import { registrationRoutes } from './routes/registration/registration-route.js';
import { revocationRoutes } from './routes/revocation/revocation-route.js';
import { tokenRoutes } from './routes/token/token-route.js';
import { pushedAuthorizationRoutes } from './routes/par/par-route.js';
import { userinfoRoutes } from './routes/userinfo/userinfo-route.js';
import { bootstrap, type BootstrapReport } from './services/bootstrap.js';
import { unregisteredDefaultResource } from './services/resource-indicators.js';
import { AuditLog } from './services/audit.js';
import { AuditWriter } from './services/audit-writer.js';
import { startCleanupJob } from './services/cleanup-job.js';
import { startMailer, type Mailer } from './services/mail/mailer.js';
import { startBackchannelLogout, type BackchannelLogout } from './services/backchannel-logout/backchannel-logout.js';
import { mailRenderer } from './views/mail/mail-templates.js';
import { brandFrom } from './views/page-context.js';
import type { ServiceContext } from './services/context.js';
import { KEY_RELOAD_INTERVAL_SECONDS } from './tokens/key-lifecycle.js';
import { KeyStore, type SigningAlg } from './tokens/key-store.js';
import { MetadataDocumentResolver } from './services/metadata-document-resolver.js';
import { ClientKeySets } from './services/client-keys.js';
import { Metrics } from './services/metrics.js';
import { OutboundFetcher, type ResolveAll } from './services/outbound-fetch.js';
import { deriveKey, resolveServerSecret } from './services/server-secret.js';

/** Logout deliveries in flight to one host per process: a slow client cannot take every delivery slot. */
const BACKCHANNEL_LOGOUT_PER_HOST = 4;

/** 64 KiB: far above any legitimate form post or admin JSON body (SECURITY.md: bodies are size-limited). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Fastify's trustProxy from TRUST_PROXY. Fastify 5 treats a bare number as "trust nothing" (it cannot
 * check the immediate peer), so a hop count becomes a function trusting that many hops from the socket,
 * the Express semantics: only safe when nothing but those proxies can reach the server.
 */
function trustProxyOption(value: Config['trustProxy']): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : value;
}

export interface AppDeps {
  /** An open, migrated database; without one, buildApp opens the configured one and closes it on close. */
  db?: Db;
  /** Where JSON log lines go (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream;
  /** Close `db` when the app closes, after its workers and the audit writer (main.ts hands its database over). */
  closeDatabase?: boolean;
  /** How outbound fetches resolve host names (tests); default dns.promises.lookup. */
  resolve?: ResolveAll;
  /** How often the mail worker looks for due messages (tests); default every second. */
  mailPollIntervalMs?: number;
  /** How often the back-channel logout worker looks for due logouts (tests); default every second. */
  backchannelLogoutPollIntervalMs?: number;
  /** The clock of time-based one-time codes (tests); default Date.now. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    bootstrapReport: BootstrapReport;
    /** Set by the SIGTERM handler (src/main.ts): readiness answers 503 while in-flight requests finish. */
    lifecycle: { draining: boolean };
    /** Outgoing mail: the delivery mode and, unless MAIL_WORKER_ENABLED=false, the outbox worker. */
    mailer: Mailer;
    /** OIDC Back-Channel Logout 1.0: the outbox worker (unless disabled) and its readiness report. */
    backchannelLogout: BackchannelLogout;
    /** The audit trail's batched writer of events that are not admin writes (flushed at close). */
    auditWriter: AuditWriter;
  }
}

/** Builds the app without listening: services first, then plugins and routes in one visible order. */
export async function buildApp(config: Readonly<Config>, deps: AppDeps = {}): Promise<FastifyInstance> {
  // Built first so that services can log through the same pino instance (the audit log).
  const app = Fastify({
    logger: loggerOptions(config.logLevel, deps.logStream),
    genReqId: requestIdFor,
    logController: new AccessLogController(),
    requestIdHeader: false,
    // Form posts and admin JSON are small; a larger body is refused with 413 before it is buffered.
    bodyLimit: BODY_LIMIT_BYTES,
    // Behind a proxy (TRUST_PROXY), request.ip/protocol/host come from X-Forwarded-*, only from those
    // proxies. Nothing builds URLs from them: the issuer and cookie flags come from DEFAULT_ISSUER_URL.
    trustProxy: trustProxyOption(config.trustProxy),
    // During a graceful shutdown idle keep-alive connections are closed; in-flight requests finish.
    forceCloseConnections: 'idle',
    // A client gets HTTP_REQUEST_TIMEOUT_SECONDS to send its whole request, then 408 and the socket is
    // closed: a trickled body cannot hold a connection open nor delay a shutdown. Node checks running
    // requests every connectionsCheckingInterval (30 s by default), so the bound is checked every second.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    http: { connectionsCheckingInterval: 1000, headersTimeout: config.requestTimeoutSeconds * 1000 },
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    clientErrorHandler,
    // A request arriving on a busy keep-alive connection after close() began gets the OAuth-shaped 503 of
    // the onRequest hook below; Fastify's own 503 body is not an OAuth error.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAM_LENGTH },
    // A path the router cannot decode or an over-long path parameter: answered like the edge guard's refusals.
    frameworkErrors,
  });
  const db = deps.db ?? (await openDatabase(config));
  // onClose hooks run last-registered first, so this one, registered before every worker's, runs last: the
  // mail, back-channel logout and cleanup workers have stopped, the audit events they and the last requests
  // queued are written, and only then does the database close.
  app.addHook('onClose', async () => {
    await auditWriter.flush();
    if (!deps.db || deps.closeDatabase) await db.close();
  });
  const algorithms: SigningAlg[] = [...new Set<SigningAlg>(['RS256', config.jwtAlgorithm])];
  const keys = new KeyStore(db, algorithms, { encryptionSecret: config.keyEncryptionKey });
  await keys.init();
  const secret = resolveServerSecret(config);
  const metrics = new Metrics(db);
  const keyReloadFailed = (err: unknown) => app.log.error({ event: 'keys.reload_failed', err }, 'reloading the signing keys failed');
  // Redis (optional), the client cache, the rate-limit counters, and the signing-key change signal.
  const shared = createSharedState(config, metrics, { onKeysChanged: () => keys.reload().catch(keyReloadFailed) });
  keys.onChange = () => shared.announceKeysChanged();
  // A replica that missed a change signal (Redis down, several workers without Redis) catches up.
  keys.startAutoReload(KEY_RELOAD_INTERVAL_SECONDS * 1000, keyReloadFailed);
  app.addHook('onClose', async () => keys.stopAutoReload());
  // One guarded fetcher for every URL a client supplies, so its per-host bound covers them together.
  const outboundFetcher = new OutboundFetcher({ maxPerHost: config.cimd.maxFetchesPerHost, resolve: deps.resolve });
  // Audit events are log lines and rows of audit_events; this writer stores those that are not admin writes.
  const auditWriter = new AuditWriter(db, {
    storeTokenEvents: config.audit.storeTokenEvents,
    onError: (err, events) => app.log.error({ event: 'audit.store_failed', err, events }, 'storing audit events failed (they are in the log)'),
  });
  const ctx: ServiceContext = {
    config,
    db,
    keys,
    clientSecretKey: deriveKey(secret, 'client-secret'),
    csrfKey: deriveKey(secret, 'csrf'),
    throttleKey: deriveKey(secret, 'throttle'),
    refreshTokenKey: deriveKey(secret, 'refresh-token-successor'),
    totpKey: deriveKey(secret, 'totp'),
    dpopNonceKey: deriveKey(secret, 'dpop-nonce'),
    now: deps.now ?? Date.now,
    metrics,
    clients: shared.clients,
    scopes: shared.scopes,
    resources: shared.resources,
    redis: shared.redis,
    metadataDocuments: new MetadataDocumentResolver(outboundFetcher),
    clientKeySets: new ClientKeySets(outboundFetcher),
    audit: new AuditLog(app.log, (event) => metrics.auditEvents.inc({ event }), {}, auditWriter.store),
  };
  const report = await bootstrap(ctx);
  const missingDefault = await unregisteredDefaultResource(ctx);
  if (missingDefault !== undefined) {
    app.log.warn(
      { variable: 'DEFAULT_RESOURCE', resource: missingDefault },
      'DEFAULT_RESOURCE names no registered resource: access tokens keep the issuer as audience until it is created',
    );
  }

  app.decorate('ctx', ctx);
  app.decorate('lifecycle', { draining: false });
  // While draining, every response ends its connection: keep-alive clients reconnect (to another replica)
  // and a request that was in flight when close() began does not hold the server open afterwards.
  // Hooks on every request take the callback form: an async hook costs a promise and a tick per request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.lifecycle.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  app.decorate('bootstrapReport', report);
  shared.start(app.log.child({ component: 'redis' }));
  app.addHook('onClose', () => shared.close());
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Closing (app.close() has begun): refuse new work before any other hook runs, with Retry-After so the
  // client retries (on another replica), and end the connection so that it does not hold the close open.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    sendUnavailable(request, reply, 5, 'the server is shutting down; retry');
  });
  registerAdmissionControl(app, config.maxInflightExpensive, (route) => metrics.admissionRefused.inc({ route }));
  // First check of every request (health probes exempt), then CORS headers for the browser-facing APIs.
  registerAllowedHosts(app, config.allowedHosts);
  // Every string that enters is UTF-8, without NUL and within its length before anything looks it up.
  registerInputGuard(app);
  registerCors(app, config.corsOrigins);
  registerRequestAudit(app);
  if (config.cleanupIntervalMinutes > 0) {
    const cleanup = startCleanupJob(ctx, app.log, config.cleanupIntervalMinutes);
    app.addHook('onClose', () => cleanup.stop());
  }
  // Mail leaves through the outbox (src/services/mail/): requests only queue, this worker sends.
  const mailer = startMailer(config, {
    db,
    render: mailRenderer(config),
    defaultFromName: brandFrom(config).productName,
    log: app.log.child({ component: 'mail' }),
    metrics,
    pollIntervalMs: deps.mailPollIntervalMs,
  });
  app.decorate('mailer', mailer);
  app.addHook('onClose', () => mailer.stop());
  // Logout tokens leave through their outbox too: ending a session only queues them (sessions-repository.ts).
  const backchannelLogout = startBackchannelLogout(config, {
    db,
    keys,
    fetcher: new OutboundFetcher({ maxPerHost: BACKCHANNEL_LOGOUT_PER_HOST, resolve: deps.resolve }),
    log: app.log.child({ component: 'backchannel-logout' }),
    metrics,
    audit: ctx.audit,
    pollIntervalMs: deps.backchannelLogoutPollIntervalMs,
  });
  app.decorate('backchannelLogout', backchannelLogout);
  app.addHook('onClose', () => backchannelLogout.stop());
  app.decorate('auditWriter', auditWriter);

  // Security headers everywhere; HTML pages tighten the CSP further per page (src/views/page.ts).
  registerSecurityHeaders(app, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    strictTransportSecurity: config.issuer.startsWith('https:'),
  });
  // Rate limits per client IP before any work is done for the request (src/plugins/rate-limit.ts).
  if (config.rateLimit.enabled) {
    await app.register(rateLimiting, {
      config,
      counter: shared.counter,
      onExceeded: (policy) => metrics.rateLimitExceeded.inc({ policy }),
    });
  }
  await app.register(fastifyCookie);
  registerFormParser(app);
  registerErrorHandler(app);
  await app.register(requestMetrics);

  await app.register(discoveryRoutes);
  await app.register(jwksRoutes);
  await app.register(authorizeRoutes);
  await app.register(interactionRoutes);
  await app.register(passkeyRoutes);
  await app.register(accountPasskeyRoutes);
  await app.register(passkeyScriptRoutes);
  await app.register(recoveryRoutes);
  await app.register(accountEmailRoutes);
  await app.register(mfaRoutes);
  await app.register(accountTotpRoutes);
  await app.register(tokenRoutes);
  await app.register(pushedAuthorizationRoutes);
  await app.register(deviceAuthorizationRoutes);
  await app.register(devicePageRoutes);
  await app.register(revocationRoutes);
  await app.register(introspectionRoutes);
  await app.register(userinfoRoutes);
  await app.register(logoutRoutes);
  await app.register(accountRoutes);
  await app.register(registrationRoutes);
  await app.register(adminRoutes);
  await app.register(healthRoutes);
  await app.register(assetsRoutes);
  await app.register(consoleRoutes);
  if (config.metricsEnabled) await app.register(metricsRoutes);
  return app;
}
