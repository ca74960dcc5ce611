import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../api/app';
import type { Database } from '../../db/connect';
import { connectClient } from '../../runtime/temporal';
import { startTestHerald, testDatabase, type TestHerald } from '../support/herald';
import { freePort } from '../support/temporal';

describe('health endpoints', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald();
  });
  afterAll(() => herald?.stop());

  /** An API on a database and a Temporal client of the test's choosing, one of them out of reach. */
  const apiOn = (db: Database, temporal: Client) =>
    buildApi({
      db,
      temporal,
      taskQueue: 'unused',
      receiptWindowMs: 0,
      publicUrl: 'http://localhost',
      bodyLimit: 1024,
      devOutbox: false,
      tenantLimits: herald.config.tenantLimits,
    });

  it('/healthz answers while the process lives', async () => {
    const res = await herald.api.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks the database and reports Temporal', async () => {
    const res = await herald.api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('/readyz answers 503 when the database is down, saying why', async () => {
    const closed = await testDatabase();
    await closed.close();
    const { client, connection } = await connectClient(herald.config, herald.temporalAddress);
    const api = await apiOn(closed.db, client);
    const res = await api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json().checks.temporal).toBe('ok');
    expect(res.json().checks.database).not.toBe('ok');
    await api.close();
    await connection.close();
  });

  it('/readyz stays ready, degraded, while Temporal is unreachable: accepts wait in the database', async () => {
    // Without the retry interceptor: a retry timer left after close would throw into the next test file.
    const address = `127.0.0.1:${await freePort()}`;
    const unreachable = new Client({ connection: Connection.lazy({ address, interceptors: [] }) });
    const api = await apiOn(herald.db, unreachable);
    const res = await api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', checks: { database: 'ok' } });
    expect(res.json().checks.temporal).not.toBe('ok');
    await api.close();
    await unreachable.connection.close();
  });
});
