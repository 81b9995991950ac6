/**
 * What a user of plain Apollo Server or of Mercurius writes instead of the project's data layer,
 * shared by the benchmark's two peers (`bench/lib/peers.ts`): better-sqlite3 opened on the same
 * seeded file, its own SQL (prepared once), DataLoaders per request for order items and products,
 * and resolvers for the fields the benchmark's queries read. Nothing of src/ on the request path.
 */
import Database from 'better-sqlite3';
import DataLoader from 'dataloader';

type Row = Record<string, unknown>;

export interface PlainData {
  /** Fresh loaders for one request. */
  loaders(): PlainLoaders;
  profile(issuer: string | undefined, subject: string): Row | undefined;
  orders(customerId: unknown, first: number): Row[];
  productPage(first: number): Row[];
  close(): void;
}

export interface PlainLoaders {
  readonly items: DataLoader<number, Row[]>;
  readonly products: DataLoader<number, Row | undefined>;
}

export interface PlainContext {
  readonly data: PlainData;
  readonly loaders: PlainLoaders;
  /** The caller: a fixed user (plain Apollo, no authentication) or the verified token's (Mercurius). */
  readonly user: { readonly issuer: string | undefined; readonly subject: string; readonly isUser: boolean } | undefined;
}

export function openPlainData(filename: string): PlainData {
  const db = new Database(filename);
  const byIn = (sql: (marks: string) => string) => {
    const statements = new Map<number, Database.Statement>();
    return (ids: readonly number[]) => {
      let statement = statements.get(ids.length);
      if (statement === undefined) {
        statement = db.prepare(sql(ids.map(() => '?').join(',')));
        statements.set(ids.length, statement);
      }
      return statement.all(...ids) as Row[];
    };
  };
  const itemsOf = byIn((marks) => `SELECT order_id, product_id, quantity, unit_price_minor, currency FROM order_items WHERE order_id IN (${marks}) ORDER BY order_id, position`);
  const productsOf = byIn((marks) => `SELECT id, name, price_minor, currency, stock FROM products WHERE id IN (${marks})`);
  const profileBySubject = db.prepare('SELECT id, display_name FROM profiles WHERE subject = ?');
  const profileByIssuerSubject = db.prepare('SELECT id, display_name FROM profiles WHERE issuer = ? AND subject = ?');
  const ordersOf = db.prepare('SELECT id, status, total_minor, currency FROM orders WHERE customer_id = ? ORDER BY placed_at DESC, id DESC LIMIT ?');
  const productPage = db.prepare('SELECT id, name, price_minor, currency, stock FROM products ORDER BY id LIMIT ?');
  return {
    loaders: () => ({
      items: new DataLoader(async (ids) => {
        const byOrder = new Map<number, Row[]>(ids.map((id) => [id, []]));
        for (const row of itemsOf(ids)) byOrder.get(row['order_id'] as number)!.push(row);
        return ids.map((id) => byOrder.get(id)!);
      }),
      products: new DataLoader(async (ids) => {
        const byId = new Map(productsOf(ids).map((row) => [row['id'] as number, row]));
        return ids.map((id) => byId.get(id));
      }),
    }),
    profile: (issuer, subject) => (issuer === undefined ? profileBySubject.get(subject) : profileByIssuerSubject.get(issuer, subject)) as Row | undefined,
    orders: (customerId, first) => ordersOf.all(customerId, first) as Row[],
    productPage: (first) => productPage.all(first) as Row[],
    close: () => db.close(),
  };
}

const money = (minor: unknown, currency: unknown) => ({ amount: ((minor as number) / 100).toFixed(2), currency });
const globalId = (type: string, id: unknown) => Buffer.from(`${type}:${String(id)}`).toString('base64');

/** Resolvers for the project's SDL (its directives ignored, or enforced by mercurius-auth). */
export const plainResolvers = {
  Query: {
    me: (_: unknown, __: unknown, context: PlainContext) => {
      if (context.user === undefined || !context.user.isUser) return null;
      return context.data.profile(context.user.issuer, context.user.subject) ?? null;
    },
    products: (_: unknown, args: { first?: number }, context: PlainContext) => ({
      edges: context.data.productPage(Math.min(args.first ?? 20, 100)).map((node) => ({ cursor: globalId('Product', node['id']), node })),
      pageInfo: { hasNextPage: true, endCursor: null },
    }),
  },
  Node: { __resolveType: () => null },
  Profile: {
    id: (p: Row) => globalId('Profile', p['id']),
    displayName: (p: Row) => p['display_name'],
    orders: (p: Row, args: { first?: number }, context: PlainContext) => ({
      edges: context.data.orders(p['id'], Math.min(args.first ?? 20, 100)).map((node) => ({ cursor: globalId('Order', node['id']), node })),
      pageInfo: { hasNextPage: false, endCursor: null },
    }),
  },
  Order: {
    id: (o: Row) => globalId('Order', o['id']),
    total: (o: Row) => money(o['total_minor'], o['currency']),
    items: (o: Row, _: unknown, context: PlainContext) => context.loaders.items.load(o['id'] as number),
  },
  OrderItem: {
    unitPrice: (i: Row) => money(i['unit_price_minor'], i['currency']),
    product: (i: Row, _: unknown, context: PlainContext) => context.loaders.products.load(i['product_id'] as number),
  },
  Product: {
    id: (p: Row) => globalId('Product', p['id']),
    price: (p: Row) => money(p['price_minor'], p['currency']),
    inStock: (p: Row) => (p['stock'] as number) > 0,
  },
};
