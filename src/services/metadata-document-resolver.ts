import type { Client } from '../repositories/clients-repository.js';
import type { OutboundFetcher } from './outbound-fetch.js';

/** Per process: the fetcher (per-host bound) and the fetches in flight, so concurrent lookups share one. */
export class MetadataDocumentResolver {
  readonly inflight = new Map<string, Promise<Client>>();

  constructor(readonly fetcher: OutboundFetcher) {}
}
