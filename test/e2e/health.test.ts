import { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../api/app';
import { connectClient } from '../../runtime/temporal';
import { startTestHerald, testDatabase, type TestHerald } from '../support/herald';
import { freePort } from '../support/temporal';

describe('health endpoints', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald();
  });
  afterAll(() => herald?.stop());

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
    const api = await buildApi({
      db: closed.db,
      temporal: client,
      taskQueue: 'unused',
      receiptWindowMs: 0,
      publicUrl: 'http://localhost',
      bodyLimit: 1024,
      devOutbox: false,
      tenantLimits: herald.config.tenantLimits,
    });
    const res = await api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json().checks.temporal).toBe('ok');
    expect(res.json().checks.database).not.toBe('ok');
    await api.close();
    await connection.close();
  });

  it('/readyz stays ready, degraded, while Temporal is unreachable: accepts wait in the database', async () => {
    const unreachable = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const api = await buildApi({
      db: herald.db,
      temporal: unreachable,
      taskQueue: 'unused',
      receiptWindowMs: 0,
      publicUrl: 'http://localhost',
      bodyLimit: 1024,
      devOutbox: false,
      tenantLimits: herald.config.tenantLimits,
    });
    const res = await api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', checks: { database: 'ok' } });
    expect(res.json().checks.temporal).not.toBe('ok');
    await api.close();
    await unreachable.connection.close();
  });
});
