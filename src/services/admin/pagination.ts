import type { PageKey } from '../../lib/page-key.js';
import type { KeysetPage } from '../../repositories/keyset.js';

/**
 * One page of a listing (keyset, not offset): at most `limit` items after `cursor`, the sort key of the
 * last item of the page before. The admin API answers `{ items, limit, next_cursor }`.
 */
export interface PageRequest {
  limit: number;
  cursor?: PageKey | undefined;
}

export type Page<T> = KeysetPage<T>;
