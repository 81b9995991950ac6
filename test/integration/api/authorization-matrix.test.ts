/**
 * A generated authorization matrix: every field of the schema with a non-empty effective
 * requirement (`index.protectedFields`) is reached through every root that leads to its type —
 * typed fields (`order(id:)`, `orders`, `me`, mutation payloads) and `node(id:)` with an inline
 * fragment — by the shortest path in the schema, and asserted to be
 *   (a) resolved with exactly the scopes of its requirement's first alternative plus those the
 *       path needs;
 *   (b) denied without each one of its own scopes: `FORBIDDEN` with `requiredScopes` and
 *       `missingScopes` at the first field on the path that needs the scope (the field itself
 *       when the path does not need it), or 403 `insufficient_scope` when that is the root field;
 *   (c) denied anonymously: `UNAUTHENTICATED` there, or 401 for root fields;
 *   (d) for fields that need a user token: denied to a client token holding every scope.
 * Mutations rejected before execution must write nothing. Nothing here is hand-listed except the
 * arguments of root fields (which need real IDs) and the data set-up, so a newly annotated field
 * is covered automatically; the coverage test fails when a protected field cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { ANONYMOUS, type Principal } from '../../../src/auth/principal.js';
import type { Requirement } from '../../../src/authz/requirement.js';
import { buildSchema } from '../../../src/graphql/schema.js';
import { toGlobalId } from '../../../src/graphql/global-id.js';
import type { ApiResult } from '../../fixtures/api.js';
import { databaseTargets } from '../../fixtures/databases.js';
import { type AuthorizationFixture, openAuthorizationFixture, pathKey, valuesAt } from '../../fixtures/authorization.js';

const { schema, index } = buildSchema();

/**
 * Protected coordinates the matrix deliberately does not reach. Empty: every protected field is
 * covered. Add `Type.field` here only with a comment saying why it cannot be reached.
 */
// Subscriptions are served over WebSocket, not executeOperation: their root fields and the fields
// only an event reaches are decided by the same plan and guards, and tested per subscribe and per
// event in test/e2e/subscriptions.test.ts (denied root field, denied nested field, ownership).
const EXCLUDED: readonly string[] = ['OrderEvent.order', 'OrderEvent.previousStatus', 'OrderEvent.status', 'Subscription.orderEvents', 'Subscription.orderUpdated'];

/**
 * Arguments for root fields that need them (the only hand-written part: real IDs and valid
 * input). `target` is the concrete type selected by the inline fragment for abstract roots.
 * A root field with required arguments missing here makes the coverage test fail.
 */
const ROOT_ARGUMENTS: Record<string, (fx: AuthorizationFixture, target: string) => string | Promise<string>> = {
  'Query.node': (fx, target) => {
    const id = ({ Order: fx.ids.aliceOrder, Profile: fx.ids.aliceProfile, Product: fx.ids.product } as Record<string, string>)[target];
    if (id === undefined) throw new Error(`no sample object of type ${target} for node(id:)`);
    return `(id: "${id}")`;
  },
  'Query.order': (fx) => `(id: "${fx.ids.aliceOrder}")`,
  'Query.orders': () => '(first: 50)',
  'Query.product': (fx) => `(id: "${fx.ids.product}")`,
  'Mutation.placeOrder': () => `(input: { items: [{ productId: "${toGlobalId('Product', 1)}", quantity: 1 }] })`,
  // Each run needs a fresh PENDING order of alice's (created before counting statements).
  'Mutation.cancelOrder': async (fx) => `(id: "${await fx.placeAliceOrder()}")`,
  'Mutation.updateOrderStatus': async (fx) => `(id: "${await fx.placeAliceOrder()}", status: PAID)`,
  'Mutation.updateProfile': () => '(input: { displayName: "Alice" })',
};

/** Roots exercised with a client token (client credentials) rather than alice's user token. */
const CLIENT_ROOTS: ReadonlySet<string> = new Set(['Query.orders', 'Mutation.updateOrderStatus']);

/**
 * Public roots that apply the requirement of the type they resolve to in their resolver
 * (README: "`node` applies its target's rules"); a denial there is a field error at the root.
 */
const TYPE_CHECKED_ROOTS: ReadonlySet<string> = new Set(['Query.node']);

// ---------------------------------------------------------------------------------------------
// Routes, computed from the schema

interface Step {
  /** Concrete type the field is selected on. */
  readonly parent: string;
  readonly field: string;
  /** Inline fragment applied to the field's value (abstract return types). */
  readonly condition: string | undefined;
  /** What is checked when this field resolves. */
  readonly requirement: Requirement;
  /** The requirement of the field alone, as the operation's whole requirement counts it. */
  readonly fieldRequirement: Requirement;
}

