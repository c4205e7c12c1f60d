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
