import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = (args: string[]) => promisify(execFile)('node', ['scripts/check-layers.mjs', ...args], { cwd: ROOT });

describe('layers (README, Layout)', () => {
  it('every import in src/ points down or sideways', async () => {
    const { stdout } = await run([]);
    expect(stdout).toContain('every import points down or sideways');
  });

  it('refuses an import that points up, and a module in no layer', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'layers-'));
    try {
      await mkdir(path.join(dir, 'graphql'));
      await writeFile(path.join(dir, 'config.ts'), "import { x } from './graphql/schema.js';\nexport const y = x;\n");
      await writeFile(path.join(dir, 'graphql', 'schema.ts'), "import { z } from '../errors.js';\nexport const x = z;\n");
      await writeFile(path.join(dir, 'errors.ts'), 'export const z = 1;\n');
      await writeFile(path.join(dir, 'stray.ts'), 'export {};\n');
      const failure = await run([dir]).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain('config.ts (bottom) imports graphql/schema.ts (graphql), a layer above it');
      expect(failure?.stderr).toContain('stray.ts: in no layer');
      expect(failure?.stderr).not.toContain('graphql/schema.ts (graphql) imports');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