interface Route {
  readonly coordinate: string;
  readonly operation: 'query' | 'mutation';
  readonly root: string;
  readonly principal: 'user' | 'client';
  /** Root first, the covered field last. */
  readonly steps: readonly Step[];
  readonly label: string;
}

type Link = { parent: GraphQLObjectType; field: GraphQLField<unknown, unknown>; condition: string | undefined; target: GraphQLObjectType };

/** Concrete types a value of this type can have, with the inline fragment needed to select each. */
function concreteTargets(type: GraphQLNamedType): Array<{ target: GraphQLObjectType; condition: string | undefined }> {
  if (isObjectType(type)) return [{ target: type, condition: undefined }];
  if (isAbstractType(type)) return schema.getPossibleTypes(type).map((t) => ({ target: t, condition: t.name }));
  return [];
}

const hasRequiredArgs = (field: GraphQLField<unknown, unknown>) => field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined);

/** Shortest field paths from `start` to every object type reachable from it (no arguments needed). */
function shortestPaths(start: GraphQLObjectType): Map<string, Link[]> {
  const paths = new Map<string, Link[]>([[start.name, []]]);
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const field of Object.values(current.getFields())) {
      if (hasRequiredArgs(field)) continue;
      for (const { target, condition } of concreteTargets(getNamedType(field.type))) {
        if (paths.has(target.name)) continue;
        paths.set(target.name, [...paths.get(current.name)!, { parent: current, field, condition, target }]);
        queue.push(target);
      }
    }
  }
  return paths;
}

const missingRootArguments = new Set<string>();

function step(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>, condition: string | undefined): Step {
  const fieldRequirement = index.field(parent.name, field.name);
  const coordinate = `${parent.name}.${field.name}`;
  const typeCheck = TYPE_CHECKED_ROOTS.has(coordinate) && condition !== undefined ? index.type(condition) : undefined;
  if (hasRequiredArgs(field) && !(coordinate in ROOT_ARGUMENTS)) missingRootArguments.add(coordinate);
  return { parent: parent.name, field: field.name, condition, fieldRequirement, requirement: typeCheck ? mergeRequirements(fieldRequirement, typeCheck) : fieldRequirement };
}

/** AND of two requirements using their first alternatives (the matrix's own arithmetic). */
function mergeRequirements(a: Requirement, b: Requirement): Requirement {
  const scopes = [...new Set([...firstAlternative(a), ...firstAlternative(b)])].sort();
  return { authenticated: a.authenticated || b.authenticated, user: a.user || b.user, scopes: scopes.length > 0 ? [scopes] : [] };
}

function firstAlternative(r: Requirement): readonly string[] {
  return r.scopes[0] ?? [];
}

function label(steps: readonly Step[]): string {
  return steps
    .map((s, i) => `${s.field}${i === 0 && `${s.parent}.${s.field}` in ROOT_ARGUMENTS ? '(…)' : ''}${s.condition ? ` … on ${s.condition}` : ''}`)
    .join(' › ');
}

function computeRoutes(): Route[] {
  const roots = [
    { type: schema.getQueryType(), operation: 'query' as const },
    { type: schema.getMutationType(), operation: 'mutation' as const },
  ].filter((r): r is { type: GraphQLObjectType; operation: 'query' | 'mutation' } => r.type != null);
  const entries = roots.flatMap(({ type, operation }) =>
    Object.values(type.getFields()).flatMap((field) =>
      concreteTargets(getNamedType(field.type)).map(({ target, condition }) => ({
        operation,
        rootType: type,
        field,
        condition,
        paths: shortestPaths(target),
      })),
    ),
  );
  const routes: Route[] = [];
  for (const { coordinate } of index.protectedFields) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const type = schema.getType(typeName);
    if (!isObjectType(type)) continue; // interface coordinates are covered through their implementations
    const field = type.getFields()[fieldName]!;
    const rootOperation = roots.find((r) => r.type === type)?.operation;
    const make = (operation: 'query' | 'mutation', steps: Step[]): Route => {
      const rootCoordinate = `${steps[0]!.parent}.${steps[0]!.field}`;
      return { coordinate, operation, root: rootCoordinate, principal: CLIENT_ROOTS.has(rootCoordinate) ? 'client' : 'user', steps, label: label(steps) };
    };
    if (rootOperation) {
      routes.push(make(rootOperation, [step(type, field, undefined)]));
      continue;
    }
    const reaching = (operation: 'query' | 'mutation') =>
      entries
        .filter((e) => e.operation === operation && e.paths.has(typeName))
        .map((e) =>
          make(operation, [
            step(e.rootType, e.field, e.condition),
            ...e.paths.get(typeName)!.map((l) => step(l.parent, l.field, l.condition)),
            step(type, field, undefined),
          ]),
        );
    // Mutations only where no query reaches the type (they write on every allowed run).
    const viaQueries = reaching('query');
    routes.push(...(viaQueries.length > 0 ? viaQueries : reaching('mutation')));
  }
  return routes;
}

