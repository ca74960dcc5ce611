import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as schema from '../../db/schema';
import { bundleWorkflows, type BundleOptions } from '../../worker/workflow-bundle';

/**
 * What every test file would otherwise make for itself, made once per run by the global setup: the
 * workflow bundles (webpack, seconds each) and an embedded database already migrated, whose files each
 * in-memory database starts from (initdb and the migrations, seconds each). Kept in a folder the
 * environment names, which the test processes inherit.
 */
const FOLDER_VARIABLE = 'HERALD_TEST_SHARED_FOLDER';

const bundleFile = (folder: string, { workflowSpans }: BundleOptions) =>
  path.join(folder, workflowSpans ? 'workflows-with-spans.js' : 'workflows.js');
const databaseFile = (folder: string) => path.join(folder, 'migrated-pglite.tar');

export async function makeSharedSetup(): Promise<void> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'herald-tests-'));
  for (const workflowSpans of [true, false])
    writeFileSync(bundleFile(folder, { workflowSpans }), (await bundleWorkflows({ workflowSpans })).code);
  // Imported when used, as db/connect.ts does: PGlite ships as an ES module.
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = new PGlite(undefined, { postgresqlconf: 'shared_buffers=16MB' });
  await migrate(drizzle(client, { schema }), { migrationsFolder: path.join(__dirname, '../../db/migrations') });
  writeFileSync(databaseFile(folder), Buffer.from(await (await client.dumpDataDir('none')).arrayBuffer()));
  await client.close();
  process.env[FOLDER_VARIABLE] = folder;
}

export function removeSharedSetup(): void {
  const folder = process.env[FOLDER_VARIABLE];
  if (folder) rmSync(folder, { recursive: true, force: true });
}

/** The run's workflow bundle of this kind, when the global setup made it. */
export function sharedWorkflowBundle(options: BundleOptions): { code: string } | undefined {
  const folder = process.env[FOLDER_VARIABLE];
  return folder ? { code: readFileSync(bundleFile(folder, options), 'utf8') } : undefined;
}

/** The migrated embedded database's files, when the global setup made them. */
export function sharedMigratedDatabase(): Blob | undefined {
  const folder = process.env[FOLDER_VARIABLE];
  return folder ? new Blob([readFileSync(databaseFile(folder))]) : undefined;
}
