import { ClientMetadataRefused } from '../../../errors/client-metadata-errors.js';
import { lookupClient } from '../../../services/client-lookup.js';
import { onlyValue, UntrustedRedirectError, type AuthorizeStep } from './authorize-context.js';

export const checkClient: AuthorizeStep = async (c) => {
  const clientId = onlyValue(c.raw, 'client_id');
  if (clientId === undefined) throw new UntrustedRedirectError('The request has no client_id.');
  if (clientId === 'repeated') throw new UntrustedRedirectError('The client_id parameter is repeated.');
  let client;
  try {
    client = await lookupClient(c.services, clientId);
  } catch (err) {
    // A metadata document that cannot be used leaves the client unverified: its redirect URIs are unknown.
    if (err instanceof ClientMetadataRefused) throw new UntrustedRedirectError(`The application could not be verified. ${err.description}`);
    throw err;
  }
  if (!client || !client.isActive) throw new UntrustedRedirectError('The application is unknown.');
  c.client = client;
  c.request.clientId = client.clientId;
};
