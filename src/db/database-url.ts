import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { DatabaseConfig } from './database-config.js';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Reads a `DATABASE_URL` value.
 *
 * Accepted: unset or empty (SQLite at `defaultFile`), a plain file path, `:memory:`,
 * `sqlite:<path>`, `sqlite::memory:`, `file:<path>` / `file:///abs/path`, and
 * `postgres://` / `postgresql://` URLs. Anything else throws an Error naming `DATABASE_URL`;
 * the message never repeats the value, which may hold a password.
 */
export function parseDatabaseUrl(value: string | undefined, defaultFile: string): DatabaseConfig {
  const raw = value?.trim() ?? '';
  if (raw === '') return { kind: 'sqlite', filename: defaultFile };
  if (raw === ':memory:') return { kind: 'sqlite', filename: ':memory:' };

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
      throw new Error(
        `DATABASE_URL has an unsupported scheme "${scheme}:"; use a file path, sqlite:<path>, file:<path> or postgres://…`,
      );
  }
}

function parsePostgresUrl(raw: string): DatabaseConfig {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('DATABASE_URL is not a valid postgres:// URL');
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new Error('DATABASE_URL must name a host, e.g. postgres://user@host:5432/database');
  }
  return { kind: 'postgres', url: raw };
}

function sqliteFilename(raw: string, scheme: string): string {
  const rest = raw.slice(scheme.length + 1);
  if (rest === ':memory:' || rest === '//:memory:') return ':memory:';
  let filename: string;
  if (rest.startsWith('//')) {
    try {
      // file:///abs/path and sqlite:///abs/path; percent-escapes are decoded.
      filename = fileURLToPath(`file:${rest}`);
    } catch {
      throw new Error('DATABASE_URL is not a valid file URL; use file:///absolute/path or file:relative/path');
    }
  } else {
    try {
      filename = decodeURIComponent(rest.split(/[?#]/, 1)[0] ?? '');
    } catch {
      throw new Error('DATABASE_URL has an invalid percent-escape in its file path');
    }
  }
  if (filename === '') throw new Error('DATABASE_URL names no SQLite file');
  return filename;
}
