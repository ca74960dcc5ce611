/**
 * `npm run bench:startup`: what the compiled build changes. The time from spawning a worker to its
 * first poll and an API to its first ready answer, from the sources (tsx, workflows bundled at start)
 * and from dist/ (plain node, the bundle made by `npm run build`), in alternating rounds against one
 * Temporal dev server and one PostgreSQL; and the files each way puts in the image.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevServer } from '../runtime/dev-server';
import { ensureTemporalBinary } from '../runtime/temporal-binaries';
import { freePort } from '../test/support/temporal';

const root = path.resolve(__dirname, '..');
const ROUNDS = Number(process.env.ROUNDS ?? 5);

type Way = 'sources' | 'compiled';
const command = (way: Way, role: string) =>
  way === 'compiled'
    ? [path.join(root, 'dist/main', `${role}.js`)]
    : ['--import', 'tsx', path.join(root, 'main', `${role}.ts`)];

/** Milliseconds from spawn until `ready` says so, then the process is stopped. */
async function timeStart(way: Way, role: string, env: NodeJS.ProcessEnv, ready: (output: string) => Promise<boolean>) {
  const started = performance.now();
  const child = spawn(process.execPath, command(way, role), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    while (!(await ready(output))) {
      if (child.exitCode !== null) throw new Error(`${role} (${way}) exited:\n${output}`);
      if (performance.now() - started > 180_000) throw new Error(`${role} (${way}) not ready:\n${output}`);
      await sleep(20);
    }
    return performance.now() - started;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const megabytes = (dir: string) => Number(execFileSync('du', ['-sm', dir], { encoding: 'utf8' }).split('\t')[0]);

/** What `npm ci --omit=dev` installs for the package.json and lock of `ref` (a git revision), in MiB. */
function productionDependencies(ref: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-deps-'));
  try {
    for (const file of ['package.json', 'package-lock.json'])
      execFileSync('bash', ['-c', `git show ${ref}:${file} > ${path.join(dir, file)}`], { cwd: root });
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: 'ignore',
    });
    return megabytes(path.join(dir, 'node_modules'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  const postgres = execFileSync('bash', [path.join(root, 'scripts/test-postgres.sh'), 'start'], {
    encoding: 'utf8',
  }).trim();
  const temporal = await startDevServer({
    executable: ensureTemporalBinary('cli')!,
    port: await freePort(),
    namespace: 'default',
  });
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: postgres,
    TEMPORAL_ADDRESS: temporal.address,
    HERALD_TASK_QUEUE: 'startup-bench',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  const readyz = () =>
    fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
  const times: Record<string, number[]> = {};
  try {
    for (let round = 0; round < ROUNDS; round++)
      for (const way of ['sources', 'compiled'] as const) {
        (times[`worker ${way}`] ??= []).push(
          await timeStart(way, 'worker', env, async (out) => out.includes('polling task queue')),
        );
        (times[`api ${way}`] ??= []).push(await timeStart(way, 'api', env, readyz));
      }
  } finally {
    await temporal.stop();
  }
  console.log(`\nStart-up, median of ${ROUNDS} alternating rounds on ${os.cpus().length} cores (ms):`);
  for (const role of ['worker', 'api']) {
    const [from, to] = [median(times[`${role} sources`]!), median(times[`${role} compiled`]!)];
    console.log(
      `  ${role}: from the sources ${from.toFixed(0)}, compiled ${to.toFixed(0)} (×${(to / from).toFixed(2)})`,
    );
  }
  // The image before this build: production dependencies (tsx among them) and the whole project copied
  // in; now: production dependencies and dist/.
  const before = process.env.BEFORE ?? 'v0.1.0';
  const tree = execFileSync('bash', ['-c', `git ls-tree -r -l ${before} | awk '{ s += $4 } END { print s }'`], {
    cwd: root,
    encoding: 'utf8',
  });
  const beforeMiB = productionDependencies(before) + Math.round(Number(tree) / 2 ** 20);
  const afterMiB = productionDependencies('HEAD') + megabytes(path.join(root, 'dist'));
  console.log(
    `Herald's layers on node:20-bookworm-slim: ${beforeMiB} MiB at ${before}, ${afterMiB} MiB compiled (×${(afterMiB / beforeMiB).toFixed(2)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
