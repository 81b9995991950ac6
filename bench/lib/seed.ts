/**
 * The benchmark's data set, the same in every server process: the demo catalog extended to
 * 200 products, 2 users with 50 orders of 3 items each, and (for the "many users" workload)
 * 1,000 more users with 20 orders each, all placed through the domain's `placeOrder`, so rows are
 * exactly what the product writes.
 */
import type { Kysely } from 'kysely';
import type { UserPrincipal } from '../../src/auth/principal.js';
import type { DatabaseSchema } from '../../src/db/database-schema.js';
import { DEV_CLIENT_ID } from '../../src/dev-issuer/dev-issuer.js';
import { placeOrder } from '../../src/domain/orders/order-service.js';
import { createCursorCodec } from '../../src/domain/cursor-codec.js';
import { createRequestDeps } from '../../src/domain/request-deps.js';

export const PRODUCT_COUNT = 200;
export const ORDERS_PER_USER = 50;
export const ITEMS_PER_ORDER = 3;

/** The users whose tokens the benchmark sends; the queries read the first one's data. */
export const BENCH_USERS = [
  { subject: 'bench-user-1', name: 'Bench User 1' },
  { subject: 'bench-user-2', name: 'Bench User 2' },
] as const;

/** The "many users" workload's users (Q2 round-robin over all of them, one token each). */
export const MANY_USERS = 1_000;
export const MANY_USER_ORDERS = 20;

export function manyUser(i: number): { readonly subject: string; readonly name: string } {
  return { subject: `bench-many-${i + 1}`, name: `Bench Many User ${i + 1}` };
}

export const MANY_USER_NAMES: ReadonlySet<string> = new Set(Array.from({ length: MANY_USERS }, (_, i) => manyUser(i).name));

/** The principal of a bench user as the project builds it from a development token (or as the baseline fixes it). */
export function benchPrincipal(issuer: string, user: { readonly subject: string; readonly name: string }, scopes: readonly string[]): UserPrincipal {
  return Object.freeze({
    kind: 'user',
    subject: user.subject,
    issuer,
    clientId: DEV_CLIENT_ID,
    scopes: new Set(scopes),
    audience: [],
    expiresAt: undefined,
    tokenId: undefined,
    acr: undefined,
    authTime: undefined,
    name: user.name,
  });
}

export interface SeedOptions {
  /** Also the {@link MANY_USERS} users of the "many users" workload (about 9 s on SQLite, 80 s on PostgreSQL: only the servers that run it). */
  readonly manyUsers?: boolean;
}

/**
 * Adds products up to {@link PRODUCT_COUNT} (after the demo catalog, with ample stock) and
 * {@link ORDERS_PER_USER} orders of {@link ITEMS_PER_ORDER} of them for each bench user (and, with
 * `manyUsers`, {@link MANY_USER_ORDERS} for each of the many users), whose
 * profiles belong to `issuer`. Expects a migrated database holding only the demo catalog.
 */
export async function seedBenchData(db: Kysely<DatabaseSchema>, issuer: string, options: SeedOptions = {}): Promise<void> {
  const manyUsers = options.manyUsers === true ? MANY_USERS : 0;
  const { count } = await db.selectFrom('products').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const existing = Number(count);
  if (existing > PRODUCT_COUNT) throw new Error(`the catalog already has ${existing} products`);
  const now = new Date().toISOString();
  const added = Array.from({ length: PRODUCT_COUNT - existing }, (_, i) => {
    const n = existing + i + 1;
    return {
      name: `Bench Product ${n}`,
      description: `Product ${n}, added by the HTTP benchmark's seed.`,
      price_minor: 500 + ((n * 137) % 9000),
      currency: 'USD',
      stock: 1_000_000,
      created_at: now,
      updated_at: now,
    };
  });
  if (added.length > 0) await db.insertInto('products').values(added).execute();

  // Orders use the added products only: their stock never runs out, and the demo catalog (with
  // its deliberately out-of-stock items) answers the public query unchanged.
  const ids = (await db.selectFrom('products').select('id').where('id', '>', existing).orderBy('id').execute()).map((r) => r.id);
  if (ids.length < ITEMS_PER_ORDER) throw new Error('too few bench products to place orders');
  const cursors = createCursorCodec();
  let placed = 0;
  const place = async (user: { readonly subject: string; readonly name: string }, orders: number) => {
    const principal = benchPrincipal(issuer, user, ['read:profile', 'read:orders', 'write:orders']);
    for (let j = 0; j < orders; j++) {
      const base = placed++ * ITEMS_PER_ORDER;
      const items = Array.from({ length: ITEMS_PER_ORDER }, (_, k) => ({ productId: ids[(base + k) % ids.length]!, quantity: 1 + ((j + k) % 3) }));
      await placeOrder(createRequestDeps(db, { cursors }), principal, { items, idempotencyKey: null });
    }
  };
  for (const user of BENCH_USERS) await place(user, ORDERS_PER_USER);
  for (let i = 0; i < manyUsers; i++) await place(manyUser(i), MANY_USER_ORDERS);

  const total = async (table: 'products' | 'orders' | 'order_items') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const [products, orders, items] = [await total('products'), await total('orders'), await total('order_items')];
  const allOrders = BENCH_USERS.length * ORDERS_PER_USER + manyUsers * MANY_USER_ORDERS;
  const expected = [PRODUCT_COUNT, allOrders, allOrders * ITEMS_PER_ORDER];
  if (products !== expected[0] || orders !== expected[1] || items !== expected[2]) {
    throw new Error(`bench seed: expected ${expected.join('/')} products/orders/items, found ${products}/${orders}/${items}`);
  }
}
