import {
  InvalidRequest,
  RequestNotSupported,
  RequestUriNotSupported,
  UnauthorizedClient,
  UnsupportedResponseType,
} from '../../../errors/oauth-errors.js';
import { RESOURCE_PARAMS, singleParams } from '../../../http/params.js';
import { MAX_PARAMETER_LENGTH, type AuthorizeStep } from './authorize-context.js';

/**
 * RFC 6749 section 3.1: request parameters must not be included more than once; `resource` may be
 * (RFC 8707 section 2), and checkResource reads it from `raw`.
 */
export const checkDuplicateParameters: AuthorizeStep = (c) => {
  c.params = singleParams(c.raw, RESOURCE_PARAMS);
};

/**
 * What is left of `request` and `request_uri` once unpackRequest and loadPushedRequest have replaced the
 * parameters: with REQUEST_OBJECTS_ENABLED=false a request object is refused explicitly (OIDC Core section 6),
 * never ignored. A request_uri is accepted only as a pushed request's (a pushed request never holds one: RFC
 * 9126 section 2.1); with PAR_ENABLED=false it is not supported.
 */
export const checkRequestObject: AuthorizeStep = (c) => {
  if (c.params.request !== undefined) throw new RequestNotSupported('the request parameter is not supported');
  if (c.params.request_uri !== undefined) {
    if (c.mode === 'push') throw new InvalidRequest('request_uri must not be pushed (RFC 9126 section 2.1)');
    throw new RequestUriNotSupported('the request_uri parameter is not supported');
  }
};

/** OAuth 2.1 keeps only the code flow. */
export const checkResponseType: AuthorizeStep = (c) => {
  const responseType = c.params.response_type;
  if (responseType === undefined) throw new InvalidRequest('response_type is required');
  if (responseType !== 'code') throw new UnsupportedResponseType('only response_type=code is supported');
  if (!c.client!.responseTypes.includes('code') || !c.client!.grantTypes.includes('authorization_code')) {
    throw new UnauthorizedClient('this client may not use the authorization code flow');
  }
};

export const checkResponseMode: AuthorizeStep = (c) => {
  const mode = c.params.response_mode;
  if (mode !== undefined && mode !== 'query' && mode !== 'form_post') {
    throw new InvalidRequest('response_mode must be query or form_post');
  }
};

export const checkLengths: AuthorizeStep = (c) => {
  for (const name of ['state', 'nonce', 'login_hint', 'scope', 'ui_locales', 'acr_values']) {
    if ((c.params[name]?.length ?? 0) > MAX_PARAMETER_LENGTH) throw new InvalidRequest(`${name} is too long`);
  }
  c.request.nonce = c.params.nonce;
  c.request.loginHint = c.params.login_hint;
  // OIDC Core section 3.1.2.1: both are space-separated lists in order of preference; unknown values are
  // not errors (the pages fall back to another language; acr_values are voluntary claims).
  if (c.params.ui_locales) c.request.uiLocales = c.params.ui_locales;
  const acrValues = (c.params.acr_values ?? '').split(' ').filter(Boolean);
  if (acrValues.length > 0) c.request.acrValues = acrValues;
};

const KNOWN_PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

/** OIDC Core section 3.1.2.1: prompt=none must stand alone; max_age is a non-negative integer. */
export const checkPromptAndMaxAge: AuthorizeStep = (c) => {
  const prompt = (c.params.prompt ?? '').split(' ').filter(Boolean);
  if (prompt.includes('none') && prompt.length > 1) {
    throw new InvalidRequest('prompt=none cannot be combined with other values');
  }
  // select_account has no account chooser here: the current account is used, as the spec allows (an OP
  // that cannot prompt for an account may use the one signed in). prompt=none select_account is refused
  // above as invalid_request, like every combination with none. Unknown values are ignored.
  c.request.prompt = prompt.filter((p) => KNOWN_PROMPTS.has(p) && p !== 'select_account');
  const maxAge = c.params.max_age;
  if (maxAge !== undefined) {
    if (!/^\d{1,9}$/.test(maxAge)) throw new InvalidRequest('max_age must be a non-negative integer');
    c.request.maxAge = Number(maxAge);
  }
};
