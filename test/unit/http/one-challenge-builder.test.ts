import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from '@jest/globals';
import type { GraphQLError } from 'graphql';
import { type ChallengeBuilder, createChallengeBuilder } from '../../../src/auth/challenge-builder.js';
import type { DpopVerifier } from '../../../src/auth/dpop/dpop-verifier.js';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.js';
import { TokenError } from '../../../src/auth/token-error.js';
import type { TokenVerifier } from '../../../src/auth/token-verifier.js';
import { authorizationPlugin } from '../../../src/authz/authorization-plugin.js';
import { FieldGuard } from '../../../src/authz/field-guard.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { authenticate } from '../../../src/http/authentication.js';
import { silentLogger } from '../../../src/logger.js';

const { schema, index } = buildSchema();
const builder = createChallengeBuilder({ realm: 'urn:one-realm', resourceMetadataUrl: 'https://one.example/.well-known/oauth-protected-resource', dpopAlgorithms: ['PS256'] });

const client = (confirmationJkt?: string): Principal => ({
  kind: 'client',
  subject: 'svc',
  issuer: 'https://as.example',
  clientId: 'svc',
  scopes: new Set(),
  audience: ['urn:one-realm'],
  expiresAt: undefined,
  tokenId: undefined,
  acr: undefined,
  authTime: undefined,
  name: undefined,
  ...(confirmationJkt !== undefined ? { confirmationJkt } : {}),
});

/** The authorization plugin's answer to `{ me { displayName } }` (denied whole) for `principal`. */
async function pluginAnswer(challenges: ChallengeBuilder, principal: Principal): Promise<{ status: number | undefined; challenge: string | undefined }> {
  const apollo = new ApolloServer({ schema, plugins: [authorizationPlugin({ index, challenges })] });
  await apollo.start();
  try {
    const contextValue = { principal, guard: new FieldGuard(principal, 'filter', index), requestId: 'r', log: silentLogger };
    const response = await apollo.executeOperation({ query: '{ me { displayName } }' }, { contextValue });
    return { status: response.http.status, challenge: response.http.headers.get('www-authenticate') };
  } finally {
    await apollo.stop();
  }
}

/** The edge's answer to an expired token under `scheme`. */
async function edgeAnswer(challenges: ChallengeBuilder, scheme: 'Bearer' | 'DPoP'): Promise<{ status: number; challenge: string | undefined }> {
  const verifier = { verify: async () => Promise.reject(new TokenError('expired')) } as unknown as TokenVerifier;
  // Under DPoP the proof is accepted, so the token's refusal is what is answered.
  const dpop = { algorithms: challenges.dpopAlgorithms, verifyProof: async () => ({}), confirm: async () => undefined } as unknown as DpopVerifier;
  const authorization = `${scheme} abc`;
  const req = { headers: { authorization, dpop: 'a.b.c' }, rawHeaders: ['Authorization', authorization, 'DPoP', 'a.b.c'], method: 'POST', url: '/graphql' };
  try {
    await authenticate(req, verifier, challenges, silentLogger, challenges.dpopAlgorithms === undefined ? undefined : dpop);
  } catch (thrown) {
    const http = (thrown as GraphQLError).extensions['http'] as { status: number; headers: Map<string, string> };
    return { status: http.status, challenge: http.headers.get('www-authenticate') };
  }
  throw new Error('accepted');
}

/** A challenge without the parameters that say what went wrong: what stays is the server's own. */
function serverParams(challenge: string | undefined): string | undefined {
  return challenge?.replace(/(error|error_description|scope)="[^"]*"(, )?/g, '').replace(/, $/, '');
}

describe('one challenge builder for the edge and the authorization plugin', () => {
  it('answers a missing token (plugin) and a refused bearer token (edge) with the same realm, resource_metadata and DPoP offer', async () => {
    const plugin = await pluginAnswer(builder, ANONYMOUS);
    const edge = await edgeAnswer(builder, 'Bearer');
    expect(plugin).toEqual({ status: 401, challenge: 'Bearer realm="urn:one-realm", resource_metadata="https://one.example/.well-known/oauth-protected-resource", DPoP realm="urn:one-realm", algs="PS256"' });
    expect(edge.status).toBe(401);
    expect(serverParams(edge.challenge)).toBe(plugin.challenge);
    expect(plugin.challenge).toBe(builder.authenticationRequired().challenge);
  });

  it('answers a DPoP-bound token lacking scope (plugin) and a refused DPoP token (edge) in the same DPoP challenge', async () => {
    const plugin = await pluginAnswer(builder, client('jkt'));
    const edge = await edgeAnswer(builder, 'DPoP');
    expect(plugin.status).toBe(403);
    expect(plugin.challenge).toMatch(/^DPoP realm="urn:one-realm", error="insufficient_scope", error_description="[^"]+", scope="read:profile", resource_metadata="[^"]+", algs="PS256"$/);
    expect(serverParams(plugin.challenge)).toBe(serverParams(edge.challenge));
    expect(serverParams(edge.challenge)).toBe('DPoP realm="urn:one-realm", resource_metadata="https://one.example/.well-known/oauth-protected-resource", algs="PS256"');
  });

  it('follows the builder it is given: another builder, other challenges from both', async () => {
    const other = createChallengeBuilder({ realm: 'urn:other', resourceMetadataUrl: 'https://other.example/meta' });
    const plugin = await pluginAnswer(other, client());
    expect(plugin).toEqual({ status: 403, challenge: expect.stringMatching(/^Bearer realm="urn:other", error="insufficient_scope", .*resource_metadata="https:\/\/other.example\/meta"$/) });
    const edge = await edgeAnswer(other, 'Bearer');
    expect(edge).toEqual({ status: 401, challenge: 'Bearer realm="urn:other", error="invalid_token", error_description="token expired", resource_metadata="https://other.example/meta"' });
  });
});
