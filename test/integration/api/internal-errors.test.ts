import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';

import { toGlobalId } from '../../../src/graphql/global-id.js';
import { type TestApi, createTestApi } from '../../fixtures/api.js';
import { type TestDatabase, databaseTargets, openTestDatabase } from '../../fixtures/databases.js';
import { type CapturingLogger, capturingLogger } from '../../fixtures/logs.js';
import { userPrincipal } from '../../fixtures/principals.js';

const buyer = userPrincipal('unlucky', { scopes: ['read:profile', 'write:profile', 'read:orders', 'write:orders'], name: 'Unlucky' });

// A fault the API cannot turn into a domain answer (here: a table gone from under it, so the
// driver itself fails): the client learns nothing about it, the log learns everything once.
describe.each(databaseTargets())('internal errors on $name', (target) => {
  let database: TestDatabase;
  let api: TestApi;
  let log: CapturingLogger;

  beforeAll(async () => {
    database = await openTestDatabase(target);
    log = capturingLogger();
    api = await createTestApi(database, 'filter', log);
    await sql`alter table order_items rename to order_items_gone`.execute(database.db);
  });
  afterAll(async () => {
    await api?.stop();
    await database?.cleanup();
  });

  const errorLines = () => log.lines.filter((l) => l.level === 'error');

  it('answers a driver failure with a bare INTERNAL_SERVER_ERROR and logs it once at error with the request id and cause', async () => {
    log.lines.length = 0;
    const r = await api.run(
      'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }',
      { principal: buyer, requestId: 'req-driver-failure', variables: { input: { items: [{ productId: toGlobalId('Product', 1), quantity: 1 }] } } },
    );

    expect(r.errors).toEqual([{ message: 'Internal server error', path: ['placeOrder'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(errorLines()).toHaveLength(1);
    const [line] = errorLines();
    expect(line?.fields).toMatchObject({ reqId: 'req-driver-failure', path: 'placeOrder' });
    // Under jest, better-sqlite3's errors may come from another test file's realm (its native
    // binding keeps the first SqliteError class it was given); graphql-js then wraps one that is
    // not `instanceof Error` as "Unexpected error value: { code: 'SQLITE_ERROR' }". One realm in a server.
    expect(String((line?.fields['err'] as Error | undefined)?.message)).toMatch(/order_items|SQLITE_ERROR/);
  });

  it('logs no error line for a domain error the client can act on', async () => {
    log.lines.length = 0;
    const r = await api.run('mutation { updateProfile(input: { displayName: "" }) { displayName } }', { principal: buyer, requestId: 'req-bad-input' });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.displayName' });
    expect(errorLines()).toEqual([]);
  });
});
