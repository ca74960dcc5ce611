import { execFileSync } from 'node:child_process';

/** The pid of the Temporal dev server listening on `port`. */
export function devServerPid(port: number): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-f', `start-dev.*--port ${port}`])
      .toString()
      .trim();
    return Number(out.split('\n')[0]);
  } catch {
    return undefined;
  }
}
