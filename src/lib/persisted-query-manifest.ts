import { createHash } from 'node:crypto';
import { type DocumentNode, GraphQLError, Kind, type OperationDefinitionNode, parse } from 'graphql';

/** `format` of the file `@apollo/generate-persisted-query-manifest` writes. */
export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

export type ManifestOperationType = 'query' | 'mutation' | 'subscription';

/** One trusted operation of the manifest, exactly as the file gives it. */
export interface ManifestOperation {
  /** SHA-256 of `body`, lowercase hex: what clients send as `extensions.persistedQuery.sha256Hash`. */
  readonly id: string;
  readonly name: string;
  readonly type: ManifestOperationType;
  /** The operation and the fragments it uses, as the client sends it. */
  readonly body: string;
  /** `body`, parsed (once, while the manifest is checked). */
  readonly document: DocumentNode;
}

/** A validated persisted query manifest. */
export interface PersistedQueryManifest {
  /** In file order. */
  readonly operations: readonly ManifestOperation[];
  /** The same operations by id. */
  readonly byId: ReadonlyMap<string, ManifestOperation>;
}

/** The manifest is not one this server accepts; `index` and `field` locate the entry (`operations[index].field`). */
export class ManifestError extends Error {
  readonly code = 'ERR_PERSISTED_QUERY_MANIFEST';
  constructor(
    message: string,
    readonly index?: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

const TYPES: ReadonlySet<string> = new Set(['query', 'mutation', 'subscription']);

/** SHA-256 of a document's text, lowercase hex: Apollo's query hash and the manifest's default id. */
export function documentHash(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Parses and validates a manifest file's text: the format and version, and for every operation a
 * string `id` equal to the SHA-256 of its `body`, no id twice, a `name` and `type` that the body's
 * single operation has, a body that parses. Unknown members are ignored (the format may grow).
 * Whether the operations validate against the schema is checked later, where the schema is built.
 * Throws {@link ManifestError}.
 */
export function parsePersistedQueryManifest(text: string): PersistedQueryManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ManifestError('is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ManifestError('must be a JSON object');
  const manifest = value as Record<string, unknown>;
  if (manifest['format'] !== MANIFEST_FORMAT) throw new ManifestError(`"format" must be "${MANIFEST_FORMAT}"`);
  if (manifest['version'] !== 1) throw new ManifestError('"version" must be 1');
  const list = manifest['operations'];
  if (!Array.isArray(list)) throw new ManifestError('"operations" must be an array');

  const byId = new Map<string, ManifestOperation>();
  const indexOf = new Map<string, number>();
  const operations = list.map((item: unknown, index): ManifestOperation => {
    try {
      return entry(item, index);
    } catch (error) {
      // Names the operation too, when the entry has a usable name.
      const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['name'] : undefined;
      if (error instanceof ManifestError && typeof name === 'string' && name !== '' && error.field !== 'name') {
        throw new ManifestError(`${error.message} (operation ${JSON.stringify(name)})`, error.index, error.field);
      }
      throw error;
    }
  });
  return Object.freeze({ operations: Object.freeze(operations), byId });

  function entry(item: unknown, index: number): ManifestOperation {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ManifestError('must be an object', index);
    const fields = item as Record<string, unknown>;
    const text = (field: string): string => {
      const v = fields[field];
      if (typeof v !== 'string' || v.length === 0) throw new ManifestError('must be a non-empty string', index, field);
      return v;
    };
    const id = text('id');
    const name = text('name');
    const type = text('type');
    const body = text('body');
    if (!TYPES.has(type)) throw new ManifestError('must be query, mutation or subscription', index, 'type');
    if (id !== documentHash(body)) throw new ManifestError('is not the SHA-256 of the body (lowercase hex)', index, 'id');
    const first = indexOf.get(id);
    if (first !== undefined) throw new ManifestError(`is listed twice (also operations[${first}])`, index, 'id');
    const { document, operation } = singleOperation(body, index);
    if (operation.name?.value !== name) throw new ManifestError(`does not name the body's operation (${operation.name?.value ?? 'anonymous'})`, index, 'name');
    if (operation.operation !== type) throw new ManifestError(`is not the body's operation type (${operation.operation})`, index, 'type');
    const result = Object.freeze({ id, name, type: type as ManifestOperationType, body, document });
    byId.set(id, result);
    indexOf.set(id, index);
    return result;
  }
}

function singleOperation(body: string, index: number): { document: DocumentNode; operation: OperationDefinitionNode } {
  let document;
  try {
    document = parse(body);
  } catch (error) {
    const at = error instanceof GraphQLError ? error.locations?.[0] : undefined;
    throw new ManifestError(`does not parse${at ? ` (${at.line}:${at.column})` : ''}: ${error instanceof GraphQLError ? error.message : 'syntax error'}`, index, 'body');
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) throw new ManifestError(`must hold exactly one operation (holds ${operations.length})`, index, 'body');
  return { document, operation: operations[0]! };
}
