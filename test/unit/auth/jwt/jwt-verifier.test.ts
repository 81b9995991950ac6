import { beforeAll, describe, expect, it } from '@jest/globals';
import { createSign, generateKeyPairSync } from 'node:crypto';
import type { JWK, JWTPayload } from 'jose';
import { MAX_TOKEN_LENGTH } from '../../../../src/auth/token-limits.js';
import { TokenError } from '../../../../src/auth/token-error.js';
import { createTokenVerifier, type TokenVerifierOptions } from '../../../../src/auth/jwt/jwt-verifier.js';
import {
  accessTokenClaims,
  createTestKey,
  keySet,
  signHmacToken,
  signToken,
  unsignedToken,
  type TestKey,
  reasonOf,
} from '../../../fixtures/tokens.js';

const ISSUER = 'https://as.example/tenant1';
const AUDIENCE = 'https://api.example/graphql';
const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_SEC = NOW.getTime() / 1000;

let rsa: TestKey;
let ec: TestKey;
let stranger: TestKey;

beforeAll(async () => {
  rsa = await createTestKey('RS256', 'rsa-1');
  ec = await createTestKey('ES256', 'ec-1');
  stranger = await createTestKey('RS256', 'stranger');
});

function verifier(overrides: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keySet(rsa, ec), currentDate: () => NOW, ...overrides });
}

function claims(overrides: JWTPayload = {}): JWTPayload {
  return accessTokenClaims({ issuer: ISSUER, audience: AUDIENCE, now: NOW }, overrides);
}


describe('createTokenVerifier: accepted tokens', () => {
  it('verifies an RS256 access token to a user principal', async () => {
    const principal = await verifier().verify(await signToken(claims({ name: 'Alice' }), { key: rsa }));
    expect(principal).toMatchObject({ kind: 'user', subject: 'alice', clientId: 'web-app', issuer: ISSUER, audience: [AUDIENCE], name: 'Alice' });
    expect([...principal.scopes]).toEqual(['read:profile', 'read:orders']);
  });

  it('verifies an ES256 token from the same key set and picks the key by kid', async () => {
    const principal = await verifier().verify(await signToken(claims({ sub: 'svc', client_id: 'svc' }), { key: ec }));
    expect(principal).toMatchObject({ kind: 'client', subject: 'svc' });
  });

  it('accepts an audience list that contains ours', async () => {
    expect(await reasonOf(verifier().verify(await signToken(claims({ aud: ['other', AUDIENCE] }), { key: rsa })))).toBe('accepted');
  });

  it.each(['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT'])('accepts typ %j (RFC 8725 §3.11)', async (typ) => {
    expect(await reasonOf(verifier().verify(await signToken(claims(), { key: rsa, header: { typ } })))).toBe('accepted');
  });

  it('accepts configured token types, e.g. plain JWT for providers that issue it', async () => {
    const token = await signToken(claims(), { key: rsa, header: { typ: 'JWT' } });
    expect(await reasonOf(verifier({ tokenTypes: ['jwt'] }).verify(token))).toBe('accepted');
  });

  it('ignores jku, x5u and jwk headers: the key always comes from the configured set', async () => {
    const token = await signToken(claims(), {
      key: stranger,
      header: { kid: 'rsa-1', jku: 'https://evil.example/jwks', x5u: 'https://evil.example/cert', jwk: stranger.publicJwk },
    });
    expect(await reasonOf(verifier().verify(token))).toBe('bad_signature');
  });
});

