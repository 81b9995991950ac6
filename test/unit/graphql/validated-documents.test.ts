import { describe, expect, it } from '@jest/globals';
import { buildSchema } from 'graphql';
import { validatedDocuments } from '../../../src/graphql/validated-documents.js';

const schema = buildSchema('type Query { a: Int b: Int } type Subscription { ticks(every: Int): Int }');

describe('validatedDocuments', () => {
  it('parses and validates a text once: a repeat gets the same document object', () => {
    const documents = validatedDocuments({ schema, maxTokens: 1000 });
    const first = documents('subscription { ticks(every: 1) }');
    const again = documents('subscription { ticks(every: 1) }');
    expect('document' in first && 'document' in again && first.document === again.document).toBe(true);
    const other = documents('subscription { ticks(every: 2) }');
    expect('document' in other && 'document' in first && other.document !== first.document).toBe(true);
  });

  it('answers a syntax error, a token-limit excess and a validation error with their GraphQL errors, every time', () => {
    const documents = validatedDocuments({ schema, maxTokens: 10 });
    for (let i = 0; i < 2; i++) {
      expect(documents('subscription { ticks(')).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('Syntax Error') })] });
      expect(documents('{ a b a b a b a b a b a b }')).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('more that 10 tokens') })] });
      expect(documents('{ c }')).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('Cannot query field "c" on type "Query".') })] });
    }
  });

  it('keeps at most maxSourceLength of text, dropping the least recently used', () => {
    const documents = validatedDocuments({ schema, maxTokens: 1000, maxSourceLength: 40 });
    const q1 = 'subscription { ticks(every: 1) }'; // 32
    const q2 = 'subscription { ticks(every: 2) }';
    const one = documents(q1);
    documents(q2); // 64 > 40: q1 goes
    const oneAgain = documents(q1);
    expect('document' in one && 'document' in oneAgain && one.document !== oneAgain.document).toBe(true);
  });
});
