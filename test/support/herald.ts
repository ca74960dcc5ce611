import { randomUUID } from 'node:crypto';
import type { WorkflowBundle } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { newApiKey, upsertTenant, type TenantLimits } from '../../api/tenants';
import { tenants } from '../../db/schema';
import { openDatabase, openPgliteInProcess, type DatabaseHandle } from '../../db/connect';
import { loadConfig } from '../../runtime/config';
import { connectClient } from '../../runtime/temporal';
import { startHerald } from '../../main/herald';
import { Shutdown } from '../../runtime/shutdown';
import { bundleWorkflows, type BundleOptions } from '../../worker/workflow-bundle';
import { sharedMigratedDatabase, sharedWorkflowBundle } from './shared-setup';
import { testTracing } from './tracing';

export const WEBHOOK_SECRET = 'whsec_test_secret';

const bundles = new Map<boolean, Promise<WorkflowBundle>>();

/**
 * Bundled once per run by the global setup (else once per test file) and kind, as the SDK advises; tests
 * record spans, so workflows make them by default.
 */
export function workflowBundle(options: BundleOptions = { workflowSpans: true }): Promise<WorkflowBundle> {
  let bundle = bundles.get(options.workflowSpans);
  if (!bundle) {
    const shared = sharedWorkflowBundle(options);
    bundle = shared ? Promise.resolve(shared) : bundleWorkflows(options);
    bundles.set(options.workflowSpans, bundle);
  }
  return bundle;
}

/** A real PostgreSQL when DATABASE_URL is set, else a fresh in-memory PGlite. */
export function testDatabase(): Promise<DatabaseHandle> {
  return process.env.DATABASE_URL ? openDatabase({ url: process.env.DATABASE_URL, poolSize: 4 }) : freshPglite();
}

/** A new in-memory PGlite, a copy of the run's migrated one when there is one. */
const freshPglite = () => openPgliteInProcess(undefined, sharedMigratedDatabase());

/**
 * A database no other test writes to: a new one on the PostgreSQL server DATABASE_URL names (the
 * test files running beside this one share that database), else a fresh in-memory PGlite.
 */
export async function isolatedDatabase(): Promise<DatabaseHandle & { url?: string }> {
  const url = process.env.DATABASE_URL;
  if (!url) return freshPglite();
  const name = `herald_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const server = new pg.Client({ connectionString: url });
  await server.connect();
  await server.query(`create database ${name}`);
  await server.end();
  const own = new URL(url);
  own.pathname = `/${name}`;
  const handle = await openDatabase({ url: own.toString(), poolSize: 4 });
  return {
    ...handle,
    url: own.toString(),
    async close() {
      await handle.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name}`);
      await dropper.end();
    },
  };
}

export interface TestTenant {
  id: string;
  apiKey: string;
  auth: { authorization: string };
}

/** A new tenant with a key of every scope, and its own limits when given. */
export async function createTenant(handle: DatabaseHandle, limits: Partial<TenantLimits> = {}): Promise<TestTenant> {
  const id = `t-${randomUUID().slice(0, 8)}`;
  const apiKey = newApiKey().key;
  await upsertTenant(handle.db, id, id, apiKey);
  if (Object.keys(limits).length > 0) await handle.db.update(tenants).set(limits).where(eq(tenants.id, id));
  return { id, apiKey, auth: { authorization: `Bearer ${apiKey}` } };
}

/** API and worker in this process, on the shared dev server and task queues of their own. */
export async function startTestHerald(
  env: Record<string, string> = {},
  options: { isolated?: boolean; workflowSpans?: boolean; database?: () => Promise<DatabaseHandle> } = {},
) {
  const database = await (options.database ?? (options.isolated ? isolatedDatabase : testDatabase))();
  const config = loadConfig({
    HERALD_TASK_QUEUE: `test-${randomUUID()}`,
    HERALD_SHUTDOWN_GRACE_SECONDS: '1',
    // Failed notifications close at once unless a test waits for an operator's retry.
    HERALD_RETRY_WINDOW_SECONDS: '0',
    // The fake endpoints tenants' webhooks reach listen on loopback.
    HERALD_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
  });
  const temporalAddress = process.env.HERALD_TEST_TEMPORAL_ADDRESS!;
  const shutdown = new Shutdown();
  const herald = await startHerald({
    config,
    temporalAddress,
    db: database.db,
    listen: database.listen,
    api: true,
    worker: true,
    devOutbox: true,
    webhookSecret: WEBHOOK_SECRET,
    workflowBundle: await workflowBundle({ workflowSpans: options.workflowSpans ?? true }),
    tracing: testTracing(),
    shutdown,
  });
  // The test's own view of Temporal: histories, handles.
  const temporal = await connectClient(config, temporalAddress);
  return {
    api: herald.api!,
    temporal: temporal.client,
    db: database.db,
    database,
    config,
    temporalAddress,
    createTenant: (limits?: Partial<TenantLimits>) => createTenant(database, limits),
    async stop() {
      await temporal.connection.close();
      await shutdown.run();
      await database.close();
    },
  };
}

export type TestHerald = Awaited<ReturnType<typeof startTestHerald>>;

/** Polls until `read` returns something `done` accepts. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`eventually: gave up; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