describe('createTokenVerifier: forged and invalid tokens', () => {
  it('refuses alg none', async () => {
    const token = unsignedToken({ alg: 'none', typ: 'at+jwt' }, claims());
    expect(await reasonOf(verifier().verify(token))).toBe('alg_not_allowed');
    expect(await reasonOf(verifier().verify(`${token}`))).toBe('alg_not_allowed');
  });

  it('refuses alg None spelled differently', async () => {
    expect(await reasonOf(verifier().verify(unsignedToken({ alg: 'NONE', typ: 'at+jwt' }, claims(), 'x')))).toBe('alg_not_allowed');
  });

  it('refuses HS256 signed with the RSA public key as the secret (key confusion)', async () => {
    const pemToken = await signHmacToken(claims(), rsa.publicPem, { kid: 'rsa-1' });
    const jwkToken = await signHmacToken(claims(), JSON.stringify(rsa.publicJwk), { kid: 'rsa-1' });
    expect(await reasonOf(verifier().verify(pemToken))).toBe('alg_not_allowed');
    expect(await reasonOf(verifier().verify(jwkToken))).toBe('alg_not_allowed');
  });

  it('refuses an algorithm outside the configured allow-list', async () => {
    const token = await signToken(claims(), { key: rsa });
    expect(await reasonOf(verifier({ algorithms: ['ES256'] }).verify(token))).toBe('alg_not_allowed');
  });

  it('refuses an expired token', async () => {
    const token = await signToken(claims({ iat: NOW_SEC - 3600, exp: NOW_SEC - 60 }), { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('expired');
  });

  it('refuses a token whose nbf is in the future', async () => {
    const token = await signToken(claims({ nbf: NOW_SEC + 120 }), { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('not_yet_valid');
  });

  it('refuses a wrong issuer, including a prefix or trailing-slash variant', async () => {
    for (const iss of ['https://evil.example', `${ISSUER}/`, 'https://as.example/tenant', 'https://as.example/tenant12']) {
      expect(await reasonOf(verifier().verify(await signToken(claims({ iss }), { key: rsa })))).toBe('wrong_issuer');
    }
  });

  it('refuses a wrong audience', async () => {
    for (const aud of ['https://other.example/graphql', ['a', 'b'], `${AUDIENCE}/`]) {
      expect(await reasonOf(verifier().verify(await signToken(claims({ aud }), { key: rsa })))).toBe('wrong_audience');
    }
  });

  it('refuses an unknown kid', async () => {
    const token = await signToken(claims(), { key: stranger });
    expect(await reasonOf(verifier().verify(token))).toBe('unknown_key');
  });

  it('refuses the right kid with another key', async () => {
    const token = await signToken(claims(), { key: stranger, header: { kid: 'rsa-1' } });
    expect(await reasonOf(verifier().verify(token))).toBe('bad_signature');
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await signToken(claims(), { key: rsa })).split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify(claims({ scope: 'admin' }))).toString('base64url')}.${signature}`;
    expect(await reasonOf(verifier().verify(forged))).toBe('bad_signature');
  });

  it('refuses a token signed by an RSA key under 2048 bits in the key set (RFC 7518 §3.3), and one whose verified payload is not UTF-8', async () => {
    // Signed with node:crypto: jose refuses to sign with such a key.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' };
    const sign = (payload: string) => {
      const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'weak', typ: 'at+jwt' })).toString('base64url')}.${payload}`;
      return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
    };
    const weak = verifier({ keys: { keys: [weakJwk as JWK] } });
    expect(await reasonOf(weak.verify(sign(Buffer.from(JSON.stringify(claims())).toString('base64url'))))).toBe('malformed');

    const notUtf8 = Buffer.concat([Buffer.from('{"iss":"'), Buffer.from([0xff]), Buffer.from('"}')]).toString('base64url');
    const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'rsa-2048', typ: 'at+jwt' })).toString('base64url')}.${notUtf8}`;
    const strong = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const strongJwk = { ...strong.publicKey.export({ format: 'jwk' }), kid: 'rsa-2048', alg: 'RS256', use: 'sig' };
    const token = `${input}.${createSign('RSA-SHA256').update(input).sign(strong.privateKey).toString('base64url')}`;
    expect(await reasonOf(verifier({ keys: { keys: [strongJwk as JWK] } }).verify(token))).toBe('malformed');
  });

  it.each([
    ['typ JWT (e.g. an ID token)', { typ: 'JWT' }],
    ['no typ', { typ: undefined }],
    ['typ application/jwt', { typ: 'application/jwt' }],
    ['typ at+jwt with a suffix', { typ: 'at+jwt2' }],
    ['typ not a string', { typ: 1 }],
  ])('refuses %s', async (_name, header) => {
    const token = await signToken(claims(), { key: rsa, header });
    expect(await reasonOf(verifier().verify(token))).toBe('wrong_type');
  });

  it('refuses an unknown crit header', async () => {
    const token = await signToken(claims(), { key: rsa, header: { crit: ['urn:example:ext'], 'urn:example:ext': 1 }, crit: { 'urn:example:ext': true } });
    expect(await reasonOf(verifier().verify(token))).toBe('crit_unsupported');
  });

  it('refuses oversized tokens before parsing them', async () => {
    expect(await reasonOf(verifier().verify('a'.repeat(MAX_TOKEN_LENGTH + 1)))).toBe('too_large');
    const big = await signToken(claims({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) }), { key: rsa });
    expect(await reasonOf(verifier().verify(big))).toBe('too_large');
  });

  it.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['empty parts', '..'],
    ['header not JSON', 'bm90IGpzb24.eyJhIjoxfQ.c2ln'],
    ['header JSON but not an object', `${Buffer.from('[1]').toString('base64url')}.eyJhIjoxfQ.c2ln`],
    ['non-base64url characters', 'ab$c.def.ghi'],
    ['padding', 'eyJhbGciOiJSUzI1NiJ9=.eyJhIjoxfQ.c2ln'],
  ])('refuses garbage: %s', async (_name, token) => {
    expect(await reasonOf(verifier().verify(token))).toBe('malformed');
  });

  it('refuses a payload that is not a JSON object even with a valid signature shape', async () => {
    const [header, , signature] = (await signToken(claims(), { key: rsa })).split('.');
    expect(await reasonOf(verifier().verify(`${header}.bm90IGpzb24.${signature}`))).toBe('bad_signature');
  });

  it('refuses a token missing a required claim', async () => {
    const { exp: _exp, ...noExp } = claims();
    expect(await reasonOf(verifier().verify(await signToken(noExp, { key: rsa })))).toBe('missing_claim');
    const { iss: _iss, ...noIss } = claims();
    expect(await reasonOf(verifier().verify(await signToken(noIss, { key: rsa })))).toBe('missing_claim');
    const { aud: _aud, ...noAud } = claims();
    expect(await reasonOf(verifier().verify(await signToken(noAud, { key: rsa })))).toBe('missing_claim');
  });

  it('honours configured requiredClaims', async () => {
    const token = await signToken(claims(), { key: rsa });
    expect(await reasonOf(verifier({ requiredClaims: ['iss', 'exp', 'aud', 'acr'] }).verify(token))).toBe('missing_claim');
  });

  it('refuses a non-numeric exp', async () => {
    expect(await reasonOf(verifier().verify(await signToken(claims({ exp: 'tomorrow' as unknown as number }), { key: rsa })))).toBe(
      'invalid_claim',
    );
  });

  it('never puts the token in the error', async () => {
    const token = await signToken(claims({ exp: NOW_SEC - 3600 }), { key: rsa });
    const error = await verifier()
      .verify(token)
      .catch((e: unknown) => e as TokenError);
    expect(error).toBeInstanceOf(TokenError);
    expect(JSON.stringify({ message: (error as TokenError).message, description: (error as TokenError).description })).not.toContain(
      token.split('.')[2],
    );
    expect((error as TokenError).description).toBe('token expired');
  });
});

describe('createTokenVerifier: clock tolerance', () => {
  it('accepts exp and nbf within the tolerance and refuses them beyond it', async () => {
    const v = verifier({ clockToleranceSec: 30 });
    expect(await reasonOf(v.verify(await signToken(claims({ exp: NOW_SEC - 20 }), { key: rsa })))).toBe('accepted');
    expect(await reasonOf(v.verify(await signToken(claims({ exp: NOW_SEC - 40 }), { key: rsa })))).toBe('expired');
    expect(await reasonOf(v.verify(await signToken(claims({ nbf: NOW_SEC + 20 }), { key: rsa })))).toBe('accepted');
    expect(await reasonOf(v.verify(await signToken(claims({ nbf: NOW_SEC + 40 }), { key: rsa })))).toBe('not_yet_valid');
  });

  it('defaults to 30 seconds and can be set to zero', async () => {
    const token = await signToken(claims({ exp: NOW_SEC - 10 }), { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('accepted');
    expect(await reasonOf(verifier({ clockToleranceSec: 0 }).verify(token))).toBe('expired');
  });
});

describe('createTokenVerifier: token age (iat)', () => {
  const YEAR = 365 * 24 * 3600;

  it('refuses a token issued a year in the future (no nbf): issued_in_future', async () => {
    const token = await signToken(claims({ iat: NOW_SEC + YEAR, exp: NOW_SEC + YEAR + 300 }), { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('issued_in_future');
  });

  it('accepts an iat ahead within the clock tolerance and refuses it just beyond', async () => {
    const v = verifier({ clockToleranceSec: 30 });
    expect(await reasonOf(v.verify(await signToken(claims({ iat: NOW_SEC + 30 }), { key: rsa })))).toBe('accepted');
    expect(await reasonOf(v.verify(await signToken(claims({ iat: NOW_SEC + 31 }), { key: rsa })))).toBe('issued_in_future');
  });

  it('refuses an iat in the future with maxTokenAgeSec set too', async () => {
    const token = await signToken(claims({ iat: NOW_SEC + 3600 }), { key: rsa });
    expect(await reasonOf(verifier({ maxTokenAgeSec: 600 }).verify(token))).toBe('issued_in_future');
  });

  it('maxTokenAgeSec: refuses a token issued longer ago (beyond the tolerance) as too_old, accepts one within', async () => {
    const v = verifier({ maxTokenAgeSec: 3600, clockToleranceSec: 30 });
    const old = (age: number) => signToken(claims({ iat: NOW_SEC - age, exp: NOW_SEC + 300 }), { key: rsa });
    expect(await reasonOf(v.verify(await old(3600)))).toBe('accepted');
    expect(await reasonOf(v.verify(await old(3630)))).toBe('accepted');
    expect(await reasonOf(v.verify(await old(3631)))).toBe('too_old');
    expect(await reasonOf(v.verify(await old(YEAR)))).toBe('too_old');
  });

  it('maxTokenAgeSec: requires iat', async () => {
    const { iat: _iat, ...withoutIat } = claims();
    const token = await signToken(withoutIat, { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('accepted');
    expect(await reasonOf(verifier({ maxTokenAgeSec: 3600 }).verify(token))).toBe('missing_claim');
  });

  it('is off by default: an old token with a live exp is accepted', async () => {
    const token = await signToken(claims({ iat: NOW_SEC - YEAR, exp: NOW_SEC + 300 }), { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('accepted');
  });

  it('refuses a maxTokenAgeSec that is not a positive number', () => {
    for (const maxTokenAgeSec of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => verifier({ maxTokenAgeSec })).toThrow(TypeError);
  });
});

describe('createTokenVerifier: absurd exp', () => {
  it('refuses exp 1e300 (beyond any representable date) as invalid_claim', async () => {
    const token = await signToken(claims({ exp: 1e300 }), { key: rsa });
    expect(await reasonOf(verifier().verify(token))).toBe('invalid_claim');
  });

  it('accepts an exp a century away', async () => {
    const token = await signToken(claims({ exp: NOW_SEC + 100 * 365 * 24 * 3600 }), { key: rsa });
    await expect(verifier().verify(token)).resolves.toMatchObject({ expiresAt: NOW_SEC + 100 * 365 * 24 * 3600 });
  });
});

describe('createTokenVerifier: no cache of its own', () => {
  it('verifies every repeat afresh (the issuer router is the one cache)', async () => {
    let now = NOW;
    const v = verifier({ currentDate: () => now });
    const token = await signToken(claims({ exp: NOW_SEC + 60 }), { key: rsa });
    const first = await v.verify(token);
    expect(await v.verify(token)).not.toBe(first);
    now = new Date((NOW_SEC + 120) * 1000);
    expect(await reasonOf(v.verify(token))).toBe('expired');
  });
});

describe('createTokenVerifier: options', () => {
  it.each([['HS256'], ['HS512'], ['none'], ['RS1'], ['ES256K'], ['']])('refuses to construct with algorithm %j', (alg) => {
    expect(() => verifier({ algorithms: ['RS256', alg] })).toThrow(TypeError);
  });

  it('refuses an empty algorithm list, an invalid issuer, an empty audience or a negative tolerance', () => {
    expect(() => verifier({ algorithms: [] })).toThrow(TypeError);
    expect(() => verifier({ issuer: 'not a url' })).toThrow(TypeError);
    expect(() => verifier({ audience: '' })).toThrow(TypeError);
    expect(() => verifier({ clockToleranceSec: -1 })).toThrow(TypeError);
    expect(() => verifier({ tokenTypes: [] })).toThrow(TypeError);
  });

  it('is ready at once with a local key set', async () => {
    const v = verifier();
    expect(v.status()).toEqual({ ready: true });
    await expect(v.ready()).resolves.toBeUndefined();
  });
});
