import { DEFAULT_LOCALE, type Locale } from '../../lib/locales.js';
import { accountMessages } from './account-messages.js';
import { commonMessages } from './common-messages.js';
import { mailMessages } from './mail-messages.js';
import { passkeysMessages } from './passkeys-messages.js';
import { recoveryMessages } from './recovery-messages.js';
import { mfaMessages } from './mfa-messages.js';
import { consentMessages } from './consent-messages.js';
import { errorsMessages } from './errors-messages.js';
import { logoutMessages } from './logout-messages.js';
import { signinMessages } from './signin-messages.js';
import { deviceMessages } from './device-messages.js';

/**
 * The one catalogue of user-facing strings (pages and mail). Each area keeps its strings in its own
 * module, `{ en: {...}, de: {...} }` with keys prefixed by the area; they are merged here. A test checks
 * that every locale has every key (test/unit/views/catalogue.test.ts).
 */
// One area per line, so that each part's merge adds one line.
const AREAS = [
  commonMessages,
  signinMessages,
  consentMessages,
  logoutMessages,
  errorsMessages,
  mailMessages,
  accountMessages,
  passkeysMessages,
  recoveryMessages,
  mfaMessages,
  deviceMessages,
] as const;

type AreaKeys<A> = A extends { en: infer E } ? keyof E : never;
export type MessageKey = AreaKeys<(typeof AREAS)[number]>;

export const CATALOGUE: Record<Locale, Record<string, string>> = {
  en: Object.assign({}, ...AREAS.map((area) => area.en)),
  de: Object.assign({}, ...AREAS.map((area) => area.de)),
};

/** `t('area.key', { name: 'x' })`: the string in the page's language with `{name}` filled in (text, not HTML). */
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const messages = CATALOGUE[locale];
  const fallback = CATALOGUE[DEFAULT_LOCALE];
  return (key, vars) => {
    const template = messages[key] ?? fallback[key] ?? key;
    return vars ? template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : template;
  };
}
