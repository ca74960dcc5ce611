import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities';
import type { PlanRecipientsInput } from '../../activities/plan-recipient';
import { buildProviders, closeProviders, type ProvidersByChannel } from '../../activities/providers';
import { upsertTenant } from '../../api/tenants';
import type { DatabaseHandle } from '../../db/connect';
import { changePreferences } from '../../db/preferences';
import { devOutbox } from '../../db/schema';
import type { NotificationRequest } from '../../domain/notification';
import type { Preferences } from '../../domain/preferences';
import { notification } from '../../workflows';
import { acknowledgeSignal, cancelSignal, PATCHES, receiptSignal, retrySignal } from '../../workflows/definitions';
import type { HeraldWorker } from '../../worker/worker';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { testDatabase } from '../support/herald';
import { notificationRequest } from '../support/requests';
import { waitForQuery } from '../support/temporal';
import { startTimeSkippingServer, startWorkerOn } from '../support/time-skipping';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const { EventType } = temporal.api.enums.v1;
const links = { secret: 'orchestration-test-link-secret-0123456789', publicUrl: 'https://herald.test' };
const oncall = { id: 'ada', phone: '+14155550100', pushTokens: ['device-ada'], email: 'ada@example.com' };

describe('notification workflow with a plan (time-skipping test server, real activities)', () => {
  let env: TestWorkflowEnvironment;
  let smtp: FakeSmtpServer;
  let database: DatabaseHandle;
  let providers: ProvidersByChannel;
  let worker: HeraldWorker;
  const taskQueue = `orchestration-${randomUUID()}`;
  const tenantId = 'tenant-orchestration';

  const startWorker = () => startWorkerOn(env, taskQueue, createActivities({ db: database.db, providers, links }));

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    database = await testDatabase();
    await upsertTenant(database.db, tenantId, 'Orchestration tests', `hk_${randomUUID()}`);
    providers = buildProviders(database.db, { smtpUrl: smtp.url, emailFrom: 'herald@test' });
  });
  // A test server of its own for each test: one test's skipped time or stuck lock cannot leak into the next.
  beforeEach(async () => {
    env = await startTimeSkippingServer();
    worker = await startWorker();
  });
  afterEach(async () => {
    await worker?.shutdown();
    await env?.teardown();
  });
  afterAll(async () => {
    if (providers) await closeProviders(providers);
    await database?.close();
    await smtp?.stop();
  });

  const request = (overrides: Partial<NotificationRequest>) =>
    notificationRequest({ tenantId, recipients: [oncall], channels: ['push'], ...overrides });
  const start = (input: NotificationRequest) =>
    env.client.workflow.start(notification, {
      taskQueue,
      workflowId: `wf-${input.notificationId}`,
      args: [input],
    });
  const history = async (handle: Awaited<ReturnType<typeof start>>) => (await handle.fetchHistory()).events!;
  const timersStarted = async (handle: Awaited<ReturnType<typeof start>>) =>
    (await history(handle))
      .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
      .map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds));
  const outbox = (notificationId: string) =>
    database.db.select().from(devOutbox).where(eq(devOutbox.notificationId, notificationId));
  const setPreferences = (recipientId: string, preferences: Preferences) =>
    changePreferences(database.db, tenantId, recipientId, () => preferences);
  /** Quiet hours from an hour ago to two hours ahead of the test server's clock, in UTC. */
  const quietNow = async (): Promise<Preferences['quietHours']> => {
    const hour = new Date(await env.currentTimeMs()).getUTCHours();
    const clock = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    return { start: clock(hour - 1), end: clock(hour + 2), timezone: 'UTC' };
  };
  const channelsOf = (s: { deliveries: { channel: string; status: string }[] }) =>
    s.deliveries.map((d) => `${d.channel}:${d.status}`);

  describe('fallback', () => {
    it('waits the fallback delay after every primary failed, then tries the fallbacks in order until one takes it', async () => {
      const handle = await start(
        request({
          recipients: [{ id: 'no-push', phone: '+14155550101' }],
          fallback: { channels: ['telegram', 'sms'], afterMs: 10 * MINUTE, unless: 'delivered' },
        }),
      );
      const result = await handle.result();
      expect(result.status).toBe('delivered');
      expect(result.deliveries.map((d) => [d.channel, d.status, d.step, d.kind ?? 'primary'])).toEqual([
        ['push', 'failed', 0, 'primary'],
        ['telegram', 'failed', 1, 'fallback'],
        ['sms', 'delivered', 1, 'fallback'],
      ]);
      expect(await timersStarted(handle)).toContain(600);
    });

    it('skips the fallback when a receipt confirms a primary during the wait', async () => {
      const handle = await start(
        request({
          channels: ['email'],
          fallback: { channels: ['sms'], afterMs: 5 * MINUTE, unless: 'delivered' },
        }),
      );
      const sent = await waitForQuery(handle, (s) => s.deliveries[0]?.status === 'sent');
      await handle.signal(receiptSignal, {
        providerMessageId: sent.deliveries[0]!.providerMessageId!,
        status: 'delivered',
      });
      const result = await handle.result();
      expect(channelsOf(result)).toEqual(['email:delivered']);
      expect(result.timeline).toContainEqual(
        expect.objectContaining({ event: 'skipped', step: 1, reason: 'delivered' }),
      );
    });

    it('under strategy "all" falls back when one of two primaries fails', async () => {
      const base = { channels: ['push', 'in_app'] as const, recipients: [{ id: 'half', phone: '+14155550102' }] };
      const fallback = { channels: ['sms' as const], afterMs: MINUTE, unless: 'sent' as const };
      const any = await (await start(request({ ...base, channels: [...base.channels], fallback }))).result();
      expect(channelsOf(any)).toEqual(['push:failed', 'in_app:delivered']);
      const all = await (
        await start(request({ ...base, channels: [...base.channels], fallback, strategy: 'all' }))
      ).result();
      expect(channelsOf(all)).toEqual(['push:failed', 'in_app:delivered', 'sms:delivered']);
      expect(all.status).toBe('delivered');
    });
  });

  describe('escalation', () => {
    const policy = {
      steps: [
        { afterMs: MINUTE, channels: ['sms' as const], unless: 'acknowledged' as const },
        { afterMs: 5 * MINUTE, channels: ['voice' as const], unless: 'acknowledged' as const },
      ],
      repeat: 0,
    };

    it('escalates push → SMS after 1 minute, stops at the acknowledgement and keeps who acknowledged', async () => {
      const handle = await start(request({ escalation: policy }));
      await waitForQuery(handle, (s) => s.deliveries[0]?.status === 'delivered');
      await env.sleep(MINUTE + 1000);
      await waitForQuery(handle, (s) => s.deliveries.some((d) => d.channel === 'sms' && d.status === 'delivered'));
      await handle.signal(acknowledgeSignal, { by: 'ada', at: new Date().toISOString(), via: 'api' });
      const result = await handle.result();

      expect(channelsOf(result)).toEqual(['push:delivered', 'sms:delivered']);
      expect(result.acknowledgement).toMatchObject({ by: 'ada', via: 'api' });
      expect(result.timeline!.map((e) => [e.event, e.step])).toEqual([
        ['step', 0],
        ['step', 1],
        ['acknowledged', undefined],
        ['skipped', 2],
      ]);
      // The history tells the same story: both timers, the acknowledgement signal, no voice call.
      const events = await history(handle);
      expect(await timersStarted(handle)).toEqual(expect.arrayContaining([60, 300]));
      expect(events.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'acknowledge')).toBe(true);
      // Every message of the alert offers a signed Acknowledge link: a button on push, a line in the SMS.
      const link = /https:\/\/herald\.test\/ack\/[\w-]+\.[\w-]+/;
      const sent = await outbox(result.notificationId);
      expect(sent.map((m) => m.channel)).toEqual(['push', 'sms']);
      expect(sent[0]!.details?.actions).toEqual([{ label: 'Acknowledge', url: expect.stringMatching(link) }]);
      expect(sent[1]!.text).toMatch(new RegExp(`Acknowledge: ${link.source}`));
    });

    it('runs every step and repeats them while nobody acknowledges', async () => {
      const handle = await start(request({ escalation: { ...policy, repeat: 1 } }));
      const result = await handle.result();
      expect(channelsOf(result)).toEqual([
        'push:delivered',
        'sms:delivered',
        'voice:delivered',
        'sms:delivered',
        'voice:delivered',
      ]);
      expect(result.deliveries.map((d) => d.step)).toEqual([0, 1, 2, 3, 4]);
      expect(await outbox(result.notificationId)).toHaveLength(5);
    });
  });

  describe('quiet hours, preferences and send times', () => {
    it('holds a notification through quiet hours, then sends it', async () => {
      await setPreferences('sleeper', { quietHours: await quietNow() });
      const handle = await start(request({ recipients: [{ id: 'sleeper', pushTokens: ['d'] }] }));
      const held = await waitForQuery(handle, (s) => s.status === 'held');
      expect(held.deliveries[0]!.status).toBe('pending');
      const result = await handle.result();
      expect(result.status).toBe('delivered');
      const until = result.timeline!.find((e) => e.event === 'held')!.until!;
      const sentAt = result.timeline!.find((e) => e.event === 'step')!.at;
      expect(Date.parse(sentAt)).toBeGreaterThanOrEqual(Date.parse(until));
      const heldAt = result.timeline!.find((e) => e.event === 'held')!.at;
      expect(Date.parse(until) - Date.parse(heldAt)).toBeLessThanOrEqual(2 * HOUR);
    });

    it('sends nothing when cancelled during a quiet-hours hold', async () => {
      await setPreferences('sleeper-2', { quietHours: await quietNow() });
      const handle = await start(request({ recipients: [{ id: 'sleeper-2', pushTokens: ['d'] }] }));
      await waitForQuery(handle, (s) => s.status === 'held');
      await handle.signal(cancelSignal, { by: 'ops', reason: 'wrong audience' });
      const result = await handle.result();
      expect(result.status).toBe('cancelled');
      expect(channelsOf(result)).toEqual(['push:cancelled']);
      expect(result.timeline).toContainEqual(expect.objectContaining({ event: 'cancelled', by: 'ops' }));
      expect(await outbox(result.notificationId)).toHaveLength(0);
    });

    it('suppresses a category on a channel the recipient switched off; critical passes preferences and quiet hours', async () => {
      await setPreferences('picky', {
        categories: { marketing: { channels: { sms: false } } },
        quietHours: { start: '00:00', end: '23:59', timezone: 'UTC' },
      });
      const recipients = [{ id: 'picky', phone: '+14155550103' }];
      const critical = await (
        await start(request({ recipients, channels: ['sms', 'in_app'], category: 'marketing', critical: true }))
      ).result();
      expect(channelsOf(critical)).toEqual(['sms:delivered', 'in_app:delivered']);
      expect(critical.timeline!.some((e) => e.event === 'held')).toBe(false);

      await setPreferences('picky', { categories: { marketing: { channels: { sms: false } } } });
      const marketing = await (
        await start(request({ recipients, channels: ['sms', 'in_app'], category: 'marketing' }))
      ).result();
      expect(channelsOf(marketing)).toEqual(['sms:suppressed', 'in_app:delivered']);
      expect(marketing.status).toBe('delivered');

      await setPreferences('picky', { enabled: false });
      const none = await (await start(request({ recipients, channels: ['sms'] }))).result();
      expect(none.status).toBe('suppressed');
    });

    it('takes the preferences the API read at accept without an activity, and reads them again after a hold', async () => {
      const now = await env.currentTimeMs();
      const handle = await start(
        request({
          channels: ['push', 'sms'],
          recipients: [{ id: 'accepted', pushTokens: ['d'], phone: '+14155550104' }],
          recipientPlans: { accepted: { blockedChannels: ['sms'], quietUntil: new Date(now + HOUR).toISOString() } },
        }),
      );
      await waitForQuery(handle, (s) => s.status === 'held');
      const result = await handle.result();
      // After the hold the stored preferences (none) are read again: SMS is no longer switched off.
      expect(channelsOf(result)).toEqual(['push:delivered', 'sms:delivered']);
      const planned = (await history(handle)).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'planRecipient',
      );
      expect(planned).toHaveLength(1);

      const atOnce = await start(
        request({
          channels: ['push', 'sms'],
          recipients: [{ id: 'x', pushTokens: ['d'] }],
          recipientPlans: { x: { blockedChannels: ['sms'] } },
        }),
      );
      const sent = await atOnce.result();
      expect(channelsOf(sent)).toEqual(['push:delivered', 'sms:suppressed']);
      expect(
        (await history(atOnce)).some(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'planRecipient',
        ),
      ).toBe(false);
    });

    it("wakes several recipients at send_at with one timer and reads their preferences in one activity, each its own tenant's", async () => {
      await setPreferences('plan-a', { categories: { marketing: { channels: { sms: false } } } });
      await setPreferences('plan-c', { quietHours: await quietNow() });
      // The same recipient id in another tenant switched SMS off: it must not reach this tenant's plan.
      const otherTenant = `tenant-other-${randomUUID()}`;
      await upsertTenant(database.db, otherTenant, 'Another tenant', `hk_${randomUUID()}`);
      await changePreferences(database.db, otherTenant, 'plan-b', () => ({ channels: { sms: false } }));
      const now = await env.currentTimeMs();
      const recipients = ['plan-a', 'plan-b', 'plan-c'].map((id) => ({ id, phone: '+14155550105' }));
      const handle = await start(
        request({ channels: ['sms'], category: 'marketing', recipients, sendAt: new Date(now + HOUR).toISOString() }),
      );
      const result = await handle.result();
      const byRecipient = Object.fromEntries(result.deliveries.map((d) => [d.recipientId, d.status]));
      expect(byRecipient).toEqual({ 'plan-a': 'suppressed', 'plan-b': 'delivered', 'plan-c': 'delivered' });
      expect(result.timeline).toContainEqual(expect.objectContaining({ event: 'held', recipientId: 'plan-c' }));

      // One timer for the three recipients' send time, one for the quiet hours of the one held.
      expect(await timersStarted(handle)).toHaveLength(2);
      const events = await history(handle);
      const planReads = events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name?.startsWith('plan'))
        .map((e) => e.activityTaskScheduledEventAttributes!);
      // All three at send_at, then the one held through quiet hours again when they end.
      expect(planReads.map((a) => a.activityType!.name)).toEqual(['planRecipients', 'planRecipients']);
      const asked = planReads.map(
        (a) => (JSON.parse(Buffer.from(a.input!.payloads![0]!.data!).toString()) as PlanRecipientsInput).recipients,
      );
      expect(asked.map((r) => r.map((x) => x.recipientId).sort())).toEqual([
        ['plan-a', 'plan-b', 'plan-c'],
        ['plan-c'],
      ]);
      const markers = events.flatMap(
        (e) =>
          e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.map((p) =>
            Buffer.from(p.data!).toString(),
          ) ?? [],
      );
      expect(markers.some((m) => m.includes(PATCHES.sharedWaits))).toBe(true);
    });

    it('waits for send_at, and a cancel before it sends nothing', async () => {
      const now = await env.currentTimeMs();
      const later = await start(request({ sendAt: new Date(now + 2 * 86_400_000).toISOString() }));
      await waitForQuery(later, (s) => s.status === 'scheduled');
      await later.signal(cancelSignal, {});
      expect((await later.result()).status).toBe('cancelled');
      // Several recipients share the send time's timer; the cancel still ends each one's wait. The clock is
      // read again: waiting for a result lets the test server skip time.
      const several = await start(
        request({
          sendAt: new Date((await env.currentTimeMs()) + 2 * 86_400_000).toISOString(),
          recipients: [oncall, { id: 'grace', pushTokens: ['device-grace'] }],
        }),
      );
      await waitForQuery(several, (s) => s.status === 'scheduled');
      await several.signal(cancelSignal, {});
      const cancelled = await several.result();
      expect(channelsOf(cancelled)).toEqual(['push:cancelled', 'push:cancelled']);
      expect(await outbox(cancelled.notificationId)).toHaveLength(0);

      const sendAt = new Date(now + HOUR).toISOString();
      const soon = await (await start(request({ sendAt }))).result();
      expect(soon.status).toBe('delivered');
      expect(Date.parse(soon.timeline!.find((e) => e.event === 'step')!.at)).toBeGreaterThanOrEqual(Date.parse(sendAt));
    });
  });

  it('keeps a failed notification open for an operator retry, which delivers it', async () => {
    smtp.script.push({ code: 550, message: 'Mailbox unavailable' });
    const handle = await start(request({ channels: ['email'], retryWindowMs: 86_400_000 }));
    const failed = await waitForQuery(handle, (s) => s.retryable === true);
    expect(failed.status).toBe('failed');
    await handle.signal(retrySignal, { by: 'ops' });
    const result = await handle.result();
    expect(result.status).toBe('delivered');
    expect(result.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(result.deliveries[0]!.error).toBeUndefined();
    expect(result.timeline).toContainEqual(expect.objectContaining({ event: 'retried', by: 'ops' }));
  });
});
