import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { postgresListen, type Listen } from './listener';
import * as schema from './schema';
import { projectRoot, scriptArgs } from '../runtime/project-files';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  /** `postgres` when DATABASE_URL names a server, `pglite` for the embedded default. */
  kind: 'postgres' | 'pglite';
  /** Hears the database's NOTIFY messages on a channel: from every process on PostgreSQL, this one's on PGlite. */
  listen: Listen;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL connection string; without it Herald uses embedded PGlite. */
  url?: string;
  /** Folder of the embedded database; in memory when absent. */
  dataDir?: string;
  poolSize?: number;
}

const MIGRATION_LOCK_ID = 4_815_162_342;
const migrationsFolder = path.join(__dirname, 'migrations');

/** Opens the application database and brings its schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openPglite(options.dataDir);
}

async function openPostgres(url: string, poolSize: number): Promise<DatabaseHandle> {
  const { Pool } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new Pool({ connectionString: url, max: poolSize });
  // A connection the server closes while idle in the pool (a restart, a failover, an operator's
  // pg_terminate_backend) is an 'error' event: unheard, it would end the process. The pool drops that
  // connection and opens another when next asked.
  pool.on('error', (error) => {
    console.warn(`[herald] PostgreSQL closed an idle connection (${error.message}); the next query opens another`);
  });
  // The pool listens only while a connection is idle: one lost while checked out (between a
  // transaction's statements) would emit its 'error' unheard. Heard here, the transaction's next
  // statement fails, and the pool drops the connection when it comes back.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      console.warn(`[herald] PostgreSQL closed a connection in use (${error.message}); its transaction fails`);
    });
  });
  // API and worker processes may start together: one migrates while the others wait.
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await migrate(drizzle(client, { schema }), { migrationsFolder });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    client.release();
  }
  const db = drizzle(pool, { schema });
  return { db: db as unknown as Database, kind: 'postgres', listen: postgresListen(url), close: () => pool.end() };
}

async function openPglite(dataDir?: string): Promise<DatabaseHandle> {
  if (dataDir && !existsSync(path.join(dataDir, 'PG_VERSION'))) await createPgliteInChildProcess(dataDir);
  return openPgliteInProcess(dataDir);
}

/**
 * Creates an embedded database (initdb and the migrations) in a short-lived child process: PGlite's
 * initdb runs in a WebAssembly instance of ≈570 MiB that a long-running process would hold until V8
 * next collects it, and the database's own memory, which never shrinks, would keep initdb's peak.
 */
async function createPgliteInChildProcess(dataDir: string): Promise<void> {
  await promisify(execFile)(process.execPath, scriptArgs('create-embedded-database', dataDir), { cwd: projectRoot });
}

/**
 * Opens (creating it if need be) the embedded database in this process; an in-memory one may start as a
 * copy of another's files (`PGlite.dumpDataDir`), which skips initdb.
 */
export async function openPgliteInProcess(dataDir?: string, copyOf?: Blob): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // A small buffer pool: PostgreSQL's 128 MB default, touched at start, was ≈110 MiB of Herald's idle memory.
  // The embedded database's files stay in the operating system's page cache all the same.
  const client = new PGlite(dataDir, {
    postgresqlconf: 'shared_buffers=16MB',
    ...(copyOf ? { loadDataDir: copyOf } : {}),
  });
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  const listen: Listen = async (channel, heard) => {
    const stop = await client.listen(channel, heard);
    return () => stop();
  };
  return { db: db as unknown as Database, kind: 'pglite', listen, close: () => client.close() };
}
