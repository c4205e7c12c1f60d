/** A validated authorization request (the output of src/routes/authorize/steps), stored with interactions. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  responseMode: 'query' | 'form_post';
  scopes: string[];
  /** Canonical identifiers of the requested resources (RFC 8707), each registered and allowed for the client. */
  resources?: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
  prompt: string[];
  maxAge?: number;
  loginHint?: string;
  /** OIDC Core section 3.1.2.1 ui_locales, as sent: the pages of the sign-in use its first supported tag. */
  uiLocales?: string;
  /** OIDC Core section 3.1.2.1 acr_values, in order of preference. */
  acrValues?: string[];
  /** The sub of a verified id_token_hint: the end-user the client expects (OIDC Core section 3.1.2.1). */
  idTokenHintSub?: string;
  /** RFC 9449 section 10: the thumbprint of the DPoP key the code is bound to. */
  dpopJkt?: string;
  /**
   * RFC 8628: the device authorization this sign-in approves (the /device page started it). Its end is then
   * no code sent to redirectUri (the /device page itself) but the device's request approved or denied.
   */
  deviceAuthorizationId?: string;
}

/** Authorization response parameters (a code, or an error) plus RFC 9207 iss. */
export type AuthorizationResponseParams = Record<string, string>;
