/**
 * A queued message that cannot be rendered: a template name or a data key its caller did not supply, or a
 * link that is not on the issuer. A programming error in the part that queued it, never retried: the
 * mail worker marks the row failed with reason `template`.
 */
export class MailTemplateError extends Error {
  override name = 'MailTemplateError';
}
