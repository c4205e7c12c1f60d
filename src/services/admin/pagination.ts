/** One page of a listing: the admin API answers `{ items, total, limit, offset }`. */
export interface PageRequest {
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}
