import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
