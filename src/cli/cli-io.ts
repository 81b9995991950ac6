import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a CLI writes; injected so tests can capture it. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's own streams. */
export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Prints the problem and the usage on stderr; returns exit code 2 (bad arguments). */
export function usageError(io: CliIo, problem: string, usage: string): number {
  io.stderr(`${problem}\n\n${usage}`);
  return 2;
}

/** Whether the module at `moduleUrl` is the script node was started with (not imported by a test). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Parses `args` strictly with `options` (plus `--help`/`-h`). Returns the parsed arguments, or
 * the exit code when it has already answered: 0 after printing the usage for `--help`, 2 after a
 * usage error for arguments that do not parse.
 */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  config: { io: CliIo; usage: string; allowPositionals: boolean },
): ReturnType<typeof parseArgs<{ args: string[]; strict: true; allowPositionals: boolean; options: T & { help: { type: 'boolean'; short: 'h' } } }>> | number {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: config.allowPositionals, options: { ...options, help: { type: 'boolean', short: 'h' } as const } });
  } catch (error) {
    return usageError(config.io, error instanceof Error ? error.message : 'invalid arguments', config.usage);
  }
  if ((parsed.values as Record<string, unknown>)['help'] === true) {
    config.io.stdout(config.usage);
    return 0;
  }
  return parsed;
}
