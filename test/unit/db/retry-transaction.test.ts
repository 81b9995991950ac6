import { describe, expect, it } from '@jest/globals';

import { isTransientTransactionError, retryTransaction } from '../../../src/db/retry-transaction.js';

const coded = (code: string) => Object.assign(new Error(`driver error ${code}`), { code });

/** A transaction that fails with `failures` in turn, then returns 'done'; and the backoffs it was given. */
function scripted(failures: readonly Error[]) {
  const sleeps: number[] = [];
  let runs = 0;
  return {
    sleeps,
    runs: () => runs,
    run: async () => {
      const failure = failures[runs];
      runs += 1;
      if (failure !== undefined) throw failure;
      return 'done';
    },
    sleep: async (ms: number) => void sleeps.push(ms),
  };
}

describe('isTransientTransactionError', () => {
  it.each(['40P01', '40001', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT'])('treats %s as a lost race worth retrying', (code) => {
    expect(isTransientTransactionError(coded(code))).toBe(true);
  });

  it.each(['23505', '23503', 'SQLITE_CONSTRAINT_UNIQUE', '57P01'])('does not retry %s', (code) => {
    expect(isTransientTransactionError(coded(code))).toBe(false);
  });

  it('does not retry errors without a code, or values that are not errors', () => {
    expect(isTransientTransactionError(new Error('boom'))).toBe(false);
    expect(isTransientTransactionError('40P01')).toBe(false);
    expect(isTransientTransactionError(null)).toBe(false);
  });
});

describe('retryTransaction', () => {
  it('runs the transaction again after a deadlock and returns its result', async () => {
    const tx = scripted([coded('40P01'), coded('40001')]);
    await expect(retryTransaction(tx.run, { sleep: tx.sleep, random: () => 0.5 })).resolves.toBe('done');
    expect(tx.runs()).toBe(3);
  });

  it('backs off with jitter below a bound that doubles per retry and is capped', async () => {
    const tx = scripted([coded('40P01'), coded('40P01'), coded('40P01'), coded('40P01')]);
    await retryTransaction(tx.run, { attempts: 5, baseDelayMs: 10, maxDelayMs: 25, sleep: tx.sleep, random: () => 0.999 });
    expect(tx.sleeps).toEqual([9, 19, 24, 24]);
    const none = scripted([coded('40P01')]);
    await retryTransaction(none.run, { sleep: none.sleep, random: () => 0 });
    expect(none.sleeps).toEqual([0]);
  });

  it('gives up after the given number of runs, throwing the last transient error', async () => {
    const last = coded('40P01');
    const tx = scripted([coded('40P01'), coded('40P01'), last, coded('40P01')]);
    await expect(retryTransaction(tx.run, { attempts: 3, sleep: tx.sleep })).rejects.toBe(last);
    expect(tx.runs()).toBe(3);
  });

  it('throws any other error at once, without running again', async () => {
    const unique = coded('23505');
    const tx = scripted([unique]);
    await expect(retryTransaction(tx.run, { sleep: tx.sleep })).rejects.toBe(unique);
    expect(tx.runs()).toBe(1);
    expect(tx.sleeps).toEqual([]);
  });

  it('refuses a number of attempts that is not a positive integer', async () => {
    await expect(retryTransaction(async () => 1, { attempts: 0 })).rejects.toThrow(/attempts/);
  });
});
