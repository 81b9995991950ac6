// `npm run fuzz`: the property tests with more cases (FUZZ_RUNS, default 1000: ten times npm
// test's 100) and a random seed (FUZZ_SEED, printed first so that a failure can be replayed with
// `FUZZ_SEED=<seed> npm run fuzz`), under both executors. Each property appends its case count to
// a report file; the total is printed at the end, with a final "N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PROPERTY_TESTS = ['test/integration/api/property-', 'test/e2e/property-'];
const runs = process.env.FUZZ_RUNS || '1000';
const seed = process.env.FUZZ_SEED || String(randomInt(2 ** 31));
const report = path.join(tmpdir(), `fuzz-report-${process.pid}.jsonl`);
console.log(`FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
if (!process.env.TEST_DATABASE_URL) {
  console.log('PostgreSQL cases skipped: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them');
}

let passed = 0;
let failed = 0;
const started = Date.now();
for (const executor of ['jit', 'graphql-js']) {
  console.log(`\n== property tests, GRAPHQL_EXECUTOR=${executor} ==`);
  const json = path.join(tmpdir(), `fuzz-jest-${process.pid}-${executor}.json`);
  spawnSync('npx', ['jest', '--json', `--outputFile=${json}`, ...PROPERTY_TESTS], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning', GRAPHQL_EXECUTOR: executor, FUZZ_RUNS: runs, FUZZ_SEED: seed, FUZZ_REPORT: report },
  });
  try {
    const r = JSON.parse(readFileSync(json, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    rmSync(json);
  } catch {
    failed += 1;
  }
}

const lines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
rmSync(report, { force: true });
const byName = new Map();
for (const { name, executor, cases } of lines) byName.set(`${name} [${executor}]`, (byName.get(`${name} [${executor}]`) ?? 0) + cases);
console.log('\ncases per property:');
for (const [name, cases] of byName) console.log(`  ${String(cases).padStart(7)}  ${name}`);
const total = lines.reduce((n, l) => n + l.cases, 0);
console.log(`${total} cases in ${((Date.now() - started) / 1000).toFixed(1)} s (FUZZ_SEED=${seed} FUZZ_RUNS=${runs})`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
