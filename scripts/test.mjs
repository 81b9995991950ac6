// `npm test`: generated code fresh, type-check, then every jest test with the default executor,
// then the API and end-to-end tests again with the other executor (every contract test runs
// under both). Ends with one "N passed, N failed" line that CI output readers understand.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const extra = process.argv.slice(2);
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

if (run('npx', ['tsx', 'scripts/check-codegen.mjs']) !== 0) process.exit(1);
if (run('node', ['scripts/generate-scope-names.mjs', '--check']) !== 0) process.exit(1);
if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) !== 0) {
  console.error('type-check failed');
  process.exit(1);
}
if (!process.env.TEST_DATABASE_URL) {
  console.log('PostgreSQL tests skipped: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them');
}

let passed = 0;
let failed = 0;
let status = 0;
function jest(label, args, env) {
  const report = path.join(tmpdir(), `jest-report-${process.pid}-${label}.json`);
  console.log(`\n== ${label} ==`);
  const code = run('npx', ['jest', '--json', `--outputFile=${report}`, ...args], { NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning', ...env });
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    rmSync(report);
  } catch {
    failed += 1;
  }
  if (code !== 0) status = 1;
}

const other = process.env.GRAPHQL_EXECUTOR === 'graphql-js' ? 'jit' : 'graphql-js'; // the default is jit (src/graphql/jit-executor.ts)
jest('all tests, default executor', extra, {});
if (extra.length === 0) jest(`API and end-to-end tests, GRAPHQL_EXECUTOR=${other}`, ['test/integration/api', 'test/e2e'], { GRAPHQL_EXECUTOR: other });
console.log(`${passed} passed, ${failed} failed`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