const routes = computeRoutes();

// ---------------------------------------------------------------------------------------------
// Expected outcomes, computed independently of the engine

interface ExpectedDenial {
  readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN';
  readonly reason: 'no_token' | 'user_required' | 'insufficient_scope';
  readonly requiredScopes: readonly string[];
  readonly missingScopes: readonly string[];
}

function deniedBy(r: Requirement, p: Principal): ExpectedDenial | undefined {
  if (!r.authenticated) return undefined;
  const cheapest = () => {
    let best: readonly string[] = [];
    let missing: string[] = [];
    for (const alt of r.scopes) {
      const m = alt.filter((s) => !p.scopes.has(s));
      if (best.length === 0 || m.length < missing.length) {
        best = alt;
        missing = m;
      }
    }
    return { requiredScopes: [...best], missingScopes: missing };
  };
  if (p.kind === 'anonymous') return { code: 'UNAUTHENTICATED', reason: 'no_token', ...cheapest() };
  if (r.user && p.kind !== 'user') return { code: 'FORBIDDEN', reason: 'user_required', ...cheapest() };
  if (r.scopes.length > 0 && !r.scopes.some((alt) => alt.every((s) => p.scopes.has(s)))) return { code: 'FORBIDDEN', reason: 'insufficient_scope', ...cheapest() };
  return undefined;
}

/** Every scope the route needs: the first alternative of each requirement along it. */
function neededScopes(route: Route): string[] {
  return [...new Set(route.steps.flatMap((s) => firstAlternative(s.requirement)))].sort();
}

/** What the whole operation requires (every selected field): the `scope=` of a 403 challenge. */
function operationScopes(route: Route): string[] {
  return [...new Set(route.steps.flatMap((s) => firstAlternative(s.fieldRequirement)))].sort();
}

/** The first step on the route whose requirement the principal does not meet. */
function firstDenied(route: Route, p: Principal): { at: number; denial: ExpectedDenial } | undefined {
  for (let at = 0; at < route.steps.length; at++) {
    const denial = deniedBy(route.steps[at]!.requirement, p);
    if (denial) return { at, denial };
  }
  return undefined;
}

function render(route: Route, rootArgs: string): string {
  const { steps } = route;
  const selection = (i: number): string => {
    const s = steps[i]!;
    const args = i === 0 ? rootArgs : '';
    const type = getNamedType((schema.getType(s.parent) as GraphQLObjectType).getFields()[s.field]!.type);
    if (i === steps.length - 1) return `${s.field}${args}${isCompositeType(type) ? ' { __typename }' : ''}`;
    const inner = selection(i + 1);
    return `${s.field}${args} { ${s.condition ? `... on ${s.condition} { ${inner} }` : inner} }`;
  };
  return `${route.operation === 'mutation' ? 'mutation ' : ''}{ ${selection(0)} }`;
}

// ---------------------------------------------------------------------------------------------

describe('authorization matrix: routes', () => {
  it('reaches every protected field of the schema (minus the explicit exclusions)', () => {
    const protectedCoordinates = index.protectedFields
      .map((f) => f.coordinate)
      .filter((c) => isObjectType(schema.getType(c.split('.')[0]!)));
    const covered = [...new Set(routes.map((r) => r.coordinate))].sort();
    expect(missingRootArguments).toEqual(new Set());
    expect(covered).toEqual(protectedCoordinates.filter((c) => !EXCLUDED.includes(c)));
    expect(covered).toHaveLength(index.protectedFields.length - EXCLUDED.length);
  });

  it('reaches every protected field of a Node type both through a typed field and through node(id:)', () => {
    for (const coordinate of new Set(routes.map((r) => r.coordinate))) {
      const type = schema.getType(coordinate.split('.')[0]!);
      if (!isObjectType(type) || !type.getInterfaces().some((i) => i.name === 'Node')) continue;
      const viaRoots = routes.filter((r) => r.coordinate === coordinate).map((r) => r.root);
      expect({ coordinate, node: viaRoots.includes('Query.node') }).toEqual({ coordinate, node: true });
      expect({ coordinate, typed: viaRoots.some((r) => r !== 'Query.node') }).toEqual({ coordinate, typed: true });
    }
  });
});

