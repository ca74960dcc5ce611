import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startHerald } from '../../main/herald';
import { loadConfig, type Config } from '../../runtime/config';
import { connectClient } from '../../runtime/temporal';
import { Shutdown } from '../../runtime/shutdown';
import { eventually, testDatabase } from '../support/herald';
import { testTracing } from '../support/tracing';
import type { Client } from '@temporalio/client';
import type { DatabaseHandle } from '../../db/connect';

/**
 * A workflow caught in a loop must fail its workflow task (Node's `vm` timeout, the SDK's deadlock
 * detection) rather than hold the worker's workflow thread for good, on Herald's worker as the default
 * configuration builds it.
 */
describe('a workflow caught in a loop, on a worker with the default configuration', () => {
  const temporalAddress = process.env.HERALD_TEST_TEMPORAL_ADDRESS!;
  let config: Config;
  let database: DatabaseHandle;
  let client: Client;
  let closeClient: () => Promise<void>;
  const shutdown = new Shutdown();
  const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

  beforeAll(async () => {
    // Only a queue of its own: every other setting is the default.
    config = loadConfig({ HERALD_TASK_QUEUE: `deadlock-${randomUUID()}` });
    database = await testDatabase();
    await startHerald({
      config,
      temporalAddress,
      db: database.db,
      api: false,
      worker: true,
      devOutbox: true,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('../support/spinning-workflow'),
        logger: quietLogger,
      }),
      tracing: testTracing(),
      shutdown,
    });
    const connected = await connectClient(config, temporalAddress);
    client = connected.client;
    closeClient = () => connected.connection.close();
  }, 180_000);
  afterAll(async () => {
    await closeClient?.();
    await shutdown.run();
    await database?.close();
  });

  it('fails its workflow task as a deadlock, and the worker goes on running other workflows', async () => {
    const looping = await client.workflow.start('loopingForever', {
      taskQueue: config.taskQueue,
      workflowId: `looping-${randomUUID()}`,
    });
    try {
      const failure = await eventually(
        async () => {
          const { events } = await looping.fetchHistory();
          return events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure
            ?.message;
        },
        (message) => message !== undefined,
        45_000,
      );
      expect(failure).toMatch(/Script execution timed out after 5000ms/);
      // The thread is free again: another workflow runs to completion on the same worker.
      const result = await client.workflow.execute('spinning', {
        taskQueue: config.taskQueue,
        workflowId: `spinning-${randomUUID()}`,
        args: [1000],
      });
      expect(typeof result).toBe('number');
    } finally {
      await looping.terminate('test over');
    }
  }, 90_000);
});
