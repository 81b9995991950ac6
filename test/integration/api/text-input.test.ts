import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { toGlobalId } from '../../../src/graphql/global-id.js';
import { type TestApi, createTestApi } from '../../fixtures/api.js';
import { type TestDatabase, databaseTargets, openTestDatabase } from '../../fixtures/databases.js';
import { userPrincipal } from '../../fixtures/principals.js';

const user = userPrincipal('texter', { scopes: ['read:profile', 'write:profile', 'read:orders', 'write:orders'], name: 'Texter' });

// What a client sends as JSON variables ("\u202e", "\ud800" are valid JSON escapes) arrives as such strings.
describe.each(databaseTargets())('text rules through the API on $name', (target) => {
  let database: TestDatabase;
  let api: TestApi;
  beforeAll(async () => {
    database = await openTestDatabase(target);
    api = await createTestApi(database);
  });
  afterAll(async () => {
    await api?.stop();
    await database?.cleanup();
  });

  it('refuses a bidi override in updateProfile with BAD_USER_INPUT naming input.displayName', async () => {
    const r = await api.run('mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { displayName } }', {
      principal: user,
      variables: { input: { displayName: '\u202egnp.exe' } },
    });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.displayName' });
    expect((await api.run('{ me { displayName } }', { principal: user })).data).toEqual({ me: { displayName: 'Texter' } });
  });

  it('refuses a lone surrogate in placeOrder’s idempotency key with BAD_USER_INPUT naming input.idempotencyKey', async () => {
    const r = await api.run('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }', {
      principal: user,
      variables: { input: { items: [{ productId: toGlobalId('Product', 1), quantity: 1 }], idempotencyKey: '\ud800abc' } },
    });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' });
  });

  it('answers an ID carrying invisible characters as a malformed ID', async () => {
    const r = await api.run('query ($id: ID!) { order(id: $id) { id } }', { principal: user, variables: { id: `${toGlobalId('Order', 1)}\u200b` } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});
