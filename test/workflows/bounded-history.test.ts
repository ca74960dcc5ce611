import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { eq } from 'drizzle-orm';
import { createActivities } from '../../activities';
import { buildProviders, closeProviders, type ProvidersByChannel } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import type { DatabaseHandle } from '../../db/connect';
import { devOutbox } from '../../db/schema';
import type { NotificationRequest } from '../../domain/notification';
import { MAX_REOPENS } from '../../domain/plan-size';
import { notification } from '../../workflows';
import { searchAttributes } from '../../workflows/definitions';
import type { HeraldWorker } from '../../worker/worker';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { testDatabase } from '../support/herald';
import {
  ESCALATION_STEP_MS,
  escalationAcrossRuns,
  everyRun,
  receiptsAcrossRuns,
  reopenedUntilTheLimit,
  startEarlyContinuingServer,
  SUGGEST_AFTER_EVENTS,
} from '../support/long-histories';
import { notificationRequest } from '../support/requests';
import { startWorkerOn } from '../support/time-skipping';

const { EventType } = temporal.api.enums.v1;
type Events = temporal.api.history.v1.IHistoryEvent[];
/** Workflow tasks a run may complete once continue-as-new is suggested: its in-flight sends' results and the move. */
const MAX_TASKS_AFTER_SUGGESTION = 8;
const links = { secret: 'bounded-history-test-link-secret-0123456', publicUrl: 'https://herald.test' };

/**
 * Notifications whose histories grow long carry on as new runs, on a dev server told to suggest it early:
 * receipts after the plan, receipts while an escalation waits, and acknowledgements that keep re-opening one.
 */
