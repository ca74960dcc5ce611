import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import { buildProviders, closeProviders, type ProvidersByChannel } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import { storeBroadcast } from '../../db/broadcasts';
import type { DatabaseHandle } from '../../db/connect';
import { changePreferences } from '../../db/preferences';
import { broadcastChunks, broadcasts, deliveries } from '../../db/schema';
import { broadcastChunkWorkflowId, chunksOf, type BroadcastRequest } from '../../domain/broadcast';
import { broadcastWorkflow } from '../../workflows';
import type { HeraldWorker } from '../../worker/worker';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { testDatabase } from '../support/herald';
import { startTimeSkippingServer, startWorkerOn } from '../support/time-skipping';

const { EventType } = temporal.api.enums.v1;

describe('broadcastWorkflow (time-skipping test server, real activities)', () => {
  let env: TestWorkflowEnvironment;
  let smtp: FakeSmtpServer;
  let database: DatabaseHandle;
  let providers: ProvidersByChannel;
  let worker: HeraldWorker;
  const taskQueue = `broadcast-${randomUUID()}`;
  const tenantId = 'tenant-broadcast-workflow';

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    database = await testDatabase();
    await upsertTenant(database.db, tenantId, 'Broadcast workflow tests', `hk_${randomUUID()}`);
    providers = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@test' });
    env = await startTimeSkippingServer();
    worker = await startWorkerOn(env, taskQueue, createActivities({ db: database.db, providers }));
  });
  afterAll(async () => {
    await worker?.shutdown();
    await env?.teardown();
    if (providers) await closeProviders(providers);
    await database?.close();
    await smtp?.stop();
  });

  /** A stored broadcast of `count` email recipients in chunks of two, its subject naming it. */
  const storedBroadcast = async (count: number, subject: string) => {
    const broadcastId = randomUUID();
    const recipients = Array.from({ length: count }, (_, i) => ({
      id: `${broadcastId}-r${i}`,
      email: `r${i}-${broadcastId}@example.com`,
    }));
    const input: BroadcastRequest = {
      tenantId,
      broadcastId,
      channels: ['email'],
      message: { subject: `${subject} ${broadcastId}`, text: subject },
      priority: 'low',
      createdAt: new Date().toISOString(),
      chunkCount: Math.ceil(count / 2),
    };
    await storeBroadcast(database.db, input, chunksOf(recipients, 2), 'hash');
    return { broadcastId, recipients, input };
  };
  const run = (input: BroadcastRequest) =>
    env.client.workflow.execute(broadcastWorkflow, {
      taskQueue,
      workflowId: `broadcast-${input.broadcastId}`,
      args: [input],
    });
  const mailsOf = (input: BroadcastRequest) => smtp.received.filter((m) => m.subject === input.message.subject);

  it('holds the recipients in quiet hours until they end, and sends the others at once', async () => {
    const { broadcastId, recipients, input } = await storedBroadcast(3, 'Digest');
    const hour = new Date(await env.currentTimeMs()).getUTCHours();
    const clock = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    await changePreferences(database.db, tenantId, recipients[0]!.id, () => ({
      quietHours: { start: clock(hour - 1), end: clock(hour + 2), timezone: 'UTC' },
    }));
    const result = await run(input);
    expect(result).toEqual({ status: 'completed', chunksCompleted: 2, chunksFailed: 0, chunkCount: 2 });

    const mails = mailsOf(input);
    expect(mails.map((m) => m.to[0]).sort()).toEqual(recipients.map((r) => r.email).sort());
    // The held recipient's mail went last, after the chunk slept to the end of the quiet hours.
    expect(mails.at(-1)!.to).toEqual([recipients[0]!.email]);
    const chunk = env.client.workflow.getHandle(broadcastChunkWorkflowId(tenantId, broadcastId, 0));
    const events = (await chunk.fetchHistory()).events!;
    const timers = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
    expect(timers).toHaveLength(1);
    const passes = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    expect(passes).toHaveLength(2);

    const rows = await database.db
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.notificationId, broadcastId)));
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    const [row] = await database.db.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
    expect(row).toMatchObject({ status: 'completed', chunksCompleted: 2 });
  });

  it('sends the other chunks when one cannot be sent at all, and ends failed', async () => {
    const { broadcastId, recipients, input } = await storedBroadcast(4, 'Partial');
    // The second chunk's recipients are gone: its activity fails for good, and its child workflow with it.
    await database.db
      .delete(broadcastChunks)
      .where(and(eq(broadcastChunks.broadcastId, broadcastId), eq(broadcastChunks.chunk, 1)));

    const result = await run(input);
    expect(result).toEqual({ status: 'failed', chunksCompleted: 1, chunksFailed: 1, chunkCount: 2 });
    expect(
      mailsOf(input)
        .map((m) => m.to[0])
        .sort(),
    ).toEqual([recipients[0]!.email, recipients[1]!.email].sort());
    const [row] = await database.db.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
    expect(row).toMatchObject({ status: 'failed', chunksCompleted: 1, chunksFailed: 1 });
  });
});
