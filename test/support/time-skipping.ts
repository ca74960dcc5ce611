import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import { registerSearchAttributes } from '../../worker/search-attributes';
import { HeraldWorker } from '../../worker/worker';
import { workflowBundle } from './herald';
import { timeSkippingExecutable } from './temporal';
import { testTracing } from './tracing';

/** A time-skipping test server of its own, with Herald's search attributes registered. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: timeSkippingExecutable() } });
  await registerSearchAttributes(env.nativeConnection, env.namespace ?? 'default');
  return env;
}

/** Herald's workers on a test server's connection, with the real activities given. */
export async function startWorkerOn(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: Activities,
): Promise<HeraldWorker> {
  return HeraldWorker.start({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    workflowBundle: await workflowBundle(),
    shutdownGraceMs: 0,
    tracing: testTracing(),
  });
}
