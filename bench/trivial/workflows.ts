import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './activities';

const { noop } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

/** The least a workflow can be: one activity round trip. The baseline for Temporal's own throughput. */
export async function trivialWorkflow(): Promise<void> {
  await noop();
}
