#!/usr/bin/env node
// Usage: node scripts/check-layers.mjs [srcDir]. Fails when a module in src/ imports from a layer above its own (README, "Layout").
// Layers, lowest first; a module may import from its own layer and the ones below it.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAYERS = [
  // graphql/generated/scope-names.ts is generated from schema/scopes.graphql and imports nothing: the
  // scope catalog's names, which every layer may name.
  { name: 'bottom', members: ['config.ts', 'errors.ts', 'logger.ts', 'lib/', 'graphql/generated/scope-names.ts'] },
  { name: 'db', members: ['db/'] },
  { name: 'auth', members: ['auth/', 'dev-issuer/'] },
  { name: 'domain', members: ['domain/'] },
  { name: 'authz', members: ['authz/'] },
  { name: 'graphql', members: ['graphql/'] },
  { name: 'composition', members: ['server.ts', 'http/'] },
  { name: 'entry points', members: ['main.ts', 'cluster.ts', 'process-config.ts', 'cli/'] },
];

/** The layer index of a path relative to src/ (forward slashes), or -1. */
export function layerOf(relative) {
  return LAYERS.findIndex((layer) => layer.members.some((m) => (m.endsWith('/') ? relative.startsWith(m) : relative === m)));
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (entry.name.endsWith('.ts')) yield full;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Every upward or unclassified import under `srcDir`, as readable lines. */
export function layerViolations(srcDir) {
  const problems = [];
  for (const file of sourceFiles(srcDir)) {
    const from = path.relative(srcDir, file).split(path.sep).join('/');
    const fromLayer = layerOf(from);
    if (fromLayer < 0) {
      problems.push(`${from}: in no layer (add it to scripts/check-layers.mjs and the README)`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2];
      const target = path.relative(srcDir, path.resolve(path.dirname(file), spec)).split(path.sep).join('/').replace(/\.js$/, '.ts');
      const toLayer = layerOf(target);
      if (toLayer > fromLayer) problems.push(`${from} (${LAYERS[fromLayer].name}) imports ${target} (${LAYERS[toLayer].name}), a layer above it`);
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const srcDir = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const problems = layerViolations(srcDir);
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} import(s) point up\n`);
    process.exit(1);
  }
  process.stdout.write('every import points down or sideways\n');
}
