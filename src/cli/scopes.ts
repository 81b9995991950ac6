import { readFileSync } from 'node:fs';
import { type CliIo, isEntryPoint, parseCliArgs, processIo, usageError } from './cli-io.js';
export type { CliIo } from './cli-io.js';
import { type DocumentNode, GraphQLError, parse } from 'graphql';
import type { AuthorizedSchema } from '../authz/authorization-transform.js';
import { InvalidOperationError, type OperationScopes, scopesForDocument } from '../authz/operation-scopes.js';
import { schemaReport } from '../authz/schema-report.js';
import { buildSchema } from '../graphql/schema.js';

export const USAGE = `Usage: npm run -s scopes -- <file.graphql> [--json]
       npm run -s scopes -- --schema

Prints the scopes a client must request for every operation in the file, read from the schema's
@requiresScope annotations (no database or network needed).

  --json      machine-readable JSON instead of text
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

/**
 * Runs `npm run scopes`. Returns the exit code: 0 success, 1 the schema failed to build,
 * 2 bad arguments, an unreadable file or an invalid operation.
 *
 * @param loadSchema Builds the schema; default {@link buildSchema} (SDL and resolvers only).
 */
export async function runScopesCli(args: string[], io: CliIo, loadSchema: () => AuthorizedSchema = buildSchema): Promise<number> {
  const parsed = parseCliArgs(args, { json: { type: 'boolean' }, schema: { type: 'boolean' } }, { io, usage: USAGE, allowPositionals: true });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (values.schema && (positionals.length > 0 || values.json)) return usageError(io, '--schema takes no file and no --json', USAGE);
  if (!values.schema && positionals.length !== 1) return usageError(io, 'name exactly one .graphql file', USAGE);

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

  const file = positionals[0]!;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : 'unreadable';
    io.stderr(`Cannot read ${file}: ${reason}\n`);
    return 2;
  }

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
    io.stdout(operations.map(renderText).join('\n'));
  }
  return 0;
}

function renderText(o: OperationScopes): string {
  const lines = [`${o.operationType} ${o.operationName ?? '(anonymous)'}`];
  if (o.alternatives.length === 0) lines.push(`  scopes: none${o.authenticated ? '' : ' (public)'}`);
  else lines.push(`  scopes: ${o.scopes.join(' ')}`);
  if (o.alternatives.length > 1) lines.push(`  or any of: ${o.alternatives.slice(1).map((a) => a.join(' ')).join(' | ')}`);
  if (o.userToken) lines.push('  token:  a user token (client credentials are refused)');
  else if (o.authenticated) lines.push('  token:  any valid token');
  for (const note of o.notes) lines.push(`  note:   ${note}`);
  return `${lines.join('\n')}\n`;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await runScopesCli(process.argv.slice(2), processIo);
}
