/**
 * "Authorization never leaks" (issue 10): for random valid operations and random principals
 * (anonymous, users, client credentials; random subsets of the scope catalog), the plan decides
 * every field exactly as a reference read directly off the SDL annotations does, and the executed
 * response holds no value of a field the principal may not read: seeded secrets (names, emails,
 * global IDs) of fields it is denied, or of another user, appear nowhere in the response.
 *
 * Fixed seed and bounded runs by default; FUZZ_RUNS and FUZZ_SEED override them (`npm run fuzz`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type FieldNode, type GraphQLObjectType, Kind, type SelectionSetNode } from 'graphql';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.js';
import { FieldGuard } from '../../../src/authz/field-guard.js';
import { MAX_LISTED_DENIALS, type OperationPlan, coerceVariables, planOperation } from '../../../src/authz/operation-plan.js';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from '../../../src/config.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { fromGlobalId, toGlobalId } from '../../../src/graphql/global-id.js';
import { silentLogger } from '../../../src/logger.js';
import { type ApiResult, type TestApi, createTestApi } from '../../fixtures/api.js';
import { databaseTargets } from '../../fixtures/databases.js';
import { FUZZ_RUNS, checkProperty, runsScaled } from '../../fixtures/fuzz.js';
import { type Expansion, type GeneratedOperation, type GeneratorIds, childSets, expand, expansionOf, fieldOf, operationArbitrary, runtimeTypes } from '../../fixtures/operation-arbitrary.js';
import { clientPrincipal, userPrincipal } from '../../fixtures/principals.js';
import { type ReferenceDecision, readSchemaAnnotations, referenceDecision } from '../../fixtures/schema-annotations.js';
import { type AuthorizationFixture, openAuthorizationFixture, pathKey, valuesAt } from '../../fixtures/authorization.js';

const { schema, index } = buildSchema();
const annotations = readSchemaAnnotations();
const EXECUTED_RUNS = runsScaled(0.3);
/** Limits no generated operation reaches: this property is about authorization, not limits. */
const UNBOUNDED: OperationLimits = { ...DEFAULT_OPERATION_LIMITS, maxDepth: 1000, maxAliases: 100_000, maxRootFields: 10_000, maxDirectivesPerField: 1000, maxCost: 1_000_000_000 };

// ---- Principals ----

type Who = 'anonymous' | 'alice' | 'bob' | 'client';
interface PrincipalCase {
  readonly who: Who;
  readonly scopes: readonly string[];
}

const principalArbitrary: fc.Arbitrary<PrincipalCase> = fc
  .record({
    who: fc.constantFrom<Who>('anonymous', 'alice', 'alice', 'bob', 'client', 'client'),
    scopes: fc.subarray([...annotations.scopes]),
  })
  .map((p) => (p.who === 'anonymous' ? { who: p.who, scopes: [] } : p));

/** The principals of the fixture (same issuer and subjects as its seeded profiles). */
function principalOf(p: PrincipalCase): Principal {
  if (p.who === 'anonymous') return ANONYMOUS;
  if (p.who === 'client') return clientPrincipal('backoffice', { scopes: p.scopes });
  return userPrincipal(p.who, { scopes: p.scopes, name: p.who });
}

// ---- The reference plan: the operation expanded by brute force, each field decided from the SDL ----

interface ReferenceDenial {
  readonly path: string;
  readonly coordinate: string;
  readonly reason: string;
  readonly conditional: boolean;
}

interface ReferencePlan {
  readonly roots: ReadonlyArray<{ readonly responseKey: string; readonly coordinate: string; readonly allowed: boolean; readonly reason: string | undefined }>;
  /** Denied fields whose ancestors are all allowed. */
  readonly denied: readonly ReferenceDenial[];
  /** Every field of the expansion, below denied ones too, is allowed. */
  readonly everyFieldAllowed: boolean;
}

