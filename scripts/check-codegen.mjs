// Fails when src/graphql/generated/ differs from what `npm run codegen` would write now.
import { readFile } from 'node:fs/promises';
import { generate } from '@graphql-codegen/cli';
import config from '../codegen.ts';

const outputs = await generate({ ...config, silent: true }, false);
let stale = 0;
for (const { filename, content } of outputs) {
  const onDisk = await readFile(filename, 'utf8').catch(() => '');
  if (onDisk !== content) {
    stale += 1;
    console.error(`stale generated file: ${filename} — run \`npm run codegen\` and commit it`);
  }
}
if (stale > 0) process.exit(1);
console.log('generated code is up to date');
