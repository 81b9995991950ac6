import { Lexer, Source, TokenKind } from 'graphql';

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

/** Whether any GraphQL document of an HTTP request (POST body, each batched one, or query string) is over the token limit. */
export function hasOversizedDocument(request: { readonly body: unknown; readonly query: unknown }, maxTokens: number): boolean {
  return documentsOf(request.body, request.query).some((source) => exceedsTokenLimit(source, maxTokens));
}
