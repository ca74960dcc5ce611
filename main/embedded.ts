/**
 * `npm start`: the whole of Herald in one process tree, on embedded defaults. A Temporal dev server
 * (SQLite under the data folder), PGlite unless DATABASE_URL is set, the worker and the API.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { upsertTenant, newApiKey } from '../api/tenants';
import { openDatabase } from '../db/connect';
import type { Config } from '../runtime/config';
import { startDevServer } from '../runtime/dev-server';
import { ensureTemporalBinary } from '../runtime/temporal-binaries';
import { Shutdown, stopOnSignals } from '../runtime/shutdown';
import { boot, run, stopDeadlineMs } from './boot';
import { startHerald } from './herald';

/** A secret kept in the data folder, so it survives restarts without being configured. */
function persistentSecret(dataDir: string, name: string, given: string | undefined, make: () => string): string {
  if (given) return given;
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = make();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function startTemporal(config: Config, log: (line: string) => void) {
  if (config.temporal.address) return { address: config.temporal.address, stop: async () => {} };
  const dbFile = path.join(config.dataDir, 'temporal.sqlite');
  const executable = ensureTemporalBinary('cli', log);
  if (executable) {
    return startDevServer({
      executable,
      port: config.temporal.devPort,
      uiPort: config.temporal.uiPort,
      dbFile,
      namespace: config.temporal.namespace,
    });
  }
  log('No Temporal CLI found: downloading the dev server through the Temporal SDK ...');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: config.temporal.devPort,
      ui: true,
      uiPort: config.temporal.uiPort,
      dbFilename: dbFile,
      namespace: config.temporal.namespace,
    },
  });
  return { address: env.address, stop: () => env.teardown() };
}

run('herald', async () => {
  const { config, tracing } = boot('embedded');
  const log = (line: string) => console.log(`[herald] ${line}`);
  mkdirSync(config.dataDir, { recursive: true });

  const shutdown = new Shutdown();
  shutdown.add('exit', () => log('stopped'));
  const temporal = await startTemporal(config, log);
  shutdown.add('the Temporal dev server', () => temporal.stop());
  const database = await openDatabase({ url: config.databaseUrl, dataDir: path.join(config.dataDir, 'pg') });
  shutdown.add('the database', () => database.close());
  shutdown.add('the trace exporter', () => tracing.shutdown());
  const apiKey = persistentSecret(config.dataDir, 'dev-api-key', config.devApiKey, () => newApiKey().key);
  const adminToken = persistentSecret(config.dataDir, 'admin-token', config.adminToken, () =>
    randomBytes(24).toString('base64url'),
  );
  const webhookSecret = persistentSecret(
    config.dataDir,
    'webhook-secret',
    config.webhookSecret,
    () => `whsec_${randomBytes(24).toString('base64url')}`,
  );
  await upsertTenant(database.db, 'dev', 'Development tenant', apiKey);

  const herald = await startHerald({
    config,
    tracing,
    temporalAddress: temporal.address,
    db: database.db,
    listen: database.listen,
    api: true,
    worker: true,
    devOutbox: true,
    webhookSecret,
    logLevel: config.logLevel,
    adminToken,
    shutdown,
  });
  const api = herald.api!;
  await api.listen({ port: config.port, host: config.host });
  const base = `http://localhost:${config.port}`;
  log(
    `Herald is running (${database.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'}, data in ${config.dataDir})`,
  );
  log(`  API            ${base}   (OpenAPI docs: ${base}/docs)`);
  log(`  Dev API key    ${apiKey}   (tenant "dev")`);
  // Secrets given by the environment are not echoed; those made here are kept in the data folder.
  log(
    `  Admin token    ${config.adminToken ? 'from HERALD_ADMIN_TOKEN' : `in ${path.join(config.dataDir, 'admin-token')}`}   (npm run admin -- help)`,
  );
  log(`  Dev outbox     ${base}/dev/outbox?api_key=${apiKey}`);
  log(`  Inbox demo     ${base}/demo/inbox   (recipient "ada", live)`);
  if (!config.temporal.address)
    log(
      `  Temporal UI    http://localhost:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows`,
    );
  log(`  Webhook secret ${config.webhookSecret ? 'from HERALD_WEBHOOK_SECRET' : webhookSecret}`);
  log(
    `  Metrics        ${base}/metrics${config.sdkMetricsAddress ? `   (Temporal SDK: http://${config.sdkMetricsAddress}/metrics)` : ''}`,
  );
  log('Press Ctrl-C to stop.');

  stopOnSignals('herald', shutdown, stopDeadlineMs(config));
  herald.worker?.done.catch((error: unknown) => {
    console.error('[herald] worker failed', error);
    process.kill(process.pid, 'SIGTERM');
  });
});