function referencePlan(op: GeneratedOperation, principal: Principal): ReferencePlan {
  const e = expansionOf(schema, op);
  const denied: ReferenceDenial[] = [];
  let everyFieldAllowed = true;
  const decide = (runtime: GraphQLObjectType, name: string): ReferenceDecision => referenceDecision(annotations.field(runtime.name, name), principal);

  // One response key at one position: the field nodes selected under it per possible runtime type.
  const keysAt = (x: Expansion, sets: readonly SelectionSetNode[], runtimes: readonly GraphQLObjectType[]) => {
    const keys = new Map<string, Array<{ runtime: GraphQLObjectType; nodes: FieldNode[] }>>();
    for (const runtime of runtimes) {
      for (const [key, nodes] of expand(x, sets, runtime)) {
        if (nodes[0]!.name.value.startsWith('__')) continue; // __typename: no requirement
        keys.set(key, [...(keys.get(key) ?? []), { runtime, nodes }]);
      }
    }
    return keys;
  };

  const walk = (sets: readonly SelectionSetNode[], runtimes: readonly GraphQLObjectType[], path: string, reachable: boolean): void => {
    for (const [key, entries] of keysAt(e.x, sets, runtimes)) {
      const fieldPath = path ? `${path}.${key}` : key;
      const decisions = entries.map((entry) => decide(entry.runtime, entry.nodes[0]!.name.value));
      const conditional = decisions.some((d) => d.allowed) && decisions.some((d) => !d.allowed);
      entries.forEach(({ runtime, nodes }, i) => {
        const d = decisions[i]!;
        const name = nodes[0]!.name.value;
        if (!d.allowed) {
          everyFieldAllowed = false;
          if (reachable) denied.push({ path: fieldPath, coordinate: `${runtime.name}.${name}`, reason: d.reason, conditional });
        }
        const field = fieldOf(runtime, name);
        if (field) walk(childSets(nodes), runtimeTypes(schema, field), fieldPath, reachable && d.allowed);
      });
    }
  };
  walk(e.root, [e.query], '', true);

  const roots = [...keysAt(e.x, e.root, [e.query])].flatMap(([responseKey, entries]) =>
    entries.map(({ runtime, nodes }) => {
      const d = decide(runtime, nodes[0]!.name.value);
      return { responseKey, coordinate: `${runtime.name}.${nodes[0]!.name.value}`, allowed: d.allowed, reason: d.allowed ? undefined : d.reason };
    }),
  );
  return { roots, denied, everyFieldAllowed };
}

/** Root response keys of `node(id:)` whose ID names a type the principal may not read (its `Type.id`, as the SDL says). */
function nodeDenials(op: GeneratedOperation, principal: Principal): string[] {
  const e = expansionOf(schema, op);
  const denied: string[] = [];
  for (const [key, nodes] of expand(e.x, e.root, e.query)) {
    if (nodes[0]!.name.value !== 'node') continue;
    const arg = nodes[0]!.arguments?.find((a) => a.name.value === 'id')?.value;
    const id = arg?.kind === Kind.STRING ? arg.value : arg?.kind === Kind.VARIABLE ? String(op.variables[arg.name.value]) : undefined;
    const target = id === undefined ? undefined : fromGlobalId(id);
    if (target && !referenceDecision(annotations.field(target.type, 'id'), principal).allowed) denied.push(key);
  }
  return denied;
}

function planOf(op: GeneratedOperation, principal: Principal): OperationPlan {
  const e = expansionOf(schema, op);
  const variables = coerceVariables(schema, e.operation, op.variables);
  if (variables === undefined) throw new Error(`generated variables do not coerce: ${JSON.stringify(op.variables)}`);
  return planOperation({ schema, index, guard: new FieldGuard(principal, 'filter', index), operation: e.operation, fragments: e.fragments, variables });
}

const byPathAndCoordinate = <T extends { path: string; coordinate: string }>(a: T, b: T) => `${a.path} ${a.coordinate}`.localeCompare(`${b.path} ${b.coordinate}`);

/** Statuses the API answers a valid operation with, per the README: 401/403 when every root field is denied. */
function expectedStatus(reference: ReferencePlan, principal: Principal): number {
  if (reference.roots.length > 0 && reference.roots.every((r) => !r.allowed)) return principal.kind === 'anonymous' ? 401 : 403;
  return 200;
}