describe.each(databaseTargets())('authorization matrix on $name', (target) => {
  let fx: AuthorizationFixture;
  beforeAll(async () => {
    fx = await openAuthorizationFixture(target);
  });
  afterAll(async () => {
    await fx?.cleanup();
  });

  const principalOf = (route: Route, kind: 'user' | 'client' | 'anonymous', scopes: readonly string[]): Principal =>
    kind === 'anonymous' ? ANONYMOUS : kind === 'client' ? fx.client(scopes) : fx.alice(scopes);

  const rootArgs = async (route: Route) => {
    const root = route.steps[0]!;
    const coordinate = `${root.parent}.${root.field}`;
    const args = ROOT_ARGUMENTS[coordinate];
    return args ? args(fx, root.condition ?? getNamedType((schema.getType(root.parent) as GraphQLObjectType).getFields()[root.field]!.type).name) : '';
  };

  /** Runs the route's operation; for rejected operations, proves nothing was read or written. */
  async function run(route: Route, principal: Principal): Promise<{ result: ApiResult; statements: number; unchanged: boolean }> {
    const query = render(route, await rootArgs(route));
    const before = await fx.snapshot();
    fx.database.statements.reset();
    const result = await fx.api.run(query, { principal });
    const statements = fx.database.statements.count;
    const unchanged = (await fx.snapshot()) === before;
    return { result, statements, unchanged };
  }

  function expectDenied(route: Route, principal: Principal, outcome: Awaited<ReturnType<typeof run>>, expected: { at: number; denial: ExpectedDenial }): void {
    const { result } = outcome;
    const keys = route.steps.slice(0, expected.at + 1).map((s) => s.field);
    const extensions = {
      code: expected.denial.code,
      reason: expected.denial.reason,
      requiredScopes: expected.denial.requiredScopes,
      missingScopes: expected.denial.missingScopes,
    };
    const rootRejected = expected.at === 0 && !TYPE_CHECKED_ROOTS.has(route.root);
    if (rootRejected) {
      // The only root field is denied: the request is refused before anything executes.
      expect(result.status).toBe(principal.kind === 'anonymous' ? 401 : 403);
      const challenge = result.headers.get('www-authenticate') ?? '';
      if (principal.kind === 'anonymous') {
        expect(challenge).toMatch(/^Bearer realm="[^"]+", resource_metadata="[^"]+"$/);
      } else {
        expect(challenge).toContain('error="insufficient_scope"');
        expect(challenge).toContain(`scope="${operationScopes(route).join(' ')}"`);
      }
      expect(result.data).toBeUndefined();
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]).toMatchObject({ path: keys, extensions });
      expect(outcome.statements).toBe(0);
      expect(outcome.unchanged).toBe(true);
      return;
    }
    expect(result.status).toBe(200);
    expect(result.errors?.length ?? 0).toBeGreaterThan(0);
    for (const error of result.errors ?? []) {
      expect({ path: pathKey(error.path), extensions: error.extensions }).toEqual({ path: keys.join('.'), extensions: expect.objectContaining(extensions) });
    }
    const values = valuesAt(result.data, keys);
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(v ?? null).toBeNull();
  }

  describe.each(routes.map((r) => [`${r.coordinate} via ${r.label}`, r] as const))('%s', (_name, route) => {
    const needed = neededScopes(route);
    const leaf = route.steps[route.steps.length - 1]!;
    const keys = route.steps.map((s) => s.field);

    it(`resolves with exactly [${needed.join(' ')}]`, async () => {
      const { result } = await run(route, principalOf(route, route.principal, needed));
      expect(result.errors).toBeUndefined();
      expect(result.status).toBe(200);
      const values = valuesAt(result.data, keys);
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) expect(v).not.toBeNull();
      for (const v of values) expect(v).toBeDefined();
    });

    it.each(firstAlternative(leaf.requirement).map((s) => [s]))('is denied without %s', async (scope) => {
      const principal = principalOf(route, route.principal, needed.filter((s) => s !== scope));
      const expected = firstDenied(route, principal);
      expect(expected).toBeDefined();
      // Denied at the field itself unless its parent already needs the scope.
      if (!route.steps.slice(0, -1).some((s) => firstAlternative(s.requirement).includes(scope))) expect(expected?.at).toBe(route.steps.length - 1);
      expectDenied(route, principal, await run(route, principal), expected!);
    });

    it('is denied anonymously', async () => {
      const expected = firstDenied(route, ANONYMOUS);
      expect(expected?.denial.code).toBe('UNAUTHENTICATED');
      expectDenied(route, ANONYMOUS, await run(route, ANONYMOUS), expected!);
    });

    if (route.steps.some((s) => s.requirement.user)) {
      it('is denied to a client token holding every scope', async () => {
        const principal = principalOf(route, 'client', needed);
        const expected = firstDenied(route, principal);
        expect(expected?.denial.reason).toBe('user_required');
        expectDenied(route, principal, await run(route, principal), expected!);
      });
    }
  });
});
