import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChangeFeed, createChangeFeed } from '../../../src/db/change-feed.js';
import { databaseTargets, openTestDatabase, type TestDatabase } from '../../fixtures/databases.js';
import { until } from '../../fixtures/ws-client.js';

describe.each(databaseTargets())('change feed ($name)', (target) => {
  const opened: Array<{ db: TestDatabase; feeds: ChangeFeed[] }> = [];
  afterAll(async () => {
    for (const { db, feeds } of opened) {
      for (const f of feeds) await f.close();
      await db.cleanup();
    }
  });

  it('delivers a committed message once to every feed on the database, and nothing for a rolled-back transaction', async () => {
    const db = await openTestDatabase(target);
    const searchPath = (db as unknown as { target: { url?: string } }).target.url ? await currentSchema(db) : undefined;
    const config = target.name === 'postgres' ? { kind: 'postgres' as const, url: target.url!, ...(searchPath ? { searchPath } : {}) } : { kind: 'sqlite' as const, filename: ':memory:' };
    const writer = createChangeFeed(config);
    const other = target.name === 'postgres' ? createChangeFeed(config) : writer;
    opened.push({ db, feeds: target.name === 'postgres' ? [writer, other] : [writer] });
    await writer.ready();
    await other.ready();
    const atWriter: unknown[] = [];
    const atOther: unknown[] = [];
    writer.listen((m) => atWriter.push(m));
    if (other !== writer) other.listen((m) => atOther.push(m));
    await expect(
      writer.transaction(db.db, async (_trx, publish) => {
        await publish({ n: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await writer.transaction(db.db, async (_trx, publish) => publish({ n: 2 }));
    await until(() => atWriter.length >= 1 && (other === writer || atOther.length >= 1), 'the committed message');
    // The rolled-back message, published first, would have arrived first.
    expect(atWriter).toEqual([{ n: 2 }]);
    if (other !== writer) expect(atOther).toEqual([{ n: 2 }]);
  });

  (target.name === 'postgres' ? it : it.skip)('tells when delivery stops (LISTEN connection lost) and when it is back', async () => {
    const db = await openTestDatabase(target);
    const searchPath = await currentSchema(db);
    const feed = createChangeFeed({ kind: 'postgres', url: target.url!, searchPath }, { reconnectDelayMs: 50 });
    opened.push({ db, feeds: [feed] });
    await feed.ready();
    expect(feed.delivering()).toBe(true);
    let interruptions = 0;
    const stop = feed.onInterrupted(() => (interruptions += 1));
    const received: unknown[] = [];
    feed.listen((m) => received.push(m));
    const { sql } = await import('kysely');
    // Only this feed's connection: its LISTEN names the channel of this test's own schema.
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen orders_changes_' || substr(md5(current_schema()), 1, 16) and pid <> pg_backend_pid()`.execute(db.db);
    await until(() => interruptions === 1, 'the interruption');
    expect(feed.delivering()).toBe(false);
    await until(() => feed.delivering(), 'the LISTEN connection back');
    await feed.transaction(db.db, async (_trx, publish) => publish({ n: 3 }));
    await until(() => received.length >= 1, 'a message after the reconnect');
    expect(received).toEqual([{ n: 3 }]);
    stop();
    expect(interruptions).toBe(1);
  });

  (target.name === 'sqlite' ? it : it.skip)('on SQLite always delivers and never tells an interruption', async () => {
    const feed = createChangeFeed({ kind: 'sqlite', filename: ':memory:' });
    expect(feed.delivering()).toBe(true);
    const stop = feed.onInterrupted(() => {
      throw new Error('never called');
    });
    stop();
    await feed.close();
  });
});

async function currentSchema(db: TestDatabase): Promise<string> {
  const { sql } = await import('kysely');
  const r = await sql<{ s: string }>`select current_schema() as s`.execute(db.db);
  return r.rows[0]!.s;
}
