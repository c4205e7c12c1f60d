/**
 * The audit log: one JSON line per security event, on the server's pino logger with `log: "audit"`, so a
 * log pipeline can route them apart from request logs. Lines name who (actor), for which client, from
 * where (ip, request_id) and what happened — never a secret, password, code or token: only identifiers
 * (user ids, client ids, jti, grant ids). The field set is closed (AuditFields) so nobody can pass a token
 * by accident, and the event names are a closed list so `authly_audit_events_total{event}` stays bounded.
 */

export const AUDIT_EVENTS = [
  'login.succeeded',
  'login.failed',
  'login.locked',
  'consent.granted',
  'consent.denied',
  'token.issued',
  'token.revoked',
  'token.reuse_detected',
  'session.ended',
  'admin.client.created',
  'admin.client.updated',
  'admin.client.deleted',
  'admin.client.secret_rotated',
  'admin.client.unlocked',
  'admin.client.grant_revoked',
  'admin.client.grants_revoked',
  'admin.user.created',
  'admin.user.updated',
  'admin.user.deleted',
  'admin.user.password_set',
  'admin.user.unlocked',
  'admin.user.session_revoked',
  'admin.user.sessions_revoked',
  'admin.user.grant_revoked',
  'admin.user.grants_revoked',
  // A change refused by src/services/admin/privilege-rules.ts (403 insufficient_privilege).
  'admin.privilege_denied',
  'admin.scope.created',
  'admin.scope.deleted',
  'admin.resource.created',
  'admin.resource.updated',
  'admin.resource.deleted',
  'admin.maintenance.cleanup',
  'admin.keys.rotated',
  'admin.keys.retired',
  'admin.keys.revoked',
  'admin.registration_token.created',
  'admin.registration_token.revoked',
  // RFC 7591 / 7592: a client registered, updated or deleted itself (reason: the registration policy).
  'client.registered',
  'client.registration_updated',
  'client.registration_deleted',
  // The cleanup job deleted a dynamic or metadata-document client that had been idle too long.
  'client.expired',
  'keys.changed',
  // A client ID metadata document that could not be fetched or was refused (src/services/metadata-document-client.ts).
  'client.metadata_refused',
  // A client assertion (RFC 7523) presented again: its jti was already used (src/services/client-assertion.ts).
  'client.assertion_replayed',
  // The account page (issue 12 §4): the user acting on their own account.
  'account.signed_in',
  'account.profile_updated',
  'account.password_changed',
  'account.password_change_refused',
  'account.session_ended',
  'account.sessions_ended',
  'account.application_revoked',
  // Passkeys (src/routes/passkeys): registered, renamed or removed by the user on the account page; an
  // assertion whose signature counter did not grow (a cloned authenticator, W3C WebAuthn §6.1.1).
  'passkey.added',
  'passkey.renamed',
  'passkey.removed',
  'passkey.clone_suspected',
  // Issue 12 §2: mailed single-use links (src/services/account-links-service.ts). Never the link itself.
  'login.email_unverified',
  'user.registered',
  'user.verification_sent',
  'user.email_verified',
  'user.password_reset_requested',
  'user.password_reset',
  'user.invitation_accepted',
  'user.email_change_requested',
  'user.email_changed',
  'admin.user.invited',
  'admin.user.verification_sent',
  // One-time codes (src/services/mfa-service.ts): enrolment, removal, new recovery codes, a wrong code at
  // sign-in, and an administrator's reset of a user's factors.
  'mfa.totp_enabled',
  'mfa.totp_disabled',
  'mfa.recovery_codes_regenerated',
  'mfa.recovery_code_used',
  'mfa.failed',
  'admin.user.factors_reset',
  // OIDC Back-Channel Logout 1.0 (src/services/backchannel-logout/): a logout token a client accepted, or
  // one given up (reason: refused, attempts_exhausted, unregistered). Never the token.
  'backchannel_logout.delivered',
  'backchannel_logout.failed',
  // RFC 8628 (src/routes/device): a device asked, and the person approved or denied it on the /device page.
  'device_authorization.requested',
  'device_authorization.approved',
  'device_authorization.denied',
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

const KNOWN_EVENTS: ReadonlySet<string> = new Set(AUDIT_EVENTS);

export function isAuditEvent(name: string): name is AuditEvent {
  return KNOWN_EVENTS.has(name);
}

/** Where the request came from; bound once per request at the HTTP edge. */
export interface AuditOrigin {
  ip?: string;
  request_id?: string;
}

/** Everything an audit line may carry besides the origin. Identifiers only, by design. */
export interface AuditFields {
  /** Who acted: a user id, or a client id for client-only actions (admin API via client_credentials). */
  actor?: string | null;
  actor_type?: 'user' | 'client';
  client_id?: string;
  /** The user the event is about, when not the actor (token subject, admin target). */
  subject?: string;
  user_id?: string;
  grant_type?: string;
  grant_id?: string;
  jti?: string;
  sid?: string;
  scope?: string;
  /** The resource identifiers an access token is for (RFC 8707), space-separated; absent: the issuer. */
  audience?: string;
  token_type?: string;
  reason?: string;
  /** A resource identifier (RFC 8707: a public URI). */
  resource?: string;
  /** A signing key id (public: it is in the JWKS). */
  kid?: string;
  /** The authentication methods of a sign-in (RFC 8176), space-separated. */
  amr?: string;
  /** RFC 9449: the thumbprint of the DPoP key a token was bound to (a public key's hash, not a secret). */
  dpop_jkt?: string;
}

/** The slice of a pino logger the audit log writes to (services must not import Fastify). */
export interface AuditSink {
  info(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Where events are also stored (src/services/audit-writer.ts: queued, written in batches; it decides
 * which events it keeps). Called synchronously: the request path never waits for it.
 */
export type AuditStore = (event: AuditEvent, fields: AuditFields, origin: AuditOrigin, at: Date) => void;

export class AuditLog {
  constructor(
    private readonly sink: AuditSink,
    private readonly count: (event: AuditEvent) => void = () => {},
    private readonly origin: AuditOrigin = {},
    private readonly store?: AuditStore,
  ) {}

  /** The same log with the request's origin attached to every line. */
  withOrigin(origin: AuditOrigin): AuditLog {
    return new AuditLog(this.sink, this.count, origin, this.store);
  }

  /** The log line, and the event handed to the store. */
  record(event: AuditEvent, fields: AuditFields = {}): void {
    this.logStored(event, fields);
    this.store?.(event, fields, this.origin, new Date());
  }

  /**
   * The log line only, for an event already stored in the transaction of its change (an admin write,
   * src/services/audit-trail.ts): the line is written once the change committed.
   */
  logStored(event: AuditEvent, fields: AuditFields = {}): void {
    this.count(event);
    const line: Record<string, unknown> = { log: 'audit', event };
    for (const [key, value] of Object.entries({ ...fields, ...this.origin })) {
      if (value !== undefined) line[key] = value;
    }
    this.sink.info(line, event);
  }
}
