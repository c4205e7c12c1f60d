import { describe, expect, it } from 'vitest';
import { StorageUnavailable, storageFault } from '../../../src/errors/storage-errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

/** SQLSTATEs from PostgreSQL Appendix A, errnos from Node's net module, messages from node-postgres 8. */
describe('storageFault: database errors by class', () => {
  it.each([
    ['ECONNREFUSED', 'unavailable'],
    ['ECONNRESET', 'unavailable'],
    ['ETIMEDOUT', 'unavailable'],
    ['EPIPE', 'unavailable'],
    ['08000', 'unavailable'],
    ['08003', 'unavailable'],
    ['08006', 'unavailable'],
    ['08P01', 'unavailable'],
    ['57P01', 'unavailable'],
    ['57P02', 'unavailable'],
    ['57P03', 'unavailable'],
    ['53300', 'unavailable'],
    ['40001', 'conflict'],
    ['40P01', 'conflict'],
    ['55P03', 'busy'],
    ['57014', 'busy'],
    ['22001', 'invalid_input'],
    ['22021', 'invalid_input'],
  ])('%s is %s', (code, kind) => {
    expect(storageFault(withCode(code))).toMatchObject({ kind, code });
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'Cannot use a pool after calling end on the pool',
  ])('node-postgres "%s" is unavailable', (message) => {
    expect(storageFault(new Error(message))).toMatchObject({ kind: 'unavailable', code: 'connection' });
  });

  it('a driver-typed StorageUnavailable is unavailable', () => {
    expect(storageFault(new StorageUnavailable('closed'))).toMatchObject({ kind: 'unavailable' });
  });

  it('the 503 kinds carry a Retry-After', () => {
    for (const code of ['08006', '40001', '55P03']) expect(storageFault(withCode(code))!.retryAfterSeconds).toBeGreaterThan(0);
  });

  it.each([
    ['23505 unique violation (repositories map it)', withCode('23505')],
    ['42P01 undefined table (a bug)', withCode('42P01')],
    ['42601 syntax error (a bug)', withCode('42601')],
    ['a plain error', new Error('boom')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ])('%s is not a storage fault', (_name, err) => {
    expect(storageFault(err)).toBeUndefined();
  });
});