describe(`bounded notification histories (dev server suggesting continue-as-new after ${SUGGEST_AFTER_EVENTS} events)`, () => {
  let env: TestWorkflowEnvironment;
  let smtp: FakeSmtpServer;
  let database: DatabaseHandle;
  let providers: ProvidersByChannel;
  let worker: HeraldWorker;
  const taskQueue = `bounded-${randomUUID()}`;
  const tenantId = 'tenant-bounded';

  beforeAll(async () => {
    env = await startEarlyContinuingServer();
    smtp = await new FakeSmtpServer().start();
    database = await testDatabase();
    await upsertTenant(database.db, tenantId, 'Bounded history tests', `hk_${randomUUID()}`);
    providers = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@test' });
    worker = await startWorkerOn(env, taskQueue, createActivities({ db: database.db, providers, links }));
  }, 120_000);
  afterAll(async () => {
    await worker?.shutdown();
    if (providers) await closeProviders(providers);
    await database?.close();
    await smtp?.stop();
    await env?.teardown();
  });

  const start = (overrides: Partial<NotificationRequest>) => {
    const input = notificationRequest({ tenantId, boundedHistory: true, ...overrides });
    return env.client.workflow.start(notification, {
      taskQueue,
      workflowId: `notification/${tenantId}/${input.notificationId}`,
      args: [input],
      typedSearchAttributes: [{ key: searchAttributes.tenant, value: tenantId }],
    });
  };
  const runs = async (handle: Parameters<typeof everyRun>[1]) =>
    (await everyRun(env.client, handle)).map((history) => history.events!);
  /** Sends a run started: each a `deliver` or a batch of them. */
  const sends = (events: Events) =>
    events.filter((e) => /^deliver/.test(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')).length;
  const outbox = (notificationId: string) =>
    database.db.select().from(devOutbox).where(eq(devOutbox.notificationId, notificationId));
  /**
   * A run carries on at its next safe point once the server suggests it: within a few workflow tasks (sends
   * under way finish first, and on a loaded machine each send's result may come in a task of its own, as do
   * signals that arrive meanwhile). A run that did not carry on would complete all its remaining tasks.
   */
  const bounded = (events: Events) => {
    const suggested = events.findIndex((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew);
    if (suggested < 0) return events.length <= SUGGEST_AFTER_EVENTS;
    const tasksAfter = events
      .slice(suggested)
      .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
    return tasksAfter <= MAX_TASKS_AFTER_SUGGESTION;
  };

  it('carries receipts across new runs while deliveries await them, each applied once and every run bounded', async () => {
    const handle = await start(receiptsAcrossRuns.request());
    await receiptsAcrossRuns.drive(handle);
    const result = await handle.result();

    expect(result.deliveries.map((d) => d.status)).toEqual([...Array(6).fill('opened'), ...Array(6).fill('delivered')]);
    expect(result.status).toBe('delivered');
    const all = await runs(handle);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every(bounded)).toBe(true);
    // The mails went once: only the first run sent them (one batch), the others only recorded.
    expect(all.map(sends)).toEqual([1, ...all.slice(1).map(() => 0)]);
    const recipients = receiptsAcrossRuns.request().recipients!;
    expect(smtp.received.filter((m) => recipients.some((r) => m.to.includes(r.email!)))).toHaveLength(12);
    // The search attributes went with every run.
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(searchAttributes.tenant)).toBe(tenantId);
  }, 120_000);

  it('stops an escalation between steps for a new run, which waits out the rest of the step and sends nothing twice', async () => {
    const handle = await start(escalationAcrossRuns.request());
    await escalationAcrossRuns.drive(handle);
    const result = await handle.result();

    const all = await runs(handle);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every(bounded)).toBe(true);
    // The first run sent the pushes alone and carried on while the SMS step waited.
    expect(sends(all[0]!)).toBe(1);
    const sent = await outbox(result.notificationId);
    expect(sent.map((m) => m.channel).sort()).toEqual(
      [...Array(3).fill('push'), ...Array(3).fill('sms'), ...Array(3).fill('voice')].sort(),
    );
    for (const id of ['ada', 'grace', 'linus']) {
      const mine = result.deliveries.filter((d) => d.recipientId === id);
      expect(mine.map((d) => [d.channel, d.step, d.status])).toEqual([
        ['push', 0, 'delivered'],
        ['sms', 1, 'delivered'],
        ['voice', 2, 'delivered'],
      ]);
      const events = result.timeline!.filter((e) => e.recipientId === id).map((e) => [e.event, e.step]);
      expect(events).toEqual([
        ['step', 0],
        ['step', 1],
        ['step', 2],
        ['skipped', 3],
      ]);
      // Each step ran its full wait after the one before, whichever run waited it.
      const at = result
        .timeline!.filter((e) => e.recipientId === id && e.event === 'step')
        .map((e) => Date.parse(e.at));
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(ESCALATION_STEP_MS);
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(ESCALATION_STEP_MS);
    }
  }, 120_000);

  it(`re-opens an acknowledged, unresolved escalation at most ${MAX_REOPENS} times, across new runs`, async () => {
    const handle = await start(reopenedUntilTheLimit.request());
    await reopenedUntilTheLimit.drive(handle);
    const result = await handle.result();

    const events = result.timeline!.map((e) => e.event);
    expect(events.filter((e) => e === 'reopened')).toHaveLength(MAX_REOPENS);
    expect(events.filter((e) => e === 'acknowledged')).toHaveLength(MAX_REOPENS + 1);
    expect(events.at(-1)).toBe('reopen-limit');
    expect(result.acknowledgement?.by).toBe(`shift-${MAX_REOPENS}`);
    expect(result.deliveries.map((d) => d.channel)).toEqual(Array(MAX_REOPENS + 1).fill('push'));
    const all = await runs(handle);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every(bounded)).toBe(true);
  }, 120_000);

  it('re-opens without a limit, and never carries on, a notification accepted before histories were bounded', async () => {
    const handle = await start({ ...reopenedUntilTheLimit.request(), boundedHistory: undefined });
    await reopenedUntilTheLimit.drive(handle);
    // Past the limit it re-opens again: its input says it runs as it did when it started.
    await reopenedUntilTheLimit.acknowledgeOpening(handle, MAX_REOPENS + 1);
    await handle.terminate();
    expect(await runs(handle)).toHaveLength(1);
  }, 120_000);
});
