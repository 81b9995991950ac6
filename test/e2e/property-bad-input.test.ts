/**
 * "Bad input is always a clear 4xx" (issue 10), over real HTTP with tokens from a real
 * authorization server: random bytes, truncated and mutated (bit-flipped, character-substituted)
 * real tokens in `Authorization` and `DPoP` headers, random JSON bodies and random variables are
 * never answered 5xx, a mutated token never authenticates anyone (`me` and the admin order listing
 * are never answered with data), and no row changes (no write statement, same table contents).
 *
 * Fixed seed and bounded runs by default; FUZZ_RUNS and FUZZ_SEED override them (`npm run fuzz`).
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type DpopKey, type TestAuthorizationServer, createDpopKey, signDpopProof, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { checkProperty, runsScaled } from '../fixtures/fuzz.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];
const RUNS = runsScaled(0.5);
const ME = '{ me { id displayName } }';
const ORDERS = '{ orders(first: 1) { edges { node { id } } } }';

// ---- Raw HTTP: header values fetch and node's client refuse to send (control characters, bytes over 0x7f) ----

interface RawResponse {
  /** 0 when the connection closed without a response. */
  readonly status: number;
  readonly body: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: Record<string, unknown> }> } | undefined;
}

function decodeChunked(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, end), 16);
    if (!(size > 0)) return out;
    out += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
}

