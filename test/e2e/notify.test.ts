import { FakeSmtpServer } from '../fakes/smtp-server';
import { eq } from 'drizzle-orm';
import { notifications } from '../../db/schema';
import { notificationWorkflowId } from '../../workflows/definitions';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { recordsIn } from '../support/history';

describe('POST /notify to delivery', () => {
  let smtp: FakeSmtpServer;
  let herald: TestHerald;
  let tenant: TestTenant;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    herald = await startTestHerald({ SMTP_URL: smtp.url, EMAIL_FROM: 'Herald <alerts@herald.test>' });
    tenant = await herald.createTenant();
  });
  afterAll(async () => {
    await herald?.stop();
    await smtp?.stop();
  });

  const notify = (body: unknown, headers: Record<string, string> = {}) =>
    herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: { ...tenant.auth, ...headers },
      payload: body as object,
    });
  const status = (id: string, auth = tenant.auth) =>
    herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: auth });
  const settled = (id: string) =>
    eventually(
      async () => status(id).then((r) => r.json()),
      (s) => !['accepted', 'sending'].includes(s.status),
    );

  it('emails the recipient over SMTP with the subject and body, then reports it', async () => {
    const res = await notify({
      channels: ['email'],
      recipients: [{ id: 'ada', email: 'ada@example.com' }],
      message: { subject: 'Your code', text: 'It is 424242.' },
    });
    expect(res.statusCode).toBe(202);
    const { notification_id, status_url } = res.json();
    expect(status_url).toBe(`/status/${notification_id}`);

    await smtp.waitFor(() => smtp.received.some((m) => m.subject === 'Your code'));
    const mail = smtp.received.find((m) => m.subject === 'Your code')!;
    expect(mail.to).toEqual(['ada@example.com']);
    expect(mail.from).toBe('alerts@herald.test');
    expect(mail.text).toBe('It is 424242.');
    expect(mail.headers['x-herald-notification-id']).toBe(notification_id);

    const s = await settled(notification_id);
    expect(s).toMatchObject({
      notification_id,
      status: 'delivered',
      deliveries: [{ recipient_id: 'ada', channel: 'email', status: 'sent', provider: 'smtp', attempts: 1 }],
    });
    expect(s.deliveries[0].provider_message_id).toBe(mail.messageId);
  });

  it("writes the notification's row at accept, so a workflow that sends at once goes straight to its sends", async () => {
    const history = (id: string) =>
      herald.temporal.workflow
        .getHandle(notificationWorkflowId(tenant.id, id))
        .fetchHistory()
        .then((h) => h.events!);
    const row = async (id: string) => (await herald.db.select().from(notifications).where(eq(notifications.id, id)))[0];

    const now = await notify({ channels: ['email'], recipients: [{ email: 'now@example.com' }], message: 'now' });
    const id = now.json().notification_id;
    expect(await row(id)).toMatchObject({ tenantId: tenant.id, priority: 'normal', channels: ['email'] });
    await settled(id);
    // One record, the outcome's. A local activity's marker reaches the history when its workflow task
    // completes, after the row is written.
    const recorded = (events: Awaited<ReturnType<typeof history>>) => recordsIn(events).length > 0;
    const events = await eventually(() => history(id), recorded);
    expect(recordsIn(events)).toHaveLength(1);
    // Started as the current workflow type: no patch markers.
    expect(events[0]!.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe('notification');
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toEqual([]);

    // One that waits is recorded as scheduled first, as before.
    const later = await notify({
      channels: ['email'],
      recipients: [{ email: 'later@example.com' }],
      message: 'later',
      send_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const laterId = later.json().notification_id;
    await eventually(
      () => row(laterId),
      (r) => r?.status === 'scheduled',
    );
    expect(recordsIn(await eventually(() => history(laterId), recorded))).toHaveLength(1);
    await herald.api.inject({ method: 'POST', url: `/notifications/${laterId}/cancel`, headers: tenant.auth });
  });

  it('sends a notification of many recipients in one activity per channel and hundred recipients', async () => {
    const recipients = Array.from({ length: 120 }, (_, i) => ({ id: `many-${i}`, email: `many-${i}@example.com` }));
    const res = await notify({ channels: ['email'], recipients, message: { subject: 'To many', text: 'Hello all' } });
    expect(res.statusCode).toBe(202);
    const id = res.json().notification_id;
    const s = await settled(id);
    expect(s.status).toBe('delivered');
    expect(s.deliveries).toHaveLength(120);
    const mails = smtp.received.filter((m) => m.subject === 'To many');
    expect(mails.map((m) => m.to[0]).sort()).toEqual(recipients.map((r) => r.email).sort());
    const { events } = await herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id)).fetchHistory();
    const activities = events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual(['deliverBatch', 'deliverBatch']);
  });

  it('resolves recipient_ids from stored profiles and delivers SMS and push to the dev outbox', async () => {
    const put = await herald.api.inject({
      method: 'PUT',
      url: '/recipients/grace',
      headers: tenant.auth,
      payload: { phone: '+14155550123', push_tokens: ['old-token', 'device-token'], timezone: 'Europe/Paris' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ id: 'grace', phone: '+14155550123', timezone: 'Europe/Paris' });

    const res = await notify({
      channels: ['sms', 'push'],
      recipient_ids: ['grace'],
      message: 'Build finished',
      priority: 'high',
    });
    expect(res.statusCode).toBe(202);
    const { notification_id } = res.json();
    const s = await settled(notification_id);
    expect(s.status).toBe('delivered');
    expect(s.priority).toBe('high');

    const outbox = await herald.api.inject({
      method: 'GET',
      url: `/dev/outbox?notification_id=${notification_id}`,
      headers: tenant.auth,
    });
    const messages = outbox.json().messages;
    expect(messages).toHaveLength(2);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          channel: 'sms',
          recipient: '+14155550123',
          text: 'Build finished',
          details: { segments: 1, encoding: 'GSM-7' },
        }),
        expect.objectContaining({ channel: 'push', recipient: 'device-token', text: 'Build finished' }),
      ]),
    );

    // A browser gets a page, authenticated by the key in the query string.
    const page = await herald.api.inject({
      method: 'GET',
      url: `/dev/outbox?api_key=${tenant.apiKey}`,
      headers: { accept: 'text/html' },
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('<pre>Build finished</pre>');
    expect(page.body).toContain('&quot;encoding&quot;: &quot;GSM-7&quot;');
  });

  it('takes stored recipients by id and inline ones in one request', async () => {
    await herald.api.inject({
      method: 'PUT',
      url: '/recipients/stored-one',
      headers: tenant.auth,
      payload: { phone: '+14155550131' },
    });
    const res = await notify({
      channels: ['sms'],
      recipient_ids: ['stored-one'],
      recipients: [{ id: 'inline-one', phone: '+14155550132' }],
      message: 'Both kinds',
    });
    expect(res.statusCode).toBe(202);
    const s = await settled(res.json().notification_id);
    expect(s.deliveries.map((d: { recipient_id: string }) => d.recipient_id).sort()).toEqual([
      'inline-one',
      'stored-one',
    ]);
  });

  it('reports a delivery as failed when the recipient has no address on the channel, delivering the rest', async () => {
    const res = await notify({
      channels: ['email', 'sms'],
      recipients: [{ id: 'no-phone', email: 'np@example.com' }],
      message: 'Hi',
    });
    const s = await settled(res.json().notification_id);
    expect(s.status).toBe('partially_delivered');
    const sms = s.deliveries.find((d: { channel: string }) => d.channel === 'sms');
    expect(sms).toMatchObject({ status: 'failed', error: 'recipient has no phone number', attempts: 1 });
  });

  it('fails a delivery for good on a permanent SMTP rejection, without retrying', async () => {
    smtp.script.push({ code: 550, message: 'No such user' });
    const before = smtp.mailFromCount;
    const res = await notify({ channels: ['email'], recipients: [{ email: 'ghost@example.com' }], message: 'Hello?' });
    const s = await settled(res.json().notification_id);
    expect(s.status).toBe('failed');
    expect(s.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, provider: 'smtp' });
    expect(s.deliveries[0].error).toMatch(/No such user/);
    expect(smtp.mailFromCount - before).toBe(1);
  });

  it('retries a transient SMTP failure and delivers once', async () => {
    smtp.script.push({ code: 451, message: 'Try again later' });
    const res = await notify({
      channels: ['email'],
      recipients: [{ email: 'retry@example.com' }],
      message: { subject: 'Retry me', text: 'x' },
    });
    const s = await settled(res.json().notification_id);
    expect(s.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(smtp.received.filter((m) => m.subject === 'Retry me')).toHaveLength(1);
  });

  it('delivers once for a repeated Idempotency-Key and refuses the key with another body', async () => {
    const body = {
      channels: ['email'],
      recipients: [{ email: 'idem@example.com' }],
      message: { subject: 'Once only', text: 'x' },
    };
    const first = await notify(body, { 'idempotency-key': 'order-42' });
    const second = await notify(body, { 'idempotency-key': 'order-42' });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json().notification_id).toBe(first.json().notification_id);

    await settled(first.json().notification_id);
    const third = await notify(body, { 'idempotency-key': 'order-42' });
    expect(third.json().notification_id).toBe(first.json().notification_id);
    expect(smtp.received.filter((m) => m.subject === 'Once only')).toHaveLength(1);

    const conflict = await notify({ ...body, message: 'different' }, { 'idempotency-key': 'order-42' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(conflict.json()).toMatchObject({ status: 409, field: 'idempotency-key' });
  });

  it('counts deliveries by channel in /metrics, as Prometheus text and as JSON', async () => {
    const other = await herald.createTenant();
    const send = (channels: string[], recipients: object[]) =>
      herald.api.inject({
        method: 'POST',
        url: '/notify',
        headers: other.auth,
        payload: { channels, recipients, message: 'm' },
      });
    const ids = [
      (await send(['sms'], [{ phone: '+14155550100' }])).json().notification_id,
      (await send(['sms', 'email'], [{ phone: '+14155550101' }])).json().notification_id,
    ];
    for (const id of ids) {
      await eventually(
        () => herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: other.auth }).then((r) => r.json()),
        (s) => !['accepted', 'sending'].includes(s.status),
      );
    }
    // The status query answers from the workflow; the counts come from its record, written just after.
    const json = await eventually(
      () =>
        herald.api
          .inject({ method: 'GET', url: '/metrics', headers: { ...other.auth, accept: 'application/json' } })
          .then((r) => r.json()),
      (m) => m.succeeded + m.failed >= 3,
    );
    expect(json).toEqual({
      sent: 3,
      succeeded: 2,
      failed: 1,
      by_channel: { sms: { sent: 2, succeeded: 2, failed: 0 }, email: { sent: 1, succeeded: 0, failed: 1 } },
    });
    const text = await herald.api.inject({ method: 'GET', url: '/metrics', headers: other.auth });
    expect(text.headers['content-type']).toMatch(/text\/plain/);
    expect(text.body).toContain('herald_notifications_sent_total{channel="sms"} 2');
    expect(text.body).toContain('herald_notifications_failed_total{channel="email"} 1');
  });

  it('exposes operational metrics without a key, and they move when a notification is sent', async () => {
    const scrape = async () => {
      const res = await herald.api.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      return res.body;
    };
    const value = (body: string, series: string) => {
      const line = body.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };
    const accepted = 'herald_notifications_accepted_total{priority="low"}';
    const sent = 'herald_delivery_attempts_total{channel="email",provider="smtp",priority="low",outcome="sent"}';
    const latency = 'herald_accept_to_provider_seconds_count{channel="email",priority="low"}';
    const http = 'herald_http_requests_total{route="/notify",method="POST",status_code="202"}';
    const before = await scrape();

    const res = await notify({
      channels: ['email'],
      recipients: [{ email: 'm@example.com' }],
      message: 'x',
      priority: 'low',
    });
    await settled(res.json().notification_id);
    const after = await scrape();

    for (const series of [accepted, sent, latency, http]) expect(value(after, series) - value(before, series)).toBe(1);
    // The API shares the worker's connection here, so the start ran its first workflow task at once.
    const eager = 'herald_eager_workflow_starts_total';
    expect(value(after, eager) - value(before, eager)).toBe(1);
    expect(after).toContain('herald_provider_circuit_open{provider="smtp"} 0');
    expect(after).toContain('herald_http_request_duration_seconds_bucket');
    // Bounded labels only: no notification id or address ever becomes a label.
    expect(after).not.toContain(res.json().notification_id);
    expect(after).not.toContain('m@example.com');
  });
});