describe('authorization plans of random operations and principals (pure)', () => {
  const ids: GeneratorIds = { order: [toGlobalId('Order', 1)], product: [toGlobalId('Product', 1)], profile: [toGlobalId('Profile', 1)] };
  // Several principals per operation: planning is cheap, and a rule may show only for one scope set.
  const cases = fc.tuple(operationArbitrary(schema, ids), fc.array(principalArbitrary, { minLength: 4, maxLength: 8 }));

  it('reads the whole scope catalog from schema/scopes.graphql', () => {
    expect(annotations.scopes).toEqual(index.scopes.map((s) => s.name));
    expect(annotations.scopes.length).toBeGreaterThan(3);
  });

  it('decides every reachable field, root field and the whole operation as the SDL annotations say', async () => {
    await checkProperty(
      'authorization: plan equals the SDL reference',
      fc.property(cases, ([op, principals]) => {
        for (const p of principals) checkPlan(op, p);
      }),
      FUZZ_RUNS,
    );
  });
});

function checkPlan(op: GeneratedOperation, p: PrincipalCase): void {
  const principal = principalOf(p);
  const plan = planOf(op, principal);
  const reference = referencePlan(op, principal);
  const denied = plan.denied.map((d) => ({ path: d.path, coordinate: d.coordinate, reason: d.denial.reason, conditional: d.conditional })).sort(byPathAndCoordinate);
  const expectedDenied = [...reference.denied].sort(byPathAndCoordinate);
  const actual = {
    roots: plan.rootFields.map((r) => ({ responseKey: r.responseKey, coordinate: r.coordinate, allowed: r.decision.allowed, reason: r.decision.allowed ? undefined : r.decision.reason })),
    // Past MAX_LISTED_DENIALS the plan lists some and counts the rest.
    denied: expectedDenied.length > MAX_LISTED_DENIALS ? denied.every((d) => expectedDenied.some((x) => JSON.stringify(x) === JSON.stringify(d))) : denied,
    deniedTotal: plan.denied.length + plan.deniedUnlisted,
    everyFieldAllowed: new FieldGuard(principal, 'filter', index).decide(plan.requirement).allowed,
  };
  const expected = { roots: reference.roots, denied: expectedDenied.length > MAX_LISTED_DENIALS ? true : expectedDenied, deniedTotal: expectedDenied.length, everyFieldAllowed: reference.everyFieldAllowed };
  expect({ query: op.query, variables: op.variables, principal: p, ...actual }).toEqual({ query: op.query, variables: op.variables, principal: p, ...expected });
}

// ---- Executed: secrets seeded in the database never reach a principal that may not read them ----

interface Secret {
  readonly label: string;
  /** How the value appears in a JSON response. */
  readonly json: string;
  readonly owner: 'alice' | 'bob';
  /** The field holding it. */
  readonly type: string;
  readonly field: string;
}

/** Whether `principal` may read the secret: the field's annotations allow it, and it owns the object or has admin:orders (the domain's rule). */
function mayRead(secret: Secret, p: PrincipalCase, principal: Principal): boolean {
  return referenceDecision(annotations.field(secret.type, secret.field), principal).allowed && (p.who === secret.owner || principal.scopes.has('admin:orders'));
}

