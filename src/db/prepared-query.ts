import type { CompiledQuery, Compilable, Kysely } from 'kysely';

import { setBounded } from '../lib/bounded-map.js';
import type { DatabaseSchema } from './database-schema.js';

type Db = Kysely<DatabaseSchema>;

const SLOT = Symbol('prepared-query slot');

/** Stands for argument `index` (element `element` of a list argument) while a query is compiled. */
interface Slot {
  readonly [SLOT]: true;
  readonly index: number;
  readonly element: number;
}

function isSlot(value: unknown): value is Slot {
  return typeof value === 'object' && value !== null && SLOT in value;
}

/** Placeholders handed to a prepared query's builder, standing for the arguments of each execution. */
export interface Placeholders {
  /** Argument `index`, a single value. */
  value<T>(index: number): T;
  /** Argument `index`, a list (as many placeholders as this execution's list has elements). */
  list<T>(index: number): T[];
}

/** Where each parameter of a compiled query comes from: an argument (or list element), or a constant. */
type ParameterSource = { readonly index: number; readonly element: number } | { readonly constant: unknown };

interface Prepared {
  readonly query: CompiledQuery;
  readonly sources: readonly ParameterSource[];
}

/** A query built and compiled once per dialect and argument shape, then executed with new arguments. */
export interface PreparedQuery<Row> {
  /** Runs the query with `args` (in the order the builder's placeholders name them). */
  execute(db: Db, args: readonly unknown[]): Promise<Row[]>;
}

/** Compiled shapes kept per query and dialect (list lengths, absent arguments). */
const MAX_SHAPES = 64;

/** The arguments' shape: list lengths and which arguments are absent; each shape is its own SQL. */
function shapeOf(args: readonly unknown[]): string {
  let key = '';
  for (const arg of args) key += Array.isArray(arg) ? `${arg.length},` : arg === null || arg === undefined ? '-,' : '.,';
  return key;
}

/**
 * Prepares a Kysely query for the hot read paths: `build` runs once per dialect and argument
 * shape with placeholders instead of values (`args` tells it which optional arguments are absent
 * and how long the lists are), and later executions only put the arguments into the compiled
 * parameters, skipping Kysely's query building and compilation (several microseconds a query,
 * as much as SQLite takes to answer a point lookup).
 *
 * Only for plugin-free Kysely instances (ours): a plugin's `transformQuery` would run once, at
 * compilation, not per execution.
 *
 * @example
 * const byIdentity = preparedQuery((db, $) => db.selectFrom('profiles').selectAll()
 *   .where('issuer', '=', $.value<string>(0)).where('subject', '=', $.value<string>(1)));
 * const rows = await byIdentity.execute(db, [issuer, subject]);
 */
export function preparedQuery<Row>(build: (db: Db, $: Placeholders, args: readonly unknown[]) => Compilable<Row>): PreparedQuery<Row> {
  // Keyed by the dialect adapter: the same SQL serves the database handle and its transactions.
  // Plain Maps, not lru-cache: a lookup per execution over a few shapes, nearly always a hit,
  // which costs 14 ns against lru-cache's 28 ns (`npx tsx bench/cache-bench.ts --size 500`).
  const byDialect = new WeakMap<object, Map<string, Prepared>>();

  const compile = (db: Db, args: readonly unknown[]): Prepared => {
    const slot = (index: number, element: number): Slot => ({ [SLOT]: true, index, element });
    const $: Placeholders = {
      value: <T>(index: number) => slot(index, -1) as unknown as T,
      list: <T>(index: number) => (args[index] as readonly unknown[]).map((_, element) => slot(index, element) as unknown as T),
    };
    const query = build(db, $, args).compile();
    const sources = query.parameters.map((parameter): ParameterSource => (isSlot(parameter) ? { index: parameter.index, element: parameter.element } : { constant: parameter }));
    return { query, sources };
  };

  return {
    async execute(db, args) {
      const adapter = db.getExecutor().adapter;
      let shapes = byDialect.get(adapter);
      if (shapes === undefined) byDialect.set(adapter, (shapes = new Map()));
      const shape = shapeOf(args);
      const prepared = shapes.get(shape) ?? setBounded(shapes, shape, compile(db, args), MAX_SHAPES);
      const parameters = prepared.sources.map((source) => ('constant' in source ? source.constant : source.element < 0 ? args[source.index] : (args[source.index] as readonly unknown[])[source.element]));
      const { query, queryId, sql } = prepared.query;
      const result = await db.executeQuery<Row>({ query, queryId, sql, parameters } as CompiledQuery<Row>);
      return result.rows;
    },
  };
}
