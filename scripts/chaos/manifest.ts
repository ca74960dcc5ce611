/**
 * What a chaos run has started, written down as it starts it, so that `--cleanup` (CI's trap, or the
 * next run) can stop it all even when the run itself was killed: process groups, the PostgreSQL
 * cluster and the Temporal cluster, which both run detached from the run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(__dirname, '../..');
export const chaosDir = path.join(root, '.herald', 'chaos');
const file = path.join(chaosDir, 'running.json');

export interface Manifest {
  /** Process group ids (each child is a group leader). */
  groups: number[];
  postgres?: { dir: string; port: number };
  cluster?: { home: string; port: number };
  /** Folders removed at the end. */
  scratch: string[];
}

const manifest: Manifest = { groups: [], scratch: [] };

function save(): void {
  writeFileSync(file, JSON.stringify(manifest, null, 2));
}

export function noteGroup(pid: number): void {
  if (!manifest.groups.includes(pid)) manifest.groups.push(pid);
  save();
}

export function notePostgres(dir: string, port: number): void {
  manifest.postgres = { dir, port };
  save();
}

export function noteCluster(home: string, port: number): void {
  manifest.cluster = { home, port };
  save();
}

export function noteScratch(dir: string): void {
  manifest.scratch.push(dir);
  save();
}

/** Stops everything a manifest names: this run's, or one a killed run left behind. */
export function cleanUp(from: Manifest = readManifest() ?? manifest): void {
  for (const pid of from.groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (from.cluster)
    quietly('bash', ['scripts/temporal-cluster.sh', 'stop'], {
      TEMPORAL_CLUSTER_HOME: from.cluster.home,
      TEMPORAL_CLUSTER_PORT: String(from.cluster.port),
    });
  if (from.postgres)
    quietly('bash', ['scripts/test-postgres.sh', 'stop', from.postgres.dir], {
      HERALD_TEST_PG_PORT: String(from.postgres.port),
    });
  for (const dir of from.scratch) rmSync(dir, { recursive: true, force: true });
  rmSync(file, { force: true });
}

function readManifest(): Manifest | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Manifest) : undefined;
}

function quietly(command: string, args: string[], env: Record<string, string>): void {
  try {
    execFileSync(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore', timeout: 60_000 });
  } catch {
    // Stopped already, or not there: nothing left to stop.
  }
}
