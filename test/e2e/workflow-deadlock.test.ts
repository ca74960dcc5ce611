import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';

/**
 * Herald runs its workflows without the SDK's per-call deadlock bound (patches/@temporalio+worker): Node
 * enforces one with a thread started and joined on every call into the sandbox. Unpatched, a bound of 0
 * is refused by Node and no workflow would run; a positive bound still fails a task that runs past it.
 */
describe('the workflow sandbox deadlock bound', () => {
  const address = process.env.HERALD_TEST_TEMPORAL_ADDRESS!;
  let native: NativeConnection;
  let connection: Connection;
  let client: Client;
  let workflowBundle: WorkflowBundle;
  beforeAll(async () => {
    // Bundled once for both workers.
    workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../support/spinning-workflow') });
    native = await NativeConnection.connect({ address });
    connection = await Connection.connect({ address });
    client = new Client({ connection });
  });
  afterAll(async () => {
    await native?.close();
    await connection?.close();
  });

  const withWorker = async <T>(isolateExecutionTimeout: number, run: (taskQueue: string) => Promise<T>) => {
    const taskQueue = `deadlock-${randomUUID()}`;
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle,
      isolateExecutionTimeout,
    });
    return worker.runUntil(run(taskQueue));
  };
  // Hundreds of milliseconds of work on any machine this runs on, far beyond the bound below.
  const rounds = 300_000_000;

  test('with no bound (0), a long workflow task completes', async () => {
    const result = await withWorker(0, (taskQueue) =>
      client.workflow.execute('spinning', { taskQueue, workflowId: randomUUID(), args: [rounds] }),
    );
    expect(typeof result).toBe('number');
  });

  test('with a bound, a task that runs past it fails and is retried', async () => {
    const failure = await withWorker(20, async (taskQueue) => {
      const handle = await client.workflow.start('spinning', { taskQueue, workflowId: randomUUID(), args: [rounds] });
      try {
        for (let i = 0; i < 200; i++) {
          const { events } = await handle.fetchHistory();
          const failed = events?.find((e) => e.workflowTaskFailedEventAttributes);
          if (failed) return failed.workflowTaskFailedEventAttributes!.failure?.message;
          await new Promise((r) => setTimeout(r, 100));
        }
        return undefined;
      } finally {
        await handle.terminate('test over');
      }
    });
    expect(failure).toMatch(/timed out/i);
  });
});
