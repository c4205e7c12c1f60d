import { InvalidRequest } from './oauth-errors.js';

/** Where a refused string came in; the admin API names it in its message. */
export type InputSource = 'path' | 'query' | 'body' | 'header';

/**
 * A string refused at the edge (src/http/input-guard.ts): NUL, text that is not UTF-8, a length beyond its
 * limit, JSON nested too deep, or a charset other than UTF-8 (415). An OAuth invalid_request on the wire;
 * the error handler renders it in the shape of the endpoint it reached (OAuth JSON, admin JSON, HTML page).
 */
export class InputRejected extends InvalidRequest {
  override readonly status: number;

  constructor(
    description: string,
    readonly source: InputSource,
    /** The parameter, JSON path or header that was refused. */
    readonly field: string,
    /** Why, as an admin API field message ("must not contain NUL characters"). */
    readonly reason: string,
    status = 400,
  ) {
    super(description);
    this.status = status;
  }
}
