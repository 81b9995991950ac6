import { type DocumentNode, GraphQLError, type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { LRUCache } from 'lru-cache';

/** Options of {@link validatedDocuments}. */
export interface ValidatedDocumentsOptions {
  readonly schema: GraphQLSchema;
  /** The parser's token limit (a document over it is refused while it is parsed). */
  readonly maxTokens: number;
  /** Bound on the query text of the documents kept, in UTF-16 code units. Default: 1,000,000 (ASTs of about 10–30 MB). */
  readonly maxSourceLength?: number;
}

/** A parsed document that passed the schema's validation, or why it did not. */
export type ValidatedDocument = { readonly document: DocumentNode } | { readonly errors: readonly GraphQLError[] };

/**
 * Parses and validates query texts against `schema`, keeping the valid documents by their text
 * (least recently used first out, bounded by the total text length). A repeated text gets the
 * same document object back, so the caches keyed by its nodes (the operation analysis, the
 * authorization plan) are hit too. A text that fails is parsed again next time: its errors are
 * cheap to find again and not worth the memory.
 */
export function validatedDocuments(options: ValidatedDocumentsOptions): (query: string) => ValidatedDocument {
  const { schema, maxTokens } = options;
  const documents = new LRUCache<string, DocumentNode>({ maxSize: options.maxSourceLength ?? 1_000_000, sizeCalculation: (_document, query) => Math.max(query.length, 1) });
  return (query) => {
    const cached = documents.get(query);
    if (cached !== undefined) return { document: cached };
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens });
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      throw error;
    }
    const errors = validate(schema, document, specifiedRules);
    if (errors.length > 0) return { errors };
    documents.set(query, document);
    return { document };
  };
}
