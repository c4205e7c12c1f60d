import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { SmtpServerConfig } from '../../config/config.js';

/** One message ready to leave: rendered, addressed, with its Message-ID. */
export interface OutgoingMessage {
  /** The outbox row's id (names the development .eml file). */
  id: string;
  from: { name: string; address: string };
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<outbox-id@sender-domain>` (RFC 5322 section 3.6.4): a message sent twice is recognisable as one. */
  messageId: string;
}

export interface MailTransport {
  readonly delivery: 'smtp' | 'dev-files';
  /** Resolves once the server accepted the message (or the file is written); rejects with the reason. */
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/**
 * Why a delivery attempt failed, as far as the worker must know: `rejected` is final (the server refused
 * the message with a 5xx reply, RFC 5321 section 4.2.1: sending it again would be refused again); every
 * other class is temporary and retried with back-off.
 */
export type MailErrorClass = 'rejected' | 'temporary' | 'connection' | 'timeout' | 'auth' | 'tls';

export interface ClassifiedSendError {
  class: MailErrorClass;
  permanent: boolean;
  /** For the outbox row and the log: the code and the server's reply, never the message or its links. */
  detail: string;
}

export function classifySendError(err: unknown): ClassifiedSendError {
  const e = (err ?? {}) as { code?: string; responseCode?: number; response?: string; message?: string };
  const reply = (e.response ?? e.message ?? 'unknown error').replace(/\s+/g, ' ').slice(0, 300);
  const detail = `${e.code ?? 'ERROR'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${reply}`;
  // Credentials and TLS are the deployment's problem, not the message's: every message would fail alike,
  // so they are retried (nothing is lost while the operator fixes SMTP_PASSWORD or the certificate).
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH') return { class: 'auth', permanent: false, detail };
  if (e.code === 'ETLS' || e.code === 'EREQUIRETLS') return { class: 'tls', permanent: false, detail };
  if (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600) return { class: 'rejected', permanent: true, detail };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 500) return { class: 'temporary', permanent: false, detail };
  if (e.code === 'ETIMEDOUT') return { class: 'timeout', permanent: false, detail };
  return { class: 'connection', permanent: false, detail };
}

/**
 * One pooled SMTP transport per process (nodemailer keeps up to `maxConnections` connections open and
 * reconnects after an outage). Each step of the dialogue has `timeoutSeconds`: a hung server costs the
 * worker that long, never a request (requests only queue).
 */
export function smtpTransport(smtp: SmtpServerConfig, timeoutSeconds: number, maxConnections: number): MailTransport {
  const timeout = timeoutSeconds * 1000;
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    // RFC 3207 STARTTLS: required refuses to send unless the server upgrades; off never tries.
    requireTLS: !smtp.secure && smtp.startTls === 'required',
    ignoreTLS: !smtp.secure && smtp.startTls === 'off',
    auth: smtp.username ? { user: smtp.username, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
    // nodemailer's own logger is off: it would log message contents.
    logger: false,
    debug: false,
  });
  return {
    delivery: 'smtp',
    async send(message) {
      await transport.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
      });
    },
    close() {
      transport.close();
    },
  };
}

export interface DevFilesLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * Development without SMTP: each message becomes `<dir>/<time>-<id>.eml` (open it in a mail program, or
 * read the link in it); the log names recipient, subject and file, never the body with its link.
 */
export function devFilesTransport(dir: string, log: DevFilesLogger): MailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    delivery: 'dev-files',
    async send(message) {
      const info = await composer.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
      });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const file = path.join(dir, `${stamp}-${message.id}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      log.info({ event: 'mail.written', to: message.to, subject: message.subject, file }, `mail to ${message.to} written to ${file}`);
    },
    close() {
      composer.close();
    },
  };
}
