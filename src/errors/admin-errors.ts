/** Errors of the admin JSON API (not OAuth errors): `{ error, message, fields? }`. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { error: this.error, message: this.message, ...(this.fields ? { fields: this.fields } : {}) };
  }
}

export class ValidationFailed extends AdminApiError {
  constructor(fields: Record<string, string>, message = 'validation failed') {
    super(400, 'validation_failed', message, fields);
  }
}
/** A well-formed cursor that is not a position in this list (from another list, or forged). */
export class InvalidCursor extends ValidationFailed {
  constructor() {
    super({ cursor: 'not a cursor of this list' }, 'the query parameters are not valid');
  }
}
export class NotFound extends AdminApiError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}
export class Conflict extends AdminApiError {
  constructor(message: string, fields?: Record<string, string>) {
    super(409, 'conflict', message, fields);
  }
}

/**
 * The caller holds the route's admin scope but not the privilege this change needs (an admin scope it does
 * not hold, `is_admin`, or an admin-capable client or admin user as target). `reason` and `target` are
 * for the audit line; `fields` names what was refused, as validation_failed does.
 */
export class InsufficientPrivilege extends AdminApiError {
  constructor(
    readonly reason: PrivilegeReason,
    message: string,
    readonly target: { clientId?: string; userId?: string; resource?: string; scopes?: readonly string[] } = {},
    fields?: Record<string, string>,
  ) {
    super(403, 'insufficient_privilege', message, fields);
  }
}

export type PrivilegeReason =
  | 'admin_scope_assignment'
  | 'is_admin_assignment'
  | 'admin_capable_client'
  | 'admin_user'
  | 'reserved_username'
  | 'admin_scope_resource'
  | 'admin_capable_acting_client'
  | 'builtin_client';
