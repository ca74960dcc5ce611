import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { NodeProcess } from '../support/processes';
import { freePort } from '../support/temporal';

const databaseUrl = process.env.DATABASE_URL;

/** `npm run worker`'s environment with none of the metrics settings: each process as an operator starts it. */
function workerEnv(taskQueue: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
    HERALD_TASK_QUEUE: taskQueue,
    HERALD_SHUTDOWN_GRACE_SECONDS: '1',
    LOG_LEVEL: 'warn',
  };
  delete env.HERALD_SDK_METRICS_ADDRESS;
  delete env.HERALD_WORKER_METRICS_ADDRESS;
  return { ...env, ...extra };
}

describe('worker processes on one host', () => {
  const processes: NodeProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.stop();
  });
  const worker = (env: NodeJS.ProcessEnv) => {
    const started = new NodeProcess('main/worker.ts', { env });
    processes.push(started);
    return started;
  };

  // Bound before the process needs PostgreSQL, so these run on the embedded pass too.
  describe.each(['HERALD_SDK_METRICS_ADDRESS', 'HERALD_WORKER_METRICS_ADDRESS'])(
    'with %s set to an address another process holds',
    (variable) => {
      it('stop at once, naming the variable, the address and the fix', async () => {
        const holder = net.createServer();
        const port = await freePort();
        await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
        try {
          const address = `127.0.0.1:${port}`;
          const taken = worker(workerEnv(`two-workers-${randomUUID()}`, { [variable]: address }));
          expect(await taken.exit()).toBe(1);
          expect(taken.output()).toContain(
            `${variable}=${address}: another process on this host listens there (another Herald process with the same setting?). ` +
              `Give each process an address of its own, or leave ${variable} empty to serve none`,
          );
        } finally {
          holder.close();
        }
      }, 180_000);
    },
  );

  if (!databaseUrl) return;

  it('run side by side with the same settings, the defaults', async () => {
    const taskQueue = `two-workers-${randomUUID()}`;
    const first = worker(workerEnv(taskQueue, { DATABASE_URL: databaseUrl }));
    const second = worker(workerEnv(taskQueue, { DATABASE_URL: databaseUrl }));
    await first.waitFor('polling task queue', 180_000);
    await second.waitFor('polling task queue', 180_000);
    expect(await first.stop()).toBe(0);
    expect(await second.stop()).toBe(0);
  }, 400_000);
});
