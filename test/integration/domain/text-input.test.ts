import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { placeOrder } from '../../../src/domain/orders/order-service.js';
import { getCallerProfile, updateProfile } from '../../../src/domain/profile/profile-service.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { userPrincipal } from '../../fixtures/principals.js';
import { rejection, requestDeps, setStock, snapshot } from '../../fixtures/domain.js';

const BAD_TEXT: ReadonlyArray<[string, string]> = [
  ['a right-to-left override', '\u202egnp.exe'],
  ['a zero-width space', 'Ada\u200bLovelace'],
  ['a line separator', 'Ada\u2028Lovelace'],
  ['a lone surrogate', '\ud800abc'],
];

describe.each(databaseTargets())('text inputs on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(target);
    await setStock(database.db, 1, 100);
  });
  afterAll(() => database.cleanup());

  const storedProfile = (subject: string) =>
    database.db.selectFrom('profiles').select(['display_name', 'email']).where('subject', '=', subject).executeTakeFirstOrThrow();

  it.each(BAD_TEXT)('refuses a display name with %s and writes nothing', async (_name, displayName) => {
    const principal = userPrincipal('bidi-display', { name: 'Plain Name' });
    await getCallerProfile(requestDeps(database.db), principal);
    const before = await snapshot(database.db);
    const error = await rejection(updateProfile(requestDeps(database.db), principal, { displayName, email: 'ok@example.com' }));
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.displayName' } });
    expect(await snapshot(database.db)).toEqual(before);
    expect(await storedProfile('bidi-display')).toEqual({ display_name: 'Plain Name', email: null });
  });

  it('stores a decomposed display name as NFC, and reads the same string back', async () => {
    const principal = userPrincipal('decomposed');
    const updated = await updateProfile(requestDeps(database.db), principal, { displayName: 'Ren\u0065\u0301e' });
    expect(updated.display_name).toBe('Ren\u00e9e');
    expect((await storedProfile('decomposed')).display_name).toBe('Ren\u00e9e');
  });

  it.each(BAD_TEXT)('refuses an idempotency key with %s and writes nothing', async (_name, text) => {
    const principal = userPrincipal('bidi-key');
    await getCallerProfile(requestDeps(database.db), principal);
    const before = await snapshot(database.db);
    const error = await rejection(placeOrder(requestDeps(database.db), principal, { items: [{ productId: 1, quantity: 1 }], idempotencyKey: `checkout-${text}` }));
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' } });
    expect(await snapshot(database.db)).toEqual(before);
  });

  it('stores an idempotency key as NFC, so the composed and decomposed spellings are one key', async () => {
    const principal = userPrincipal('nfc-key');
    const first = await placeOrder(requestDeps(database.db), principal, { items: [{ productId: 1, quantity: 1 }], idempotencyKey: 'caf\u0065\u0301' });
    const again = await placeOrder(requestDeps(database.db), principal, { items: [{ productId: 1, quantity: 1 }], idempotencyKey: 'caf\u00e9' });
    expect(first.order.idempotency_key).toBe('caf\u00e9');
    expect(again).toMatchObject({ created: false, order: { id: first.order.id } });
    const stored = await database.db.selectFrom('orders').select('idempotency_key').where('id', '=', first.order.id).executeTakeFirstOrThrow();
    expect(stored.idempotency_key).toBe('caf\u00e9');
  });

  it('cleans a new profile’s name claim instead of storing invisible or ill-formed text', async () => {
    const profile = await getCallerProfile(requestDeps(database.db), userPrincipal('claimed', { name: '\u202eAd\u200ba\ud800 Jose\u0301' }));
    expect(profile.display_name).toBe('Ada Jos\u00e9');
    expect((await storedProfile('claimed')).display_name).toBe('Ada Jos\u00e9');
  });
});
