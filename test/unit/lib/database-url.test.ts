import { describe, expect, it } from '@jest/globals';
import { resolve } from 'node:path';

import { parseDatabaseUrl } from '../../../src/lib/database-url.js';

const DEFAULT = 'data/app.db';

describe('parseDatabaseUrl', () => {
  it.each([
    [undefined, DEFAULT],
    ['', DEFAULT],
    ['  ', DEFAULT],
    [':memory:', ':memory:'],
    ['sqlite::memory:', ':memory:'],
    ['file::memory:', ':memory:'],
    ['data/other.db', 'data/other.db'],
    ['/var/lib/app/app.db', '/var/lib/app/app.db'],
    ['./local.db', './local.db'],
    ['sqlite:data/app.db', 'data/app.db'],
    ['sqlite:///var/lib/app.db', '/var/lib/app.db'],
    ['file:relative.db', 'relative.db'],
    ['file:///tmp/my%20db.sqlite', '/tmp/my db.sqlite'],
    ['FILE:///tmp/x.db', '/tmp/x.db'],
  ])('reads %p as the SQLite file %p', (value, filename) => {
    expect(parseDatabaseUrl(value, DEFAULT)).toEqual({ kind: 'sqlite', filename });
  });

  it.each(['postgres://app:secret@db.internal:5432/orders', 'postgresql://db.internal/orders?sslmode=require'])(
    'reads %s as PostgreSQL',
    (url) => {
      expect(parseDatabaseUrl(url, DEFAULT)).toEqual({ kind: 'postgres', url });
    },
  );

  it.each([
    'mysql://root:hunter2@db/orders',
    'redis://:hunter2@cache:6379',
    'postgres://user:hunter2@',
    'postgres://user:hunter2@[bad',
    'file://remote-host/share/x.db',
    'sqlite:',
    'sqlite:%zz',
  ])('rejects %s without echoing secrets', (value) => {
    let error: unknown;
    try {
      parseDatabaseUrl(value, DEFAULT);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('keeps relative paths relative (resolved by the process working directory)', () => {
    const config = parseDatabaseUrl('data/x.db', DEFAULT);
    expect(config.kind === 'sqlite' && resolve(config.filename)).toBe(resolve('data/x.db'));
  });
});
