import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { buildProviders, closeProviders, type ProvidersByChannel } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import type { DatabaseHandle } from '../../db/connect';
import { notification } from '../../workflows';
import { PATCHES } from '../../workflows/definitions';
import type { HeraldWorker } from '../../worker/worker';
import { testDatabase } from '../support/herald';
import { notificationRequest } from '../support/requests';
import { startTimeSkippingServer, startWorkerOn } from '../support/time-skipping';

/**
 * A replay may hand a local activity's result to the workflow a task earlier than it first came (when the
 * record's task was completed before its result was taken, as a query in the meantime can make happen). A
 * patch first checked after the result would then be looked for in the wrong task and the replay fail, so
 * the shared-waits patch is checked before the first record.
 */
describe('the shared-waits patch is checked before the first record, whatever task its result comes back in', () => {
  let env: TestWorkflowEnvironment;
  let database: DatabaseHandle;
  let providers: ProvidersByChannel;
  let worker: HeraldWorker;
  const taskQueue = `shared-waits-${randomUUID()}`;

  beforeAll(async () => {
    env = await startTimeSkippingServer();
    database = await testDatabase();
    await upsertTenant(database.db, 'tenant-markers', 'Markers', `hk_${randomUUID()}`);
    providers = buildProviders(database.db, { emailFrom: 'herald@test' });
    const links = { secret: 'shared-waits-marker-link-secret-01234567', publicUrl: 'https://herald.test' };
    worker = await startWorkerOn(env, taskQueue, createActivities({ db: database.db, providers, links }));
  });
  afterAll(async () => {
    await worker?.shutdown();
    if (providers) await closeProviders(providers);
    await database?.close();
    await env?.teardown();
  });

  it.each([
    ['sent at once', {}],
    ['held for its send time', { sendAt: '2099-01-01T00:00:00.000Z' }],
  ])('for several recipients %s', async (_, overrides) => {
    const input = notificationRequest({
      tenantId: 'tenant-markers',
      channels: ['push'],
      recipients: ['a', 'b', 'c'].map((id) => ({ id, pushTokens: [`device-${id}`] })),
      ...overrides,
    });
    const handle = await env.client.workflow.start(notification, {
      taskQueue,
      workflowId: `markers-${input.notificationId}`,
      args: [input],
    });
    if (input.sendAt) await env.sleep(1000);
    else await handle.result();
    const markers = (await handle.fetchHistory()).events!.flatMap((e) => {
      const a = e.markerRecordedEventAttributes;
      if (!a) return [];
      const patch = a.details?.['patch-data']?.payloads?.[0]?.data;
      return [patch ? (JSON.parse(Buffer.from(patch).toString()) as { id: string }).id : a.markerName!];
    });
    expect(markers.indexOf(PATCHES.sharedWaits)).toBeGreaterThanOrEqual(0);
    expect(markers.indexOf(PATCHES.sharedWaits)).toBeLessThan(markers.indexOf('core_local_activity'));
    if (input.sendAt) await handle.terminate();
  });
});
