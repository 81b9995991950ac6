import { describe, expect, it } from '@jest/globals';
import { parseScopeMapSpec } from '../../../src/lib/scope-map-spec.js';

describe('parseScopeMapSpec', () => {
  it.each([
    ['not an object', []],
    ['an unknown member', { convension: 'resource:verb' }],
    ['an unknown convention', { convention: 'verb.resource' }],
    ['a separator with a space', { separator: ' ' }],
    ['prefixes not a list', { prefixes: 'https://api.example.com/' }],
    ['a prefix with a space', { prefixes: ['https://api example/'] }],
    ['aliases to a non-string', { aliases: { a: 1 } }],
  ])('refuses %s', (_name, spec) => {
    expect(() => parseScopeMapSpec(spec)).toThrow(TypeError);
  });
});
