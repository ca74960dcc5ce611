import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './temporal';

const run = promisify(execFile);
const script = path.resolve(__dirname, '../../scripts/test-postgres.sh');

/** A PostgreSQL server of a test's own, which it can restart without disturbing the other test files. */
export async function ownPostgres() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-pg-'));
  // PostgreSQL runs as its own user when the tests run as root: it must reach its folder inside.
  chmodSync(dir, 0o755);
  const env = { ...process.env, HERALD_TEST_PG_PORT: String(await freePort()) };
  const pg = (action: string) => run('bash', [script, action, path.join(dir, 'data')], { env });
  const { stdout } = await pg('start');
  return {
    url: stdout.trim(),
    stop: () => pg('stop'),
    start: () => pg('start'),
    async remove() {
      await pg('stop');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
