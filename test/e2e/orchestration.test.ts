import { eq } from 'drizzle-orm';
import { devOutbox } from '../../db/schema';
import { notificationWorkflowId } from '../../workflows/definitions';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

interface Status {
  notification_id: string;
  status: string;
  deliveries: { channel: string; status: string; step?: number; attempts: number }[];
  acknowledgement?: { by: string; via: string; channel?: string };
  timeline?: { event: string; step?: number; by?: string }[];
}

describe('orchestration through the API: escalation, acknowledgement, cancel, retry, preferences, schedules', () => {
  let smtp: FakeSmtpServer;
  let herald: TestHerald;
  let tenant: TestTenant;
  let other: TestTenant;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    herald = await startTestHerald({
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'alerts@herald.test',
      HERALD_RETRY_WINDOW_SECONDS: '600',
      HERALD_PUBLIC_URL: 'https://herald.example',
    });
    tenant = await herald.createTenant();
    other = await herald.createTenant();
  });
  afterAll(async () => {
    await herald?.stop();
    await smtp?.stop();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: object, auth = tenant.auth) =>
    herald.api.inject({ method, url, headers: auth, ...(body ? { payload: body } : {}) });
  const notify = async (body: object) => {
    const res = await call('POST', '/notify', body);
    expect(res.statusCode).toBe(202);
    return res.json().notification_id as string;
  };
  const status = async (id: string): Promise<Status> => (await call('GET', `/status/${id}`)).json();
  const until = (id: string, done: (s: Status) => boolean) => eventually(() => status(id), done);
  const outbox = (id: string) => herald.db.select().from(devOutbox).where(eq(devOutbox.notificationId, id));
  const localPath = (url: string) => url.replace('https://herald.example', '');

  describe('escalation and acknowledgement', () => {
    it("applies the category's policy, and a signed link in the SMS acknowledges it; the voice step never runs", async () => {
      const policy = await call('PUT', '/escalation-policies/oncall', {
        steps: [
          { after: '1s', channels: ['sms'] },
          { after: '1m', channels: ['voice'] },
        ],
      });
      expect(policy.statusCode).toBe(200);
      expect(policy.json()).toMatchObject({ category: 'oncall', repeat: 0, steps: [{ after: '1s' }, { after: '1m' }] });
      expect((await call('GET', '/escalation-policies/oncall', undefined, other.auth)).statusCode).toBe(404);

      const id = await notify({
        channels: ['push'],
        category: 'oncall',
        recipients: [{ id: 'ada', push_tokens: ['device-ada'], phone: '+14155550100' }],
        message: 'Disk full on db-1',
      });
      await until(id, (s) => s.deliveries.some((d) => d.channel === 'sms' && d.status === 'delivered'));
      const sms = (await outbox(id)).find((m) => m.channel === 'sms')!;
      const link = /(https:\/\/herald\.example\/ack\/\S+)/.exec(sms.text)![1]!;

      // A link scanner's GET changes nothing; the page's button POSTs.
      const page = await herald.api.inject({ method: 'GET', url: localPath(link) });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain('<form method="post"');
      expect((await status(id)).acknowledgement).toBeUndefined();

      const forged = await herald.api.inject({ method: 'POST', url: localPath(link).replace(/.$/, 'x') });
      expect(forged.statusCode).toBe(404);
      expect(forged.headers['content-type']).toMatch(/application\/problem\+json/);

      const acked = await herald.api.inject({ method: 'POST', url: localPath(link) });
      expect(acked.statusCode).toBe(200);
      expect(acked.body).toContain('Acknowledged');
      const s = await until(id, (x) => x.timeline?.some((e) => e.event === 'skipped') ?? false);
      expect(s.acknowledgement).toMatchObject({ by: 'ada', via: 'link', channel: 'sms' });
      expect(s.deliveries.map((d) => d.channel)).toEqual(['push', 'sms']);

      // Acknowledging again answers as before and keeps the first acknowledgement.
      const again = await call('POST', `/notifications/${id}/ack`, { by: 'grace' });
      expect(again.statusCode).toBe(202);
      expect(again.json().acknowledgement).toMatchObject({ by: 'ada', via: 'link' });
      // The workflow history is the audit trail: the acknowledgement is a signal in it.
      const { events } = await herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id)).fetchHistory();
      const signals = events!.filter((e) => e.workflowExecutionSignaledEventAttributes);
      expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes!.signalName)).toEqual(['acknowledge']);
      // Another tenant cannot see or touch it.
      expect((await call('POST', `/notifications/${id}/ack`, {}, other.auth)).statusCode).toBe(404);
      // The audit log says the link did it, once, for ada.
      const audit = (await call('GET', `/audit?notification_id=${id}`)).json().events;
      expect(audit.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
        ['notification.acknowledged', 'link'],
        ['notification.created', expect.stringMatching(/^hk_/)],
      ]);
      expect(audit[0].target).toBe('ada');
    });

    it('acknowledges through the API and answers 409 to resolving what nobody acknowledged', async () => {
      const id = await notify({
        channels: ['in_app'],
        recipients: [{ id: 'bo' }],
        message: 'CPU high',
        escalation: { steps: [{ after: '1h', channels: ['email'] }], ack_timeout: '1h' },
      });
      await until(id, (s) => s.deliveries[0]?.status === 'delivered');
      const resolve = await call('POST', `/notifications/${id}/resolve`, {});
      expect(resolve.statusCode).toBe(409);
      expect(resolve.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(resolve.json().detail).toMatch(/acknowledge it first/);
      const ack = await call('POST', `/notifications/${id}/ack`, { by: 'bo', reason: 'looking' });
      expect(ack.statusCode).toBe(202);
      expect(ack.json()).toMatchObject({
        action: 'acknowledge',
        acknowledgement: { by: 'bo', via: 'api', note: 'looking' },
      });
      await until(id, (s) => s.acknowledgement?.by === 'bo');
      expect((await call('POST', `/notifications/${id}/resolve`, { by: 'bo' })).statusCode).toBe(202);
      const done = await until(id, (s) => s.timeline?.some((e) => e.event === 'resolved') ?? false);
      expect(done.timeline!.map((e) => e.event)).toEqual(['step', 'acknowledged', 'skipped', 'resolved']);
    });

    it('answers a closed, acknowledged notification: acknowledged again is 202 with the first, resolve says it is closed', async () => {
      const id = await notify({
        channels: ['in_app'],
        recipients: [{ id: 'flo' }],
        message: 'Disk full',
        escalation: { steps: [{ after: '1h', channels: ['email'] }] },
      });
      await until(id, (s) => s.deliveries[0]?.status === 'delivered');
      expect((await call('POST', `/notifications/${id}/ack`, { by: 'flo' })).statusCode).toBe(202);
      await herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id)).result();
      const again = await call('POST', `/notifications/${id}/ack`, { by: 'gus' });
      expect(again.statusCode).toBe(202);
      expect(again.json().acknowledgement).toMatchObject({ by: 'flo' });
      const resolve = await call('POST', `/notifications/${id}/resolve`, {});
      expect(resolve.statusCode).toBe(409);
      expect(resolve.json().detail).toMatch(/^The notification is closed \(\w+\): nothing is left to resolve$/);
    });

    it('re-opens an acknowledgement nobody resolves within ack_timeout; a resolve ends it for good', async () => {
      const id = await notify({
        channels: ['in_app'],
        recipients: [{ id: 'kai' }],
        message: 'Queue backing up',
        escalation: { steps: [{ after: '1h', channels: ['email'] }], ack_timeout: '2s' },
      });
      await until(id, (s) => s.deliveries[0]?.status === 'delivered');
      expect((await call('POST', `/notifications/${id}/ack`, { by: 'kai' })).statusCode).toBe(202);
      const reopened = await until(id, (s) => s.deliveries.length === 2 && s.deliveries[1]!.status === 'delivered');
      expect(reopened.acknowledgement).toBeUndefined();
      expect(reopened.deliveries.map((d) => [d.channel, d.step])).toEqual([
        ['in_app', 0],
        ['in_app', 2],
      ]);
      expect((await call('POST', `/notifications/${id}/ack`, { by: 'lea' })).statusCode).toBe(202);
      await until(id, (s) => s.acknowledgement?.by === 'lea');
      expect((await call('POST', `/notifications/${id}/resolve`, { by: 'lea' })).statusCode).toBe(202);
      const resolved = await until(id, (s) => s.timeline?.some((e) => e.event === 'resolved') ?? false);
      expect(resolved.timeline!.map((e) => e.event)).toEqual([
        'step',
        'acknowledged',
        'skipped',
        'reopened',
        'step',
        'acknowledged',
        'skipped',
        'resolved',
      ]);
      expect((await call('POST', `/notifications/${id}/resolve`, {})).statusCode).toBe(202);
    });
  });

  describe('cancel', () => {
    it('cancels a scheduled notification, idempotently, and then refuses to acknowledge it', async () => {
      const id = await notify({
        channels: ['in_app'],
        recipients: [{ id: 'cy' }],
        message: 'Later',
        send_at: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await until(id, (s) => s.status === 'scheduled');
      expect((await call('POST', `/notifications/${id}/cancel`, undefined, other.auth)).statusCode).toBe(404);
      expect((await call('POST', `/notifications/${id}/cancel`, { by: 'ops' })).statusCode).toBe(202);
      const cancelled = await until(id, (s) => s.status === 'cancelled');
      expect(cancelled.deliveries).toMatchObject([{ status: 'cancelled' }]);
      expect(cancelled.timeline).toContainEqual(expect.objectContaining({ event: 'cancelled', by: 'ops' }));
      expect((await call('POST', `/notifications/${id}/cancel`, {})).statusCode).toBe(202);
      expect((await call('POST', `/notifications/${id}/ack`, {})).statusCode).toBe(409);
      expect(await outbox(id)).toHaveLength(0);
    });

    it('answers 409 to cancelling what was already sent, and 404 to an unknown id', async () => {
      const id = await notify({ channels: ['in_app'], recipients: [{ id: 'di' }], message: 'Now' });
      await until(id, (s) => s.status === 'delivered');
      const res = await call('POST', `/notifications/${id}/cancel`, {});
      expect(res.statusCode).toBe(409);
      expect(res.json().detail).toMatch(/delivered/);
      expect((await call('POST', '/notifications/no-such-id/cancel', {})).statusCode).toBe(404);
    });

    it('reads a local send_at in each recipient’s time zone', async () => {
      const id = await notify({
        channels: ['in_app'],
        recipients: [
          { id: 'ny', timezone: 'America/New_York' },
          { id: 'tokyo', timezone: 'Asia/Tokyo' },
        ],
        message: 'Good morning',
        send_at: '2099-01-01T09:00',
      });
      await until(id, (s) => s.status === 'scheduled');
      const { events } = await herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id)).fetchHistory();
      const started = events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const input = JSON.parse(Buffer.from(started.data!).toString('utf8'));
      expect(input.recipientSendAt).toEqual({ ny: '2099-01-01T14:00:00.000Z', tokyo: '2099-01-01T00:00:00.000Z' });
      expect((await call('POST', `/notifications/${id}/cancel`, {})).statusCode).toBe(202);
    });
  });

  describe('operator retry', () => {
    it('keeps a failed notification open and delivers it on retry; a retry of a delivered one is a 409', async () => {
      smtp.script.push({ code: 550, message: 'Mailbox unavailable' });
      const id = await notify({ channels: ['email'], recipients: [{ email: 'eve@example.com' }], message: 'Invoice' });
      const failed = await until(id, (s) => s.status === 'failed');
      expect(failed.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
      expect((await call('POST', `/notifications/${id}/retry`, undefined, other.auth)).statusCode).toBe(404);
      expect((await call('POST', `/notifications/${id}/retry`, { by: 'ops' })).statusCode).toBe(202);
      const delivered = await until(id, (s) => s.status === 'delivered');
      expect(delivered.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
      expect(delivered.timeline).toContainEqual(expect.objectContaining({ event: 'retried', by: 'ops' }));
      expect(smtp.received.filter((m) => m.to.includes('eve@example.com'))).toHaveLength(1);
      const again = await call('POST', `/notifications/${id}/retry`, {});
      expect(again.statusCode).toBe(409);
      expect(again.json().detail).toBe(
        'Only a failed notification can be retried, and this one is delivered: nothing to retry',
      );
      const audit = (await call('GET', `/audit?notification_id=${id}&action=notification.retried`)).json().events;
      expect(audit).toEqual([expect.objectContaining({ actor: expect.stringMatching(/^hk_[0-9a-f]{10}$/) })]);
    });

    it('takes a bare `retry` signal, as the Temporal Web UI sends it', async () => {
      smtp.script.push({ code: 550, message: 'Mailbox unavailable' });
      const id = await notify({ channels: ['email'], recipients: [{ email: 'uma@example.com' }], message: 'Receipt' });
      await until(id, (s) => s.status === 'failed');
      await herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id)).signal('retry');
      const delivered = await until(id, (s) => s.status === 'delivered');
      expect(delivered.timeline).toContainEqual(expect.objectContaining({ event: 'retried', by: 'operator' }));
    });
  });

  describe('preferences', () => {
    it('changes preferences under a version: a stale If-Match is a 409', async () => {
      const url = '/recipients/fay/preferences';
      const first = await call('GET', url);
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ recipient_id: 'fay', version: 0 });
      expect(first.headers.etag).toBe('"0"');
      const put = (ifMatch: string, body: object) =>
        herald.api.inject({ method: 'PUT', url, headers: { ...tenant.auth, 'if-match': ifMatch }, payload: body });
      const saved = await put('"0"', { channels: { sms: false }, quiet_hours: { start: '22:00', end: '07:00' } });
      expect(saved.statusCode).toBe(200);
      expect(saved.json()).toMatchObject({ version: 1, channels: { sms: false }, quiet_hours: { start: '22:00' } });
      expect(saved.headers.etag).toBe('"1"');
      const stale = await put('"0"', { enabled: false });
      expect(stale.statusCode).toBe(409);
      expect(stale.json()).toMatchObject({ field: 'if-match' });
      expect((await call('GET', url)).json()).toMatchObject({ version: 1, channels: { sms: false } });
      expect((await call('GET', url, undefined, other.auth)).json()).toMatchObject({ version: 0 });
      const bad = await put('"1"', { quiet_hours: { start: '25:00', end: '07:00' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().field).toBe('quiet_hours.start');
    });

    it('suppresses an unsubscribed category; a critical notification still arrives', async () => {
      const off = await call('POST', '/recipients/gus/unsubscribe', { category: 'news' });
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ version: 1, categories: { news: { enabled: false } } });
      const news = await notify({ channels: ['in_app'], category: 'news', recipients: [{ id: 'gus' }], message: 'Hi' });
      expect((await until(news, (s) => s.status === 'suppressed')).deliveries).toMatchObject([
        { status: 'suppressed' },
      ]);
      const critical = await notify({
        channels: ['in_app'],
        category: 'news',
        critical: true,
        recipients: [{ id: 'gus' }],
        message: 'Your password changed',
      });
      await until(critical, (s) => s.status === 'delivered');
    });

    it('mails a one-click unsubscribe link (RFC 8058) that works without an API key', async () => {
      const id = await notify({
        channels: ['email'],
        category: 'digest',
        recipients: [{ id: 'hal', email: 'hal@example.com' }],
        message: { subject: 'Weekly digest', text: 'News' },
      });
      await smtp.waitFor(() => smtp.received.some((m) => m.subject === 'Weekly digest'));
      const mail = smtp.received.find((m) => m.subject === 'Weekly digest')!;
      expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      const url = /^<(https:\/\/herald\.example\/unsubscribe\/\S+)>$/.exec(
        String(mail.headers['list-unsubscribe']),
      )![1]!;
      const res = await herald.api.inject({
        method: 'POST',
        url: localPath(url),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(res.statusCode).toBe(200);
      expect((await call('GET', '/recipients/hal/preferences')).json()).toMatchObject({
        categories: { digest: { enabled: false } },
      });
      await until(id, (s) => s.status === 'delivered');
      // A critical message carries no unsubscribe link.
      await notify({
        channels: ['email'],
        critical: true,
        recipients: [{ id: 'hal', email: 'hal@example.com' }],
        message: { subject: 'Security alert', text: 'New login' },
      });
      await smtp.waitFor(() => smtp.received.some((m) => m.subject === 'Security alert'));
      expect(smtp.received.find((m) => m.subject === 'Security alert')!.headers['list-unsubscribe']).toBeUndefined();
    });
  });

  describe('recurring schedules', () => {
    const body = {
      id: 'daily-report',
      cron: '0 9 * * *',
      timezone: 'Europe/Paris',
      notification: { channels: ['in_app'], recipients: [{ id: 'ivy' }], message: 'Daily report' },
    };

    it('creates, lists, runs, pauses and deletes a cron schedule in a time zone, for its tenant only', async () => {
      const created = await call('POST', '/schedules', body);
      expect(created.statusCode).toBe(201);
      const schedule = created.json();
      expect(schedule).toMatchObject({
        id: 'daily-report',
        cron: '0 9 * * *',
        timezone: 'Europe/Paris',
        paused: false,
      });
      // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
      const next = new Date(schedule.next_runs[0]);
      expect([7, 8]).toContain(next.getUTCHours());
      expect(next.getUTCMinutes()).toBe(0);
      expect((await call('POST', '/schedules', body)).statusCode).toBe(409);

      expect((await call('GET', '/schedules')).json().schedules.map((s: { id: string }) => s.id)).toContain(
        'daily-report',
      );
      expect((await call('GET', '/schedules', undefined, other.auth)).json().schedules).toEqual([]);
      expect((await call('GET', '/schedules/daily-report', undefined, other.auth)).statusCode).toBe(404);

      expect((await call('POST', '/schedules/daily-report/trigger')).statusCode).toBe(200);
      const run = await eventually(
        async () => (await call('GET', '/schedules/daily-report')).json(),
        (s) => s.recent_runs.length > 0,
      );
      const runId = run.recent_runs[0].notification_id;
      expect(runId).toMatch(/^schedule-daily-report-/);
      await until(runId, (s) => s.status === 'delivered');

      expect((await call('POST', '/schedules/daily-report/pause', undefined, other.auth)).statusCode).toBe(404);
      expect((await call('POST', '/schedules/daily-report/pause')).json()).toMatchObject({ paused: true });
      expect((await call('POST', '/schedules/daily-report/unpause')).json()).toMatchObject({ paused: false });
      expect((await call('DELETE', '/schedules/daily-report', undefined, other.auth)).statusCode).toBe(404);
      expect((await call('DELETE', '/schedules/daily-report')).statusCode).toBe(204);
      expect((await call('GET', '/schedules/daily-report')).statusCode).toBe(404);
    });

    it.each([
      ['61 25 * * *', /minute field \(the 1st\) has 61: minutes run 0–59/],
      ['* * * * * * * *', /has 8 fields; it takes five/],
      ['L L L L L', /minute field \(the 1st\) has "L"/],
    ])('refuses the cron expression %j, naming the field and what it takes', async (cron, detail) => {
      const res = await call('POST', '/schedules', { ...body, id: 'bad-cron', cron });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ field: 'cron', detail: expect.stringMatching(detail) });
      expect((await call('GET', '/schedules/bad-cron')).statusCode).toBe(404);
    });
  });

  describe('validation', () => {
    it('refuses a send_at that names no real date with a 422', async () => {
      const res = await call('POST', '/notify', {
        channels: ['in_app'],
        recipients: [{ id: 'x' }],
        message: 'm',
        send_at: '2026-02-30T09:00',
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().field).toBe('send_at');
    });

    it('refuses an empty category name in preferences, naming the field', async () => {
      const res = await call('PUT', '/recipients/x/preferences', { categories: { '': { enabled: false } } });
      expect(res.statusCode).toBe(422);
      expect(res.json().field).toBe('categories');
    });

    it.each([
      [{ fallback: { channels: ['sms'], after: '5 minutes' } }, 'fallback.after'],
      [{ escalation: { steps: [] } }, 'escalation.steps'],
      [{ escalation: { steps: [{ after: '1m', channels: ['pager'] }] } }, 'escalation.steps[0].channels[0]'],
      [{ send_at: '2026-13-01T09:00' }, 'send_at'],
      [{ strategy: 'most' }, 'strategy'],
    ])('refuses %j, naming %s', async (extra, field) => {
      const res = await call('POST', '/notify', {
        channels: ['in_app'],
        recipients: [{ id: 'x' }],
        message: 'm',
        ...extra,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe(field);
    });
  });
});
