import { readFileSync } from 'node:fs';
import { type CliIo, isEntryPoint, parseCliArgs, processIo, usageError } from './cli-io.js';
export type { CliIo } from './cli-io.js';
import { type DocumentNode, GraphQLError, parse } from 'graphql';
import type { AuthorizedSchema } from '../authz/authorization-transform.js';
import { InvalidOperationError, type OperationScopes, scopesForDocument } from '../authz/operation-scopes.js';
import { schemaReport } from '../authz/schema-report.js';
import { buildSchema } from '../graphql/schema.js';
import { type TrustedDocuments, analyseTrustedDocuments, shortId } from '../graphql/trusted-documents.js';
import { ManifestError, parsePersistedQueryManifest } from '../lib/persisted-query-manifest.js';

export const USAGE = `Usage: npm run -s scopes -- <file.graphql> [--json]
       npm run -s scopes -- --manifest <persisted-query-manifest.json> [--json]
       npm run -s scopes -- --schema

Prints the scopes a client must request for every operation in the file, read from the schema's
@requiresScope annotations (no database or network needed).

  --json      machine-readable JSON instead of text
  --manifest  every operation of a persisted query manifest (apollo-persisted-query-manifest),
              and the scopes the client must request from its authorization server for all of them
  --schema    print every type and field with its requirement, and the scope catalog
  --help      show this help

A field under @skip/@include with a variable condition counts as included.
Exit status: 0 success, 1 the schema failed to build, 2 bad arguments, unreadable file or invalid operation.
`;

/** The JSON printed by `--json`. */
export interface ScopesCliReport {
  readonly file: string;
  readonly operations: ReadonlyArray<Omit<OperationScopes, 'requirement'>>;
}

/** The JSON printed by `--manifest FILE --json`. */
export interface ManifestScopesCliReport {
  readonly file: string;
  readonly operations: ReadonlyArray<{ readonly id: string; readonly name: string; readonly type: string; readonly cost?: number } & Omit<OperationScopes, 'requirement' | 'operationName' | 'operationType'>>;
  /** What the client must request so that every operation runs: the union of each operation's `scopes`. */
  readonly scopes: string[];
  /** Some operation needs a user token (client credentials are refused for it). */
  readonly userToken: boolean;
}

/**
 * Runs `npm run scopes`. Returns the exit code: 0 success, 1 the schema failed to build,
 * 2 bad arguments, an unreadable file or an invalid operation.
 *
 * @param loadSchema Builds the schema; default {@link buildSchema} (SDL and resolvers only).
 */
export async function runScopesCli(args: string[], io: CliIo, loadSchema: () => AuthorizedSchema = buildSchema): Promise<number> {
  const parsed = parseCliArgs(args, { json: { type: 'boolean' }, schema: { type: 'boolean' }, manifest: { type: 'string' } }, { io, usage: USAGE, allowPositionals: true });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (values.schema && (positionals.length > 0 || values.json || values.manifest !== undefined)) return usageError(io, '--schema takes no file, no --manifest and no --json', USAGE);
  if (values.manifest !== undefined && positionals.length > 0) return usageError(io, '--manifest takes no .graphql file', USAGE);
  if (!values.schema && values.manifest === undefined && positionals.length !== 1) return usageError(io, 'name exactly one .graphql file', USAGE);

  let authorized: AuthorizedSchema;
  try {
    authorized = loadSchema();
  } catch (error) {
    io.stderr(`The schema failed to build: ${error instanceof Error ? error.message : 'unknown error'}\n`);
    return 1;
  }
  if (values.schema) {
    io.stdout(schemaReport(authorized.schema, authorized.index));
    return 0;
  }

  const file = values.manifest ?? positionals[0]!;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : 'unreadable';
    io.stderr(`Cannot read ${file}: ${reason}\n`);
    return 2;
  }
  if (values.manifest !== undefined) return manifestReport(file, source, authorized, values.json === true, io);

  let operations: OperationScopes[];
  try {
    const document: DocumentNode = parse(source);
    operations = scopesForDocument(authorized.schema, authorized.index, document);
  } catch (error) {
    if (error instanceof GraphQLError) {
      const at = error.locations?.[0];
      io.stderr(`${file}${at ? `:${at.line}:${at.column}` : ''}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InvalidOperationError) {
      io.stderr(`${file}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  if (values.json) {
    const report: ScopesCliReport = { file, operations: operations.map(({ requirement: _, ...rest }) => rest) };
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.stdout(operations.map((o) => renderText(o)).join('\n'));
  }
  return 0;
}

/** `--manifest`: every trusted operation's scopes (the analysis the server runs at start-up), and their union. */
function manifestReport(file: string, source: string, authorized: AuthorizedSchema, json: boolean, io: CliIo): number {
  let trusted: TrustedDocuments;
  try {
    trusted = analyseTrustedDocuments(authorized.schema, authorized.index, parsePersistedQueryManifest(source));
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    const where = error.index === undefined ? '' : ` operations[${error.index}]${error.field === undefined ? '' : `.${error.field}`}`;
    io.stderr(`${file}${where}: ${error.message}\n`);
    return 2;
  }
  const union = [...new Set(trusted.operations.flatMap((o) => o.scopes.scopes))].sort();
  const userToken = trusted.operations.some((o) => o.scopes.userToken);
  if (json) {
    const report: ManifestScopesCliReport = {
      file,
      operations: trusted.operations.map(({ id, name, type, cost, scopes: { requirement: _r, operationName: _n, operationType: _t, ...rest } }) => ({ id, name, type, ...(cost === undefined ? {} : { cost }), ...rest })),
      scopes: union,
      userToken,
    };
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const sections = trusted.operations.map((o) => renderText(o.scopes, ` (id ${shortId(o.id)}${o.cost === undefined ? '' : `, cost ${o.cost}`})`));
  const total = [`request: ${union.length > 0 ? union.join(' ') : 'no scope'}`];
  if (userToken) total.push('token:   a user token (some operations refuse client credentials)');
  io.stdout(`${[...sections, `${total.join('\n')}\n`].join('\n')}`);
  return 0;
}

function renderText(o: OperationScopes, suffix = ''): string {
  const lines = [`${o.operationType} ${o.operationName ?? '(anonymous)'}${suffix}`];
  if (o.alternatives.length === 0) lines.push(`  scopes: none${o.authenticated ? '' : ' (public)'}`);
  else lines.push(`  scopes: ${o.scopes.join(' ')}`);
  lines.push(`  cost:   ${o.cost}`);
  if (o.alternatives.length > 1) lines.push(`  or any of: ${o.alternatives.slice(1).map((a) => a.join(' ')).join(' | ')}`);
  if (o.userToken) lines.push('  token:  a user token (client credentials are refused)');
  else if (o.authenticated) lines.push('  token:  any valid token');
  for (const note of o.notes) lines.push(`  note:   ${note}`);
  return `${lines.join('\n')}\n`;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await runScopesCli(process.argv.slice(2), processIo);
}