/** POSTs /graphql with these header lines written byte for byte (latin1), `Connection: close`, and reads the whole response. */
function rawRequest(url: string, headers: ReadonlyArray<readonly [string, string]>, body: string | Uint8Array): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('connect', () => {
      const lines = ['POST /graphql HTTP/1.1', `Host: ${hostname}:${port}`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${payload.length}`, ...headers.map(([name, value]) => `${name}: ${value}`)];
      socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset ends up in 'close'
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      let raw = split < 0 ? '' : text.slice(split + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) raw = decodeChunked(raw);
      let parsed: RawResponse['body'];
      try {
        parsed = JSON.parse(Buffer.from(raw, 'latin1').toString('utf8')) as RawResponse['body'];
      } catch {
        parsed = undefined;
      }
      resolve({ status, body: parsed });
    });
  });
}

// ---- Mutations of real tokens ----

type Mutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'substitute'; readonly at: number; readonly char: string };

const byteChar = fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b));
const tokenChar = fc.oneof(fc.constantFrom(...'AZaz09-_.=+/ '.split('')), byteChar);

/** 1–3 mutations at positions given as a fraction of the length (so they fit any token). */
const mutationsArbitrary: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }).map((at): Mutation => ({ kind: 'truncate', at })),
    fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('substitute' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), char: tokenChar }),
  ),
  { minLength: 1, maxLength: 3 },
);

function mutate(token: string, mutations: readonly Mutation[]): string {
  let t = token;
  for (const m of mutations) {
    if (t.length === 0) break;
    const i = Math.floor(m.at * t.length);
    if (m.kind === 'truncate') t = t.slice(0, i);
    else if (m.kind === 'flip') t = t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << m.bit)) + t.slice(i + 1);
    else t = t.slice(0, i) + m.char + t.slice(i + 1);
  }
  return t;
}

/**
 * Whether `mutated` is the same JWS as `original`: the same header and payload text, and a
 * signature whose base64url text differs only in the unused low bits of its last character
 * (RFC 4648 §3.5: such text decodes to the same bytes, so it is the same signature). Such a
 * "mutation" carries no forged content and is not counted as one.
 */
function sameJws(original: string, mutated: string): boolean {
  if (mutated === original) return true;
  const [h1, p1, s1] = original.split('.');
  const parts = mutated.split('.');
  if (parts.length !== 3 || parts[0] !== h1 || parts[1] !== p1) return false;
  const s2 = parts[2]!;
  return /^[A-Za-z0-9_-]*$/.test(s2) && s2.length === s1!.length && Buffer.from(s2, 'base64url').equals(Buffer.from(s1!, 'base64url'));
}

// ---- Random request bodies ----

const REAL_QUERIES = [ME, ORDERS, '{ products(first: 2) { edges { node { id name price { amount } } } } }', '{ node(id: "UHJvZHVjdDox") { id ... on Product { name } } }'];
/** JSON values, sometimes shaped like the inputs the documents take. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('PENDING', 'PAID', 'T3JkZXI6MQ', 'UHJvZmlsZTox', -1, 2 ** 31, 1e308, '', '\u0000', '\u202e'));
/** Valid values half the time (so that authorization, not coercion, is what refuses a mutation), anything otherwise. */
const orValid = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof(valid, jsonValue);
const productId = orValid(fc.constantFrom('UHJvZHVjdDox', 'UHJvZHVjdDoy'));
const orderId = orValid(fc.constantFrom('T3JkZXI6MQ', 'T3JkZXI6Mg'));
const orderStatus = orValid(fc.constantFrom('PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED'));

/** Real documents with variables, mutations included, and random values for their variables. */
const DOCUMENTS_WITH_VARIABLES: ReadonlyArray<{ readonly query: string; readonly variables: fc.Arbitrary<Record<string, unknown>> }> = [
  {
    query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }',
    variables: fc.record({ input: orValid(fc.record({ items: fc.array(fc.record({ productId, quantity: orValid(fc.integer({ min: 1, max: 3 })) }), { minLength: 1, maxLength: 2 }), idempotencyKey: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: ['items'] })) }),
  },
  { query: 'mutation ($id: ID!) { cancelOrder(id: $id) { id status } }', variables: fc.record({ id: orderId }) },
  { query: 'mutation ($id: ID!, $status: OrderStatus!) { updateOrderStatus(id: $id, status: $status) { id } }', variables: fc.record({ id: orderId, status: orderStatus }) },
  {
    query: 'mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { id email } }',
    variables: fc.record({ input: orValid(fc.record({ displayName: fc.string({ minLength: 1, maxLength: 20 }), email: fc.option(fc.emailAddress(), { nil: null }) }, { requiredKeys: [] })) }),
  },
  { query: 'query ($id: ID!) { order(id: $id) { id total { amount } } node(id: $id) { id } }', variables: fc.record({ id: orderId }) },
  { query: 'query ($n: Int, $after: String) { products(first: $n, after: $after) { edges { cursor node { id } } } }', variables: fc.record({ n: orValid(fc.integer({ min: -5, max: 200 })), after: jsonValue }, { requiredKeys: [] }) },
  { query: 'query ($n: Int, $s: OrderStatus, $c: ID) { orders(first: $n, status: $s, customerId: $c) { edges { node { id } } } }', variables: fc.record({ n: orValid(fc.integer({ min: -5, max: 200 })), s: orderStatus, c: jsonValue }, { requiredKeys: [] }) },
];
const documentArbitrary = fc.oneof(...DOCUMENTS_WITH_VARIABLES.map((d) => d.variables.map((variables) => ({ query: d.query, variables }))));
/** Any variables at all, under the names the documents use and others. */
const variablesArbitrary = fc.dictionary(fc.constantFrom('input', 'id', 'status', 'n', 'after', 's', 'c', 'x'), jsonValue, { maxKeys: 4 });

/** Random JSON bodies: anything at all, or the fields of a GraphQL request with random values and real documents mutated. */
const bodyArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        query: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }), fc.tuple(fc.constantFrom(...REAL_QUERIES, ...DOCUMENTS_WITH_VARIABLES.map((d) => d.query)), mutationsArbitrary).map(([q, m]) => mutate(q, m))),
        variables: fc.oneof(variablesArbitrary, fc.jsonValue({ maxDepth: 3 })),
        operationName: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
        extensions: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

describe('bad input over HTTP, with tokens from a real authorization server', () => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  let userToken: string;
  let readOnlyToken: string;
  let dpopToken: string;
  let dpopKey: DpopKey;
  const writes: string[] = [];
  let before: string;

  const snapshot = async (): Promise<string> => {
    const db = server.database.db;
    const tables = await Promise.all(['orders', 'order_items', 'profiles', 'products'].map((t) => db.selectFrom(t as 'orders').selectAll().execute()));
    return createHash('sha256').update(JSON.stringify(tables)).digest('hex');
  };
  const dpopProof = (accessToken: string) => signDpopProof(dpopKey, { htm: 'POST', htu: `${server.url}/graphql`, accessToken });

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES, dpop: true });
    server = await startHttpServer(
      { OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE },
      {
        onQuery: (sql) => {
          if (/^\s*(insert|update|delete|create|drop|alter)\b/i.test(sql)) writes.push(sql);
        },
      },
    );
    userToken = await as.userToken({ sub: 'alice', scope: SCOPES.filter((s) => s !== 'admin:orders').join(' ') });
    readOnlyToken = await as.userToken({ sub: 'alice', scope: 'read:profile read:orders' });
    dpopKey = await createDpopKey('ES256');
    dpopToken = await as.dpopClientCredentialsToken('read:orders admin:orders', dpopKey);
    // Rows to protect: alice's profile and one order.
    const placed = await rawRequest(server.url, [['Authorization', `Bearer ${userToken}`]], JSON.stringify({ query: 'mutation { placeOrder(input: { items: [{ productId: "UHJvZHVjdDox", quantity: 1 }] }) { orderId } }' }));
    if (placed.status !== 200 || placed.body?.errors) throw new Error(`set-up order failed: ${JSON.stringify(placed)}`);
    writes.length = 0;
    before = await snapshot();
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  /** After every property: every table as it was (each case checks its own write statements). */
  const expectNothingWritten = async () => {
    expect({ writes, tables: await snapshot() }).toEqual({ writes: [], tables: before });
  };

  it('answers the real tokens (the properties below start from working credentials)', async () => {
    const me = await rawRequest(server.url, [['Authorization', `Bearer ${userToken}`]], JSON.stringify({ query: ME }));
    const orders = await rawRequest(server.url, [['Authorization', `DPoP ${dpopToken}`], ['DPoP', await dpopProof(dpopToken)]], JSON.stringify({ query: ORDERS }));
    expect({ me: me.status, hasMe: me.body?.data?.['me'] != null, orders: orders.status, hasOrders: orders.body?.data?.['orders'] != null }).toEqual({ me: 200, hasMe: true, orders: 200, hasOrders: true });
  });

  it('never authenticates a mutated or random Authorization header: a 4xx, no data for me, nothing written', async () => {
    const header = fc.oneof(
      fc
        .tuple(fc.constantFrom('Bearer', 'bearer', 'DPoP'), mutationsArbitrary)
        .map(([scheme, m]) => ({ value: `${scheme} ${mutate(userToken, m)}`, mutated: mutate(userToken, m) }))
        .filter(({ mutated }) => !sameJws(userToken, mutated)),
      fc.uint8Array({ maxLength: 120 }).map((bytes) => ({ value: Buffer.from(bytes).toString('latin1'), mutated: '' })),
      fc.tuple(fc.constantFrom('Bearer ', 'Basic ', 'DPoP ', ''), fc.uint8Array({ maxLength: 120 })).map(([scheme, bytes]) => ({ value: scheme + Buffer.from(bytes).toString('latin1'), mutated: '' })),
    );
    await checkProperty(
      'bad input: Authorization header',
      fc.asyncProperty(header, async ({ value }) => {
        writes.length = 0;
        const r = await rawRequest(server.url, [['Authorization', value]], JSON.stringify({ query: ME }));
        expect({ header: value, status: r.status >= 400 && r.status < 500, me: r.body?.data?.['me'] ?? null, writes }).toEqual({ header: value, status: true, me: null, writes: [] });
      }),
      RUNS,
    );
    await expectNothingWritten();
  });

  it('never authenticates a mutated DPoP-bound token or proof: a 4xx, no data for the admin listing, nothing written', async () => {
    const cases = fc.record({ token: fc.option(mutationsArbitrary, { nil: undefined }), proof: fc.option(mutationsArbitrary, { nil: undefined }), randomProof: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined, freq: 4 }) });
    await checkProperty(
      'bad input: DPoP token and proof',
      fc.asyncProperty(cases, async (c) => {
        writes.length = 0;
        const proof = await dpopProof(dpopToken);
        const token = c.token ? mutate(dpopToken, c.token) : dpopToken;
        const sentProof = c.randomProof ? Buffer.from(c.randomProof).toString('latin1') : c.proof ? mutate(proof, c.proof) : proof;
        fc.pre((token !== dpopToken && !sameJws(dpopToken, token)) || (sentProof !== proof && !sameJws(proof, sentProof)));
        const r = await rawRequest(server.url, [['Authorization', `DPoP ${token}`], ['DPoP', sentProof]], JSON.stringify({ query: ORDERS }));
        expect({ token, proof: sentProof, status: r.status >= 400 && r.status < 500, orders: r.body?.data?.['orders'] ?? null, writes }).toEqual({ token, proof: sentProof, status: true, orders: null, writes: [] });
      }),
      RUNS,
    );
    await expectNothingWritten();
  });

  it('answers random JSON bodies without a 5xx or an internal error, writing nothing (with and without a token)', async () => {
    await checkProperty(
      'bad input: random JSON bodies',
      fc.asyncProperty(bodyArbitrary, fc.boolean(), async (body, withToken) => {
        writes.length = 0;
        const r = await rawRequest(server.url, withToken ? [['Authorization', `Bearer ${userToken}`]] : [], body);
        const codes = (r.body?.errors ?? []).map((e) => e.extensions?.['code']);
        expect({ body, status: r.status > 0 && r.status < 500, internal: codes.includes('INTERNAL_SERVER_ERROR'), writes }).toEqual({ body, status: true, internal: false, writes: [] });
      }),
      RUNS,
    );
    await expectNothingWritten();
  });

  it('answers real documents with random variables without a 5xx or an internal error; mutations by an unauthorised caller write nothing', async () => {
    // A token without write scopes, a mutated token or none: no mutation may run; the full token runs the queries.
    const caller = fc.constantFrom('read-only', 'mutated', 'none', 'full');
    await checkProperty(
      'bad input: random variables',
      fc.asyncProperty(documentArbitrary, fc.option(variablesArbitrary, { freq: 3 }), caller, mutationsArbitrary, async (document, otherVariables, who, m) => {
        writes.length = 0;
        const { query } = document;
        const variables = otherVariables ?? document.variables;
        const isMutation = query.startsWith('mutation');
        fc.pre(!(isMutation && who === 'full'));
        const token = who === 'full' ? userToken : who === 'read-only' ? readOnlyToken : who === 'mutated' ? mutate(userToken, m) : undefined;
        fc.pre(who !== 'mutated' || !sameJws(userToken, token!));
        const r = await rawRequest(server.url, token === undefined ? [] : [['Authorization', `Bearer ${token}`]], JSON.stringify({ query, variables }));
        const codes = (r.body?.errors ?? []).map((e) => e.extensions?.['code']);
        const data = r.body?.data ?? null;
        const answered = isMutation && data !== null && Object.values(data).some((v) => v !== null);
        expect({ query, variables, who, status: r.status > 0 && r.status < 500, internal: codes.includes('INTERNAL_SERVER_ERROR'), answered, writes }).toEqual({ query, variables, who, status: true, internal: false, answered: false, writes: [] });
      }),
      RUNS,
    );
    await expectNothingWritten();
  });
});
