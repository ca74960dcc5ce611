import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { upsertTenant } from '../../api/tenants';
import { buildProviders, closeProviders } from '../../activities/providers';
import type { ProvidersByChannel } from '../../activities/providers';
import type { DatabaseHandle } from '../../db/connect';
import type { NotificationRequest } from '../../domain/notification';
import { notification, notificationWorkflow } from '../../workflows';
import { receiptSignal, statusQuery } from '../../workflows/definitions';
import type { HeraldWorker } from '../../worker/worker';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { heldOutcomeRecord } from '../support/held-outcome-record';
import { testDatabase, workflowBundle } from '../support/herald';
import { waitForQuery } from '../support/temporal';
import { notificationRequest } from '../support/requests';
import { startTimeSkippingServer, startWorkerOn } from '../support/time-skipping';

const HOUR = 3_600_000;
const { EventType } = temporal.api.enums.v1;

describe('notification workflow (time-skipping test server, real activities)', () => {
  let env: TestWorkflowEnvironment;
  let smtp: FakeSmtpServer;
  let database: DatabaseHandle;
  let providers: ProvidersByChannel;
  let worker: HeraldWorker;
  const taskQueue = `wf-${randomUUID()}`;

  beforeAll(async () => {
    env = await startTimeSkippingServer();
    smtp = await new FakeSmtpServer().start();
    database = await testDatabase();
    await upsertTenant(database.db, 'tenant-wf', 'Workflow tests', 'hk_workflow_tests');
    providers = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@test' });
    worker = await startWorkerOn(env, taskQueue, createActivities({ db: database.db, providers }));
  });
  afterAll(async () => {
    await worker?.shutdown();
    if (providers) await closeProviders(providers);
    await database?.close();
    await smtp?.stop();
    await env?.teardown();
  });

  const request = notificationRequest;

  const start = (input: NotificationRequest) =>
    env.client.workflow.start(notification, {
      taskQueue,
      workflowId: `wf-${input.notificationId}`,
      args: [input],
    });

  it('retries a failing send after 1, 2, 4, 8 and 16 s, then fails it with the reason after six tries', async () => {
    smtp.script.push(...Array.from({ length: 6 }, () => ({ code: 421, message: 'Service not available' })));
    const before = smtp.mailFromCount;
    const handle = await start(request());
    const result = await handle.result();

    expect(result.status).toBe('failed');
    expect(result.deliveries[0]).toMatchObject({ status: 'failed', attempts: 6, provider: 'smtp' });
    expect(result.deliveries[0]!.error).toMatch(/Service not available/);
    expect(smtp.mailFromCount - before).toBe(6);

    // The history shows the whole backoff: 1 + 2 + 4 + 8 + 16 = 31 s between first schedule and failure.
    const { events } = await handle.fetchHistory();
    const at = (type: number) => events!.find((e) => e.eventType === type)!.eventTime!;
    const seconds = (t: { seconds?: unknown }) => Number(t.seconds);
    const span =
      seconds(at(EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)) -
      seconds(at(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED));
    expect(span).toBeGreaterThanOrEqual(31);
    expect(span).toBeLessThan(40);
  });

  it("reports each delivery's outcome and attempts through the status query", async () => {
    smtp.script.push({ code: 451, message: 'Greylisted' });
    const handle = await start(request({ recipients: [{ id: 'a', email: 'a@example.com' }, { id: 'b' }] }));
    const result = await handle.result();
    expect(result.status).toBe('partially_delivered');
    const snapshot = await handle.query(statusQuery);
    expect(snapshot.deliveries.map((d) => [d.recipientId, d.status, d.attempts])).toEqual([
      ['a', 'sent', 2],
      ['b', 'failed', 1],
    ]);
  });

  it('stays open for receipts and closes early once every sent message is confirmed', async () => {
    const handle = await start(request());
    const sent = await waitForQuery(handle, (s) => s.deliveries[0]!.status === 'sent');
    await handle.signal(receiptSignal, {
      providerMessageId: sent.deliveries[0]!.providerMessageId!,
      status: 'delivered',
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'delivered', deliveries: [{ status: 'delivered' }] });
  });

  it('closes when the receipt window ends, leaving unconfirmed messages as sent', async () => {
    const handle = await start(request({ receiptWindowMs: 2 * HOUR }));
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'delivered', deliveries: [{ status: 'sent' }] });
    const { events } = await handle.fetchHistory();
    const timer = events!.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)!;
    expect(Number(timer.timerStartedEventAttributes!.startToFireTimeout!.seconds)).toBeGreaterThan(7000);
  });

  it('records its projection for the API to answer from after it closes', async () => {
    const input = request({ channels: ['sms', 'push'], recipients: [{ id: 'p', phone: '+14155550100' }] });
    await (await start(input)).result();
    const { recordedSnapshot } = await import('../../api/routes/status');
    const recorded = await recordedSnapshot(database.db, input.tenantId, input.notificationId);
    expect(recorded).toMatchObject({ status: 'partially_delivered', priority: 'normal' });
    expect(recorded!.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'sms', status: 'delivered', provider: 'dev-outbox' }),
        expect.objectContaining({ channel: 'push', status: 'failed', error: 'recipient has no push token' }),
      ]),
    );
  });

  it('runs as a type of its own with no patch markers, while the first type still runs its plan with one per change', async () => {
    const patchMarkers = (events: temporal.api.history.v1.IHistoryEvent[]) =>
      events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    const upserts = (events: temporal.api.history.v1.IHistoryEvent[]) =>
      events.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
    const input = () =>
      request({ channels: ['sms'], recipients: [{ id: 'p', phone: '+14155550100' }], recordedByApi: true });

    const current = await start(input());
    expect(await current.result()).toMatchObject({ status: 'delivered' });
    const currentEvents = (await current.fetchHistory()).events!;
    expect(patchMarkers(currentEvents)).toHaveLength(0);

    const first = input();
    const legacy = await env.client.workflow.start(notificationWorkflow, {
      taskQueue,
      workflowId: `wf-${first.notificationId}`,
      args: [first],
    });
    expect(await legacy.result()).toMatchObject({ status: 'delivered' });
    const legacyEvents = (await legacy.fetchHistory()).events!;
    expect(patchMarkers(legacyEvents).length).toBeGreaterThanOrEqual(4);
    // Each marker is also a search attribute update the server indexes.
    expect(upserts(legacyEvents).length - upserts(currentEvents).length).toBe(patchMarkers(legacyEvents).length);
  });

  describe('sends of several recipients', () => {
    const scheduled = (events: temporal.api.history.v1.IHistoryEvent[], name: string) =>
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);

    it('go to the provider in one activity per channel and hundred recipients, each with its own outcome', async () => {
      const recipients = Array.from({ length: 150 }, (_, i) => ({ id: `r${i}`, phone: '+14155550100' }));
      // As the API starts it: every recipient's preferences read at accept.
      const handle = await start(request({ channels: ['sms'], recipients, recordedByApi: true, recipientPlans: {} }));
      const result = await handle.result();
      expect(result.status).toBe('delivered');
      expect(new Set(result.deliveries.map((d) => d.providerMessageId)).size).toBe(150);
      expect(result.deliveries.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
      const { events } = await handle.fetchHistory();
      expect(scheduled(events!, 'deliverBatch')).toHaveLength(2);
      expect(scheduled(events!, 'deliver')).toHaveLength(0);
    });

    it('try again together after the backoff those a later try may heal, and fail at once those none can', async () => {
      // A provider of its own: the failures of the tests before leave the shared one's circuit open.
      const ownProviders = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@test' });
      const queue = `wf-batch-${randomUUID()}`;
      const own = await startWorkerOn(env, queue, createActivities({ db: database.db, providers: ownProviders }));
      smtp.script.push({ code: 421, message: 'Service not available' });
      const before = smtp.mailFromCount;
      const input = request({
        recipients: [{ id: 'a', email: 'a@example.com' }, { id: 'b', email: 'b@example.com' }, { id: 'nobody' }],
        recipientPlans: {},
      });
      const handle = await env.client.workflow.start(notification, {
        taskQueue: queue,
        workflowId: `wf-${input.notificationId}`,
        args: [input],
      });
      const result = await handle.result().finally(async () => {
        await own.shutdown();
        await closeProviders(ownProviders);
      });
      expect(result.status).toBe('partially_delivered');
      const byRecipient = Object.fromEntries(result.deliveries.map((d) => [d.recipientId, d]));
      expect(byRecipient.nobody).toMatchObject({ status: 'failed', attempts: 1 });
      expect([byRecipient.a!.attempts, byRecipient.b!.attempts].sort()).toEqual([1, 2]);
      for (const id of ['a', 'b']) expect(byRecipient[id]).toMatchObject({ status: 'sent', providersTried: ['smtp'] });
      expect(smtp.mailFromCount - before).toBe(3);

      const { events } = await handle.fetchHistory();
      expect(scheduled(events!, 'deliverBatch')).toHaveLength(2);
      const timer = events!.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)!;
      expect(Number(timer.timerStartedEventAttributes!.startToFireTimeout!.seconds)).toBe(1);
    });

    it('leave a lone recipient on the activity per send, with no patch marker', async () => {
      const handle = await start(request({ channels: ['sms'], recipients: [{ id: 'p', phone: '+14155550100' }] }));
      await handle.result();
      const { events } = await handle.fetchHistory();
      expect(scheduled(events!, 'deliver')).toHaveLength(1);
      expect(scheduled(events!, 'deliverBatch')).toHaveLength(0);
      expect(events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toHaveLength(0);
    });
  });

  describe("the notification's record", () => {
    const recordActivities = (events: temporal.api.history.v1.IHistoryEvent[]) =>
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordNotification');
    const localRecords = (events: temporal.api.history.v1.IHistoryEvent[]) =>
      events.filter(
        (e) =>
          e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
          e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
      );

    it('is written by a local activity, with no activity task of its own', async () => {
      const input = request({
        channels: ['sms'],
        recipients: [{ id: 'p', phone: '+14155550100' }],
        recordedByApi: true,
      });
      const handle = await start(input);
      expect(await handle.result()).toMatchObject({ status: 'delivered' });
      const { events } = await handle.fetchHistory();
      expect(recordActivities(events!)).toHaveLength(0);
      expect(localRecords(events!)).toHaveLength(1);
      const { recordedSnapshot } = await import('../../api/routes/status');
      expect(await recordedSnapshot(database.db, input.tenantId, input.notificationId)).toMatchObject({
        status: 'delivered',
      });
    });

    it('is not waited for by the status query: a receipt that lands meanwhile shows in the status at once', async () => {
      const held = heldOutcomeRecord(createActivities({ db: database.db, providers }));
      const queue = `wf-record-${randomUUID()}`;
      const slow = await startWorkerOn(env, queue, held.activities);
      try {
        const input = request();
        const handle = await env.client.workflow.start(notification, {
          taskQueue: queue,
          workflowId: `wf-${input.notificationId}`,
          args: [input],
        });
        await held.running;
        const sent = await handle.query(statusQuery);
        expect(sent).toMatchObject({ status: 'delivered', deliveries: [{ status: 'sent' }] });
        await handle.signal(receiptSignal, {
          providerMessageId: sent.deliveries[0]!.providerMessageId!,
          status: 'bounced',
        });
        const bounced = await waitForQuery(handle, (s) => s.deliveries[0]!.status === 'failed');
        expect(bounced.status).toBe('failed');

        held.release();
        expect(await handle.result()).toMatchObject({ status: 'failed', deliveries: [{ status: 'failed' }] });
        const { recordedSnapshot } = await import('../../api/routes/status');
        expect(await recordedSnapshot(database.db, input.tenantId, input.notificationId)).toMatchObject({
          status: 'failed',
          deliveries: [{ status: 'failed', error: 'bounced' }],
        });
      } finally {
        held.release();
        await slow.shutdown();
      }
    });

    it('falls back to the regular activity when the local one fails three times, and is written once it can be', async () => {
      const real = createActivities({ db: database.db, providers });
      let failures = 3;
      const databaseAwayAtFirst: typeof real = {
        ...real,
        recordNotification: async (snapshot) => {
          if (failures-- > 0) throw new Error('database unavailable');
          return real.recordNotification(snapshot);
        },
      };
      const queue = `wf-record-${randomUUID()}`;
      const flaky = await startWorkerOn(env, queue, databaseAwayAtFirst);
      try {
        const input = request({
          channels: ['sms'],
          recipients: [{ id: 'p', phone: '+14155550100' }],
          recordedByApi: true,
        });
        const handle = await env.client.workflow.start(notification, {
          taskQueue: queue,
          workflowId: `wf-${input.notificationId}`,
          args: [input],
        });
        expect(await handle.result()).toMatchObject({ status: 'delivered' });
        const { events } = await handle.fetchHistory();
        expect(recordActivities(events!)).toHaveLength(1);
        expect(failures).toBe(-1);
        // The fallback replays: its history gives the same commands.
        await Worker.runReplayHistory(
          { workflowBundle: await workflowBundle(), sinks: { exporter: { export: { fn: () => undefined } } } },
          await handle.fetchHistory(),
        );
        const { recordedSnapshot } = await import('../../api/routes/status');
        expect(await recordedSnapshot(database.db, input.tenantId, input.notificationId)).toMatchObject({
          status: 'delivered',
        });
      } finally {
        await flaky.shutdown();
      }
    });
  });
});
