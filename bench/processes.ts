import { execFileSync } from 'node:child_process';

/** Every PostgreSQL server process on the machine (a Temporal server on PostgreSQL keeps its state there). */
export function postgresPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n').map(Number);
  } catch {
    return [];
  }
}
