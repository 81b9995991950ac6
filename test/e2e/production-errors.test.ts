import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TestAuthorizationServer, startAuthorizationServer } from '../fixtures/authorization-server.js';
import { type TestHttpServer, startHttpServer } from '../fixtures/http-server.js';

const AUDIENCE = 'https://api.orders.test/graphql';
const SCOPES = ['read:profile', 'read:email', 'write:profile', 'read:orders', 'write:orders', 'admin:orders'];

const MISSPELLED_FIELDS = '{ produts { id } me { emali } }';
const MISSPELLED_INPUT = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';
const MISSPELLED_INPUT_VARIABLES = { input: { itemz: [] } };

/**
 * Client errors do not describe the schema in production: no "Did you mean …?" suggestions, so a
 * client cannot enumerate fields and types although introspection is off. Development keeps them.
 */
describe.each([
  ['production', true],
  ['test', false],
] as const)('client errors with NODE_ENV=%s', (environment, hidden) => {
  let as: TestAuthorizationServer;
  let server: TestHttpServer;
  let token: string;

  beforeAll(async () => {
    as = await startAuthorizationServer({ audience: AUDIENCE, scopes: SCOPES });
    server = await startHttpServer({ NODE_ENV: environment, OAUTH_ISSUER: as.issuer, OAUTH_AUDIENCE: AUDIENCE, CURSOR_SECRET: Buffer.alloc(32, 7).toString('base64') });
    token = await as.userToken({ sub: 'suggestions', scope: 'read:profile write:orders' });
  });
  afterAll(async () => {
    await server?.close();
    await as?.close();
  });

  const expectSuggestions = (messages: string[]) => {
    expect(messages.length).toBeGreaterThan(0);
    if (hidden) for (const message of messages) expect(message).not.toMatch(/did you mean/i);
    else expect(messages.some((message) => /Did you mean/.test(message))).toBe(true);
  };

  it(`${hidden ? 'hides' : 'keeps'} field suggestions in validation errors`, async () => {
    const r = await server.graphql(MISSPELLED_FIELDS, { token });
    expect(r.status).toBe(400);
    expect(r.body.errors?.map((e) => e.extensions?.['code'])).toEqual(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED']);
    expectSuggestions(r.body.errors!.map((e) => e.message));
  });

  it(`${hidden ? 'hides' : 'keeps'} input field suggestions in variable errors`, async () => {
    const r = await server.graphql(MISSPELLED_INPUT, { token, variables: MISSPELLED_INPUT_VARIABLES });
    expect(r.status).toBe(400);
    expect(new Set(r.body.errors?.map((e) => e.extensions?.['code']))).toEqual(new Set(['BAD_USER_INPUT']));
    expectSuggestions(r.body.errors!.map((e) => e.message));
  });
});
