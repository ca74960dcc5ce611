import { execFileSync } from 'node:child_process';

/** The pid of the local process listening on `host:port`'s port, when it is on this machine and visible. */
export function listeningPid(address: string): number | undefined {
  const port = address.slice(address.lastIndexOf(':') + 1);
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

/** Every PostgreSQL server process on the machine (a Temporal server on PostgreSQL keeps its state there). */
export function postgresPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n').map(Number);
  } catch {
    return [];
  }
}
