/** A message as the templates make it: one set of strings, as plain text and as HTML. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/**
 * Renders an outbox row (src/views/mail/mail-templates.ts; handed to the worker by the composition root,
 * so that services need not import views). Throws MailTemplateError for a row it cannot render.
 */
export type RenderMail = (template: string, locale: string, data: Readonly<Record<string, string>>) => RenderedMail;
