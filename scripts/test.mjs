// `npm test`: generated code fresh, type-check, then every jest project; ends with one
// "N passed, N failed" line that CI output readers understand.
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
const report = path.join(tmpdir(), `jest-report-${process.pid}.json`);
const status = run('npx', ['jest', '--json', `--outputFile=${report}`, ...extra], { NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning' });
let passed = 0;
let failed = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  rmSync(report);
} catch {
  failed = Math.max(failed, 1);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
