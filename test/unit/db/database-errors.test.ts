import { describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable } from '../../../src/db/database-errors.js';
import { isTransientTransactionError } from '../../../src/db/retry-transaction.js';

const coded = (code: string, message = 'driver error') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each(['57P01', '57P02', '57P03', '53300', '57014', '08006', '08001', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'SQLITE_BUSY', 'SQLITE_LOCKED'])('treats %s as the database being unavailable', (code) => {
    expect(isDatabaseUnavailable(coded(code))).toBe(true);
  });

  it.each(['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'Query read timeout', 'Client has encountered a connection error and is not queryable'])(
    'treats node-postgres failure "%s" as the database being unavailable',
    (message) => {
      expect(isDatabaseUnavailable(new Error(message))).toBe(true);
    },
  );

  it.each(['23505', '23503', '40P01', '40001', '42P01', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_BUSY_SNAPSHOT'])('leaves %s to its own handling (a wrong statement or a lost race)', (code) => {
    expect(isDatabaseUnavailable(coded(code))).toBe(false);
  });

  it('leaves the stale-snapshot race to the transaction retry', () => {
    expect(isTransientTransactionError(coded('SQLITE_BUSY_SNAPSHOT'))).toBe(true);
  });

  it('is false for values that are not errors', () => {
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});
