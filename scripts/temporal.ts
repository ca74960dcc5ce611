/**
 * `npm run temporal -- <args>`: the Temporal CLI Herald runs on (TEMPORAL_CLI, PATH, then the project's
 * tools folder, installed if need be), for operators' commands such as `workflow signal`.
 */
import { spawnSync } from 'node:child_process';
import { ensureTemporalBinary } from '../runtime/temporal-binaries';

const cli = ensureTemporalBinary('cli', (line) => console.error(line));
if (!cli) {
  console.error(
    'The Temporal CLI is not installed and could not be: run npm run temporal:install, or set TEMPORAL_CLI',
  );
  process.exit(1);
}
const run = spawnSync(cli, process.argv.slice(2), { stdio: 'inherit' });
process.exit(run.status ?? 1);
