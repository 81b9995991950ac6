import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the data lives, as a `DATABASE_URL` names it. */
export type DatabaseLocation = { readonly kind: 'sqlite'; readonly filename: string } | { readonly kind: 'postgres'; readonly url: string };

/** SQLite's name for a database that lives in memory only (better-sqlite3 opens no file for it). */
export const SQLITE_MEMORY = ':memory:';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Reads a `DATABASE_URL` value.
 *
 * Accepted: unset or empty (SQLite at `defaultFile`), a plain file path, `:memory:`,
 * `sqlite:<path>`, `sqlite::memory:`, `file:<path>` / `file:///abs/path`, `file::memory:`, and
 * `postgres://` / `postgresql://` URLs. File paths are returned as written (relative ones are
 * relative to the working directory).
 *
 * @throws {TypeError} saying what is wrong; the message never repeats the value, which may hold a password.
 */
export function parseDatabaseUrl(value: string | undefined, defaultFile: string): DatabaseLocation {
  const raw = value?.trim() ?? '';
  if (raw === '') return { kind: 'sqlite', filename: defaultFile };
  if (raw === SQLITE_MEMORY) return { kind: 'sqlite', filename: SQLITE_MEMORY };

  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  // A single letter before ':' is a Windows drive (C:\data\app.db), not a scheme.
  if (scheme === undefined || (scheme.length === 1 && isAbsolute(raw))) {
    return { kind: 'sqlite', filename: raw };
  }
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return parsePostgresUrl(raw);
    case 'sqlite':
    case 'file':
      return { kind: 'sqlite', filename: sqliteFilename(raw, scheme) };
    default:
      throw new TypeError(`unsupported scheme "${scheme}:"; use a file path, sqlite:<path>, file:<path> or postgres://…`);
  }
}

function parsePostgresUrl(raw: string): DatabaseLocation {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError('is not a valid postgres:// URL');
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new TypeError('must name a host, e.g. postgres://user@host:5432/database');
  }
  return { kind: 'postgres', url: raw };
}

function sqliteFilename(raw: string, scheme: string): string {
  const rest = raw.slice(scheme.length + 1);
  if (rest === SQLITE_MEMORY || rest === `//${SQLITE_MEMORY}`) return SQLITE_MEMORY;
  let filename: string;
  if (rest.startsWith('//')) {
    try {
      // file:///abs/path and sqlite:///abs/path; percent-escapes are decoded.
      filename = fileURLToPath(`file:${rest}`);
    } catch {
      throw new TypeError('is not a valid file URL; use file:///absolute/path or file:relative/path');
    }
  } else {
    try {
      filename = decodeURIComponent(rest.split(/[?#]/, 1)[0] ?? '');
    } catch {
      throw new TypeError('has an invalid percent-escape in its file path');
    }
  }
  if (filename === '') throw new TypeError('names no SQLite file');
  return filename;
}
