/**
 * The benchmark's servers run compiled JavaScript, as users run theirs: the project as `npm start`
 * starts it (`npm run build`, then `node dist/main.js`), and the peers and in-process variants
 * from `bench/` compiled the same way into `.bench-build/` (tsconfig.bench.json), so that no server
 * pays for the TypeScript loader (15–20 % of a small request's CPU under tsx; docs/BENCHMARKS.md,
 * "The compiled build").
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEntryPoint } from '../../src/cli/cli-io.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where `bench/` and `src/` compile to; `.bench-build/bench/server-child.js` is forked. */
const BENCH_BUILD_DIR = path.join(ROOT, '.bench-build');

/** Builds `dist/` exactly as `npm start` does before it runs `node dist/main.js` (`npm run build`, incremental). */
export function buildDist(): void {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** {@link buildDist}, then `.bench-build/`; incremental, a second run takes a second or two. */
export function buildForBench(): void {
  buildDist();
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.bench.json'], { cwd: ROOT, stdio: 'inherit' });
  // src/graphql/schema.ts reads ../../schema/ next to itself.
  const schema = path.join(BENCH_BUILD_DIR, 'schema');
  if (!existsSync(schema)) symlinkSync(path.join(ROOT, 'schema'), schema, 'dir');
}

/** The compiled form of `bench/<script>` (`server-child.ts` → `.bench-build/bench/server-child.js`). */
export function compiledBenchScript(script: string): string {
  return path.join(BENCH_BUILD_DIR, 'bench', script.replace(/\.ts$/, '.js'));
}

// `tsx bench/lib/build.ts` (the bench scripts in package.json): build, then the script runs compiled.
if (isEntryPoint(import.meta.url)) buildForBench();
