import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** The bottom layer (STYLE.md, "A layout that shows the architecture"): it imports nothing above it. */
const BOTTOM = ['config.ts', 'errors.ts', 'logger.ts', ...readdirSync(path.join(SRC, 'lib')).filter((f) => f.endsWith('.ts')).map((f) => `lib/${f}`)];
const isBottom = (file: string) => BOTTOM.includes(file);

/** Relative module specifiers of `source`, static and dynamic, `import type` and re-exports included. */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('the bottom layer (config.ts, errors.ts, logger.ts, lib/)', () => {
  it.each(BOTTOM)('%s imports only from the bottom layer', (file) => {
    const source = readFileSync(path.join(SRC, file), 'utf8');
    const upward = relativeImports(source)
      .map((specifier) => path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), specifier)).replace(/\.js$/, '.ts'))
      .filter((target) => !isBottom(target));
    expect(upward).toEqual([]);
  });
});
