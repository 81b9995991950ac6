/**
 * The benchmark's operations and how a correct answer to each looks. Checks return a message
 * describing what is wrong, or undefined when the response is right.
 */
import { BENCH_USERS, ITEMS_PER_ORDER, MANY_USERS, MANY_USER_NAMES, MANY_USER_ORDERS, ORDERS_PER_USER } from './seed.js';

export type QueryId = 'Q1' | 'Q2' | 'Q3' | 'Q4';

/** Which token a request carries. */
export type Credentials = 'full' | 'profile-only' | 'none';

export interface Operation {
  readonly id: string;
  readonly title: string;
  readonly query: string;
  readonly credentials: Credentials;
  /** What is wrong with this response, or undefined. `enforcesAuthorization`: the server applies the project's authorization. */
  check(status: number, body: string, enforcesAuthorization: boolean): string | undefined;
}

interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
}

type Json = Record<string, unknown>;

const USER = BENCH_USERS[0];

function parse(status: number, body: string): GraphQLResponse | string {
  if (status !== 200) return `HTTP ${status}: ${body.slice(0, 300)}`;
  try {
    return JSON.parse(body) as GraphQLResponse;
  } catch {
    return `not JSON: ${body.slice(0, 300)}`;
  }
}

function noErrors(response: GraphQLResponse): string | undefined {
  return response.errors?.length ? `unexpected errors: ${JSON.stringify(response.errors).slice(0, 300)}` : undefined;
}

/** `data.me`, or what is wrong with it; its name must be the first bench user's, or one of `names`. */
function checkMe(response: GraphQLResponse, names?: ReadonlySet<string>): Json | string {
  const me = response.data?.['me'] as Json | null | undefined;
  if (!me) return `no data.me: ${JSON.stringify(response).slice(0, 300)}`;
  const name = me['displayName'];
  if (names === undefined ? name !== USER.name : typeof name !== 'string' || !names.has(name)) {
    return `me.displayName is ${JSON.stringify(name)}, expected ${names === undefined ? USER.name : 'one of the many users'}`;
  }
  return me;
}

function checkOrders(me: Json, expected: number): string | undefined {
  const edges = (me['orders'] as { edges?: { node: Json }[] } | null | undefined)?.edges;
  if (!Array.isArray(edges)) return `me.orders.edges missing: ${JSON.stringify(me).slice(0, 300)}`;
  if (edges.length !== expected) return `${edges.length} orders, expected ${expected}`;
  for (const { node } of edges) {
    const items = node['items'] as { quantity: number; product: { name?: unknown; price?: { amount?: unknown } } }[] | undefined;
    if (!Array.isArray(items) || items.length !== ITEMS_PER_ORDER) return `order ${String(node['id'])} has ${items?.length ?? 'no'} items, expected ${ITEMS_PER_ORDER}`;
    if ((node['total'] as Json | undefined)?.['currency'] !== 'USD') return `order ${String(node['id'])}: total not in USD`;
    for (const item of items) {
      if (typeof item.product?.name !== 'string' || typeof item.product.price?.amount !== 'string') return `order ${String(node['id'])}: an item without product name or price`;
    }
  }
  return undefined;
}

export const Q1: Operation = {
  id: 'Q1',
  title: '`{ me { displayName } }`',
  query: '{ me { displayName } }',
  credentials: 'full',
  check(status, body) {
    const r = parse(status, body);
    if (typeof r === 'string') return r;
    const me = checkMe(r);
    return typeof me === 'string' ? me : noErrors(r);
  },
};

/** `me` with `first` orders, their items and products. Q2 proper is `first: 20`. */
export function ordersQuery(first: number, id = `Q2(first: ${first})`): Operation {
  return {
    id,
    title: `\`me\` + ${first} orders × ${ITEMS_PER_ORDER} items + products`,
    query: `{ me { displayName orders(first: ${first}) { edges { node { id status total { amount currency } items { quantity unitPrice { amount } product { name price { amount } } } } } } } }`,
    credentials: 'full',
    check(status, body) {
      const r = parse(status, body);
      if (typeof r === 'string') return r;
      const me = checkMe(r);
      if (typeof me === 'string') return me;
      return noErrors(r) ?? checkOrders(me, Math.min(first, ORDERS_PER_USER));
    },
  };
}

export const Q2: Operation = ordersQuery(20, 'Q2');

/** Q2 sent round-robin with the tokens of {@link MANY_USERS} distinct users (`tokens` pool): each answer must be one of theirs, with its 20 orders. */
export const manyUsersQ2: Operation = {
  ...Q2,
  id: `Q2 × ${MANY_USERS.toLocaleString('en-US')} users`,
  title: `Q2 round-robin over ${MANY_USERS.toLocaleString('en-US')} users, one token each`,
  check(status, body) {
    const r = parse(status, body);
    if (typeof r === 'string') return r;
    const me = checkMe(r, MANY_USER_NAMES);
    if (typeof me === 'string') return me;
    return noErrors(r) ?? checkOrders(me, Math.min(20, MANY_USER_ORDERS));
  },
};

export const Q3: Operation = {
  id: 'Q3',
  title: 'public `products(first: 20)`, anonymous',
  query: '{ products(first: 20) { edges { node { id name price { amount currency } inStock } } } }',
  credentials: 'none',
  check(status, body) {
    const r = parse(status, body);
    if (typeof r === 'string') return r;
    const edges = (r.data?.['products'] as { edges?: { node: Json }[] } | undefined)?.edges;
    if (!Array.isArray(edges) || edges.length !== 20) return `expected 20 products, got ${JSON.stringify(r).slice(0, 300)}`;
    if (edges.some(({ node }) => typeof node['name'] !== 'string' || typeof node['inStock'] !== 'boolean')) return 'a product without name or inStock';
    return noErrors(r);
  },
};

/** Q2 with a token holding `read:profile` only: `me` answers, `me.orders` is null with a FORBIDDEN error (at it or below it). */
export const Q4: Operation = {
  id: 'Q4',
  title: 'Q2 with a token lacking `read:orders`',
  query: Q2.query,
  credentials: 'profile-only',
  check(status, body, enforcesAuthorization) {
    if (!enforcesAuthorization) return Q2.check(status, body, false);
    const r = parse(status, body);
    if (typeof r === 'string') return r;
    const me = checkMe(r);
    if (typeof me === 'string') return me;
    if (me['orders'] !== null) return `me.orders should be null, got ${JSON.stringify(me['orders']).slice(0, 200)}`;
    const errors = r.errors ?? [];
    const [error] = errors;
    // mercurius-auth's type-level policy (OrderConnection's) denies one level deeper: me.orders.edges.
    if (errors.length !== 1 || error?.extensions?.['code'] !== 'FORBIDDEN' || !JSON.stringify(error.path).startsWith('["me","orders"')) {
      return `expected one FORBIDDEN error at me.orders, got ${JSON.stringify(errors).slice(0, 300)}`;
    }
    return undefined;
  },
};

export const QUERIES: readonly Operation[] = [Q1, Q2, Q3, Q4];

/** `count` distinct documents, each Q1 under its own operation name (the plan and compiled-query caches under churn). */
export function manyDocuments(count: number): { operation: Operation; bodies: string[] } {
  const bodies = Array.from({ length: count }, (_, i) => JSON.stringify({ query: `query Doc${i} { me { displayName } }` }));
  return { operation: { ...Q1, id: `Q1 × ${count.toLocaleString('en-US')} documents`, title: `Q1 under ${count} operation names in rotation` }, bodies };
}
