/**
 * Shared set-up for the authorization matrix and bypass tests (not a test file itself):
 * a fresh database with two users, each with a profile (with an email) and an order
 * with items, plus small helpers to read responses and to prove that nothing was written.
 */
import type { Principal } from '../../../src/auth/principal.js';
import type { AuthorizationMode } from '../../../src/config.js';
import type { Logger } from '../../../src/logger.js';
import { toGlobalId } from '../../../src/graphql/global-id.js';
import { type ApiResult, type TestApi, createTestApi } from '../../fixtures/api.js';
import { type DatabaseTarget, type TestDatabase, openTestDatabase } from '../../fixtures/databases.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';

/** Every scope a user token can carry in this API except admin:orders. */
export const USER_SCOPES = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders'] as const;

export const PLACE_ORDER = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';

export interface AuthorizationFixture {
  readonly database: TestDatabase;
  readonly api: TestApi;
  /** Global IDs of the seeded objects. */
  readonly ids: {
    readonly aliceOrder: string;
    readonly aliceProfile: string;
    readonly bobOrder: string;
    readonly bobProfile: string;
    /** Valid global IDs of objects that do not exist. */
    readonly missingOrder: string;
    readonly missingProfile: string;
    readonly product: string;
  };
  /** A user principal acting for alice (same issuer and subject: same profile) with these scopes. */
  alice(scopes: readonly string[]): Principal;
  bob(scopes: readonly string[]): Principal;
  /** A client acting for itself (client credentials). */
  client(scopes: readonly string[]): Principal;
  /** Places a fresh PENDING order for alice (one item of product 1) and returns its global ID. */
  placeAliceOrder(): Promise<string>;
  /** Every row that a mutation could change, in a comparable form. */
  snapshot(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function openAuthorizationFixture(target: DatabaseTarget): Promise<AuthorizationFixture> {
  const database = await openTestDatabase(target);
  const api = await createTestApi(database);
  // Plenty of stock: the matrix places many orders.
  await database.db.updateTable('products').set({ stock: 100_000 }).execute();

  const alice = (scopes: readonly string[]) => userPrincipal('alice', { scopes, name: 'Alice' });
  const bob = (scopes: readonly string[]) => userPrincipal('bob', { scopes, name: 'Bob' });
  const client = (scopes: readonly string[]) => clientPrincipal('backoffice', { scopes });

  const mustSucceed = (r: ApiResult, what: string): Record<string, unknown> => {
    if (r.errors !== undefined || r.data == null) throw new Error(`${what} failed: ${JSON.stringify(r)}`);
    return r.data;
  };
  const place = async (principal: Principal, productIds: number[]): Promise<string> => {
    const r = await api.run(PLACE_ORDER, {
      principal,
      variables: { input: { items: productIds.map((id, i) => ({ productId: toGlobalId('Product', id), quantity: i + 1 })) } },
    });
    return (mustSucceed(r, 'placeOrder')['placeOrder'] as { orderId: string }).orderId;
  };

  mustSucceed(
    await api.run('mutation { updateProfile(input: { email: "alice@example.com" }) { id } }', { principal: alice(USER_SCOPES) }),
    'updateProfile',
  );
  mustSucceed(
    await api.run('mutation { updateProfile(input: { email: "bob@example.com" }) { id } }', { principal: bob(USER_SCOPES) }),
    'updateProfile',
  );
  const aliceOrder = await place(alice(USER_SCOPES), [1, 2]);
  const bobOrder = await place(bob(USER_SCOPES), [3]);
  const profileId = async (principal: Principal) => ((mustSucceed(await api.run('{ me { id } }', { principal }), 'me')['me'] as { id: string }).id);
  const ids = {
    aliceOrder,
    aliceProfile: await profileId(alice(USER_SCOPES)),
    bobOrder,
    bobProfile: await profileId(bob(USER_SCOPES)),
    missingOrder: toGlobalId('Order', 987_654),
    missingProfile: toGlobalId('Profile', 987_654),
    product: toGlobalId('Product', 1),
  };

  const snapshot = async () => {
    const db = database.db;
    const [orders, items, profiles, products] = await Promise.all([
      db.selectFrom('orders').select(['id', 'customer_id', 'status', 'total_minor', 'updated_at']).orderBy('id').execute(),
      db.selectFrom('order_items').select(['id', 'order_id', 'quantity']).orderBy('id').execute(),
      db.selectFrom('profiles').select(['id', 'subject', 'display_name', 'email', 'updated_at']).orderBy('id').execute(),
      db.selectFrom('products').select(['id', 'stock']).orderBy('id').execute(),
    ]);
    return JSON.stringify({ orders, items, profiles, products });
  };

  return {
    database,
    api,
    ids,
    alice,
    bob,
    client,
    placeAliceOrder: () => place(alice(USER_SCOPES), [1]),
    snapshot,
    cleanup: async () => {
      await api.stop();
      await database.cleanup();
    },
  };
}

/** A response path without list indices: `me.orders.edges.node.id`. */
export function pathKey(path: ReadonlyArray<string | number> | undefined): string {
  return (path ?? []).filter((p) => typeof p === 'string').join('.');
}

/**
 * Every value found at `keys` below `data`, descending through lists; `undefined` marks a
 * position that is absent (an ancestor was null).
 */
export function valuesAt(data: unknown, keys: readonly string[]): unknown[] {
  if (keys.length === 0) return [data];
  if (Array.isArray(data)) return data.flatMap((item) => valuesAt(item, keys));
  if (data === null || data === undefined || typeof data !== 'object') return [undefined];
  const [head, ...rest] = keys;
  return valuesAt((data as Record<string, unknown>)[head!], rest);
}

/** One structured log line: the object pino would receive, plus the message. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface LoggedApi {
  run(query: string, options: { principal: Principal; variables?: Record<string, unknown> }): Promise<ApiResult>;
  /** Every line logged through the request loggers since the API was created (or cleared). */
  readonly lines: LogLine[];
  stop(): Promise<void>;
}

/**
 * Like createTestApi, with a logger that keeps every line, to check the denial log
 * ("every denial is logged as one structured line").
 */
export async function createLoggedApi(database: TestDatabase, mode: AuthorizationMode): Promise<LoggedApi> {
  const lines: LogLine[] = [];
  const logger: Logger = {
    info: (obj, msg) => void lines.push({ ...obj, level: 'info', msg }),
    warn: (obj, msg) => void lines.push({ ...obj, level: 'warn', msg }),
    error: (obj, msg) => void lines.push({ ...obj, level: 'error', msg }),
    child: () => logger,
  };
  const api = await createTestApi(database, mode, logger);
  return { lines, run: (query, { principal, variables }) => api.run(query, { principal, variables }), stop: () => api.stop() };
}