describe.each(databaseTargets())('responses to random operations executed on $name', (target) => {
  let fixture: AuthorizationFixture;
  let api: TestApi;
  let secrets: Secret[];
  let operations: fc.Arbitrary<GeneratedOperation>;

  beforeAll(async () => {
    fixture = await openAuthorizationFixture(target);
    api = await createTestApi(fixture.database, 'filter', silentLogger, { mode: 'enforce', maxTokens: 100_000, operation: UNBOUNDED });
    const mark = randomBytes(6).toString('hex');
    secrets = [];
    for (const owner of ['alice', 'bob'] as const) {
      const displayName = `${owner}-name-${mark}`;
      const email = `${owner}-mail-${mark}@example.test`;
      await fixture.database.db.updateTable('profiles').set({ display_name: displayName, email }).where('subject', '=', owner).execute();
      const { ids } = fixture;
      secrets.push(
        { label: `${owner}'s displayName`, json: JSON.stringify(displayName), owner, type: 'Profile', field: 'displayName' },
        { label: `${owner}'s email`, json: JSON.stringify(email), owner, type: 'Profile', field: 'email' },
        { label: `${owner}'s profile id`, json: JSON.stringify(owner === 'alice' ? ids.aliceProfile : ids.bobProfile), owner, type: 'Profile', field: 'id' },
        { label: `${owner}'s order id`, json: JSON.stringify(owner === 'alice' ? ids.aliceOrder : ids.bobOrder), owner, type: 'Order', field: 'id' },
      );
    }
    const { ids } = fixture;
    const all = operationArbitrary(schema, {
      order: [ids.aliceOrder, ids.bobOrder, ids.missingOrder],
      product: [ids.product, toGlobalId('Product', 2)],
      profile: [ids.aliceProfile, ids.bobProfile, ids.missingProfile],
    });
    // node(id:) reaches any object by its ID, someone else's too: half the cases use it.
    operations = fc.oneof(all, all.filter((op) => /\bnode\(/.test(op.query)));
  });
  afterAll(async () => {
    await api?.stop();
    await fixture?.cleanup();
  });

  const run = (query: string, p: PrincipalCase, variables: Record<string, unknown> = {}): Promise<ApiResult> => api.run(query, { principal: principalOf(p), variables });
  const leaked = (r: ApiResult, p: PrincipalCase): string[] => {
    const text = JSON.stringify({ data: r.data, errors: r.errors });
    return secrets.filter((s) => !mayRead(s, p, principalOf(p)) && text.includes(s.json)).map((s) => s.label);
  };

  it('finds the seeded secrets in responses to principals that may read them (the check below can fail)', async () => {
    const everything = ['read:profile', 'read:email', 'read:orders'];
    const mine = await run('{ me { id displayName email orders(first: 5) { edges { node { id } } } } }', { who: 'alice', scopes: everything });
    const all = await run('{ orders(first: 10) { edges { node { id customer { id displayName email } } } } }', { who: 'client', scopes: [...everything, 'admin:orders'] });
    const found = (r: ApiResult) => secrets.filter((s) => JSON.stringify(r.data).includes(s.json)).map((s) => s.label);
    expect({ mine: found(mine), all: found(all) }).toEqual({ mine: secrets.filter((s) => s.owner === 'alice').map((s) => s.label), all: secrets.map((s) => s.label) });
    // Bob's secrets are another user's to alice even with every scope but admin:orders.
    expect(leaked(mine, { who: 'bob', scopes: everything })).toEqual(secrets.filter((s) => s.owner === 'alice').map((s) => s.label));
  });

  it('never answers with a secret of a field the principal may not read or of another user, nor a value at a denied field', async () => {
    await checkProperty(
      `authorization: executed responses leak nothing (${target.name})`,
      fc.asyncProperty(operations, fc.array(principalArbitrary, { minLength: 2, maxLength: 3 }), async (op, principals) => {
        for (const p of principals) await checkResponse(op, p);
      }),
      EXECUTED_RUNS,
    );
  });

  async function checkResponse(op: GeneratedOperation, p: PrincipalCase): Promise<void> {
    const principal = principalOf(p);
    const reference = referencePlan(op, principal);
    const r = await run(op.query, p, op.variables);
    // node(id:) applies its target's rules: an ID naming a type the caller may not read denies the node field itself.
    const deniedNodes = nodeDenials(op, principal);
    const deniedPaths = new Set([...reference.denied.map((d) => d.path), ...deniedNodes]);
    const seen = {
      status: r.status,
      leaked: leaked(r, p),
      valuesAtDenied: [...reference.denied.filter((d) => !d.conditional).map((d) => d.path), ...deniedNodes].filter((path) => valuesAt(r.data, path.split('.')).some((v) => v !== null && v !== undefined)),
      unexpectedErrors: (r.errors ?? [])
        .filter((e) => !['FORBIDDEN', 'UNAUTHENTICATED'].includes(String(e.extensions?.['code'])) || (e.path !== undefined && !deniedPaths.has(pathKey(e.path))))
        .map((e) => ({ code: e.extensions?.['code'], path: pathKey(e.path) })),
    };
    expect({ query: op.query, variables: op.variables, principal: p, ...seen }).toEqual({
      query: op.query,
      variables: op.variables,
      principal: p,
      status: expectedStatus(reference, principal),
      leaked: [],
      valuesAtDenied: [],
      unexpectedErrors: [],
    });
  }
});
