import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';
import { ErrorCode, withoutStackTrace } from '../errors.js';

/**
 * Whether a GraphQL document has more than `maxTokens` lexical tokens, lexing at most that many.
 * A document with no more characters than `maxTokens` cannot have more tokens, so short
 * documents (every ordinary query) are not lexed at all. A document that does not lex is left
 * to the parser, which reports the syntax error.
 */
export function exceedsTokenLimit(source: string, maxTokens: number): boolean {
  if (source.length <= maxTokens) return false;
  const lexer = new Lexer(new Source(source));
  try {
    for (let count = 0; lexer.advance().kind !== TokenKind.EOF; ) {
      count += 1;
      if (count > maxTokens) return true;
    }
  } catch {
    return false;
  }
  return false;
}

/** The GraphQL documents of an HTTP request: `query` of a POST body (or of each batched one) or of the query string. */
function documentsOf(body: unknown, query: unknown): string[] {
  const out: string[] = [];
  const add = (value: unknown) => {
    if (value !== null && typeof value === 'object' && typeof (value as { query?: unknown }).query === 'string') out.push((value as { query: string }).query);
  };
  if (Array.isArray(body)) body.forEach(add);
  else add(body);
  add(query);
  return out;
}

/**
 * Refuses a request whose document is over the token limit with HTTP 400 `DOCUMENT_TOO_LARGE`,
 * before it is parsed, validated or its token verified.
 */
export function assertDocumentSize(request: { readonly body: unknown; readonly query: unknown }, maxTokens: number): void {
  for (const source of documentsOf(request.body, request.query)) {
    if (exceedsTokenLimit(source, maxTokens)) {
      throw withoutStackTrace(
        () =>
          new GraphQLError(`The document has more than ${maxTokens} tokens.`, {
            extensions: { code: ErrorCode.DOCUMENT_TOO_LARGE, limit: maxTokens, measured: maxTokens + 1, http: { status: 400 } },
          }),
      );
    }
  }
}
