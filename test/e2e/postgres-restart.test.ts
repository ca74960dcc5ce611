import { sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../db/connect';
import { eventually } from '../support/herald';
import { ownPostgres } from '../support/own-postgres';

describe('a PostgreSQL restart under a running process', () => {
  let server: Awaited<ReturnType<typeof ownPostgres>>;
  let database: DatabaseHandle | undefined;
  beforeAll(async () => {
    server = await ownPostgres();
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    await server?.remove();
  });

  it('drops the connections the server closed and serves again once it is back', async () => {
    database = await openDatabase({ url: server.url, poolSize: 2 });
    const db = database.db;
    // Two idle connections in the pool when the server goes: it tells each one it is shutting down.
    await Promise.all([db.execute(sql`select pg_sleep(0.1)`), db.execute(sql`select pg_sleep(0.1)`)]);
    await server.stop();
    await expect(db.execute(sql`select 1`)).rejects.toThrow();
    await server.start();
    expect(await answersAgain(database.db)).toEqual({ one: 1 });
  }, 120_000);

  it('fails the transaction whose connection the server closed, not the process', async () => {
    await database?.close();
    database = await openDatabase({ url: server.url, poolSize: 2 });
    const db = database.db;
    // Checked out of the pool between two statements of a transaction, the connection has no listener
    // of the pool's: unheard, its 'error' event would end the process (and this test run).
    const transaction = db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      await server.stop();
      await tx.execute(sql`select 1`);
    });
    await expect(transaction).rejects.toThrow();
    await server.start();
    expect(await answersAgain(database.db)).toEqual({ one: 1 });
  }, 120_000);
});

/** The first row a query gets once the server answers again (within 30 s). */
function answersAgain(db: DatabaseHandle['db']) {
  return eventually(
    () =>
      db.execute(sql`select 1 as one`).then(
        (result) => (result as { rows: unknown[] }).rows[0],
        () => undefined,
      ),
    (row) => row !== undefined,
    30_000,
  );
}
