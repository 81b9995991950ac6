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
});

async function currentSchema(db: TestDatabase): Promise<string> {
  const { sql } = await import('kysely');
  const r = await sql<{ s: string }>`select current_schema() as s`.execute(db.db);
  return r.rows[0]!.s;
}
