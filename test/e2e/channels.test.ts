import { Webhook } from 'standardwebhooks';
import twilio from 'twilio';
import { temporal } from '@temporalio/proto';
import { notificationWorkflowId, searchAttributes } from '../../workflows/definitions';
import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { eventually } from '../support/herald';
import { recordsIn } from '../support/history';

const { EventType, WorkflowExecutionStatus } = temporal.api.enums.v1;

/** Every channel through its real provider protocol, each provider a loopback fake. */
describe('channels and providers', () => {
  let h: HeraldOnFakes;
  // Herald's start takes a minute or more on a loaded machine (the workflows are bundled for its worker).
  beforeAll(async () => {
    h = await startHeraldOnFakes();
  }, 180_000);
  afterAll(() => h?.stop());

  const notify = (body: object) => h.notify(body);
  const status = (id: string) => h.status(id);
  const settled = (id: string) => h.settled(id);
  const delivery = (s: { deliveries: { channel: string }[] }, channel: string) =>
    s.deliveries.find((d) => d.channel === channel) as Record<string, unknown>;
  /**
   * Waits until the notification's workflow has taken `count` signals and has nothing left to do for them:
   * a workflow task completed after the last, and no task or activity pending. What they change is written by then.
   */
  const handledSignals = (id: string, count: number) => {
    const handle = h.herald.temporal.workflow.getHandle(notificationWorkflowId(h.tenant.id, id));
    return eventually(
      async () => {
        const [{ events }, { raw }] = await Promise.all([handle.fetchHistory(), handle.describe()]);
        const types = events!.map((e) => e.eventType);
        const lastSignal = types.lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
        return {
          signals: types.filter((t) => t === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED).length,
          handled: types.indexOf(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, lastSignal) > lastSignal,
          pending: (raw.pendingActivities?.length ?? 0) > 0 || !!raw.pendingWorkflowTask,
          closed: raw.workflowExecutionInfo?.status !== WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        };
      },
      // A workflow that closed first left the later receipts to the record, which the receipt route wrote.
      (w) => w.closed || (w.signals === count && w.handled && !w.pending),
    );
  };

  it('delivers one notification on every channel, each through its provider', async () => {
    const endpoint = await h.herald.api.inject({
      method: 'PUT',
      url: '/settings/webhook',
      headers: h.tenant.auth,
      payload: { url: `${h.fakes.receiver.url}/hooks/herald` },
    });
    expect(endpoint.statusCode).toBe(200);
    const { secret } = endpoint.json();
    expect(secret).toMatch(/^whsec_/);

    const id = await notify({
      channels: ['email', 'sms', 'push', 'telegram', 'slack', 'discord', 'voice', 'webhook', 'in_app'],
      recipients: [
        {
          id: 'ada',
          email: 'ada@example.com',
          phone: '+14155550101',
          push_tokens: ['device-ada'],
          telegram_chat_id: '424242',
          slack_webhook_url: 'https://hooks.slack.com/services/T000/B000/ada',
          discord_webhook_url: 'https://discord.com/api/webhooks/1/ada-token',
        },
      ],
      message: {
        subject: 'Deploy finished',
        text: 'Build 42 is live 🚀',
        actions: [{ label: 'Open', url: 'https://ci.example.com/42' }],
      },
      category: 'deploys',
    });
    const s = await settled(id);
    expect(s.status).toBe('delivered');
    const providers = Object.fromEntries(s.deliveries.map((d) => [d.channel, d.provider]));
    expect(providers).toEqual({
      email: 'smtp',
      sms: 'twilio',
      push: 'fcm',
      telegram: 'telegram',
      slack: 'slack',
      discord: 'discord',
      voice: 'twilio-voice',
      webhook: 'webhook',
      in_app: 'inbox',
    });

    // Email over SMTP, with the action as a link line.
    const mail = h.fakes.smtp.received.find((m) => m.subject === 'Deploy finished')!;
    expect(mail.to).toEqual(['ada@example.com']);
    expect(mail.text).toContain('Open: https://ci.example.com/42');

    // SMS through Twilio's Messages API, with the status callback; one emoji makes it UCS-2.
    const sms = [...h.fakes.twilio.created.values()].find((m) => m.kind === 'message' && m.to === '+14155550101')!;
    expect(sms.body).toContain('Deploy finished: Build 42 is live 🚀');
    expect(sms.callback).toBe(`http://127.0.0.1:${h.fakes.port}/webhook/twilio`);
    expect(delivery(s, 'sms')).toMatchObject({ status: 'sent', encoding: 'UCS-2', segments: 1 });

    // A call that speaks the message.
    const call = [...h.fakes.twilio.created.values()].find((m) => m.kind === 'call')!;
    expect(call.twiml).toContain('<Say>Deploy finished. Build 42 is live 🚀</Say>');

    // Push through FCM v1.
    expect(h.fakes.fcm.messages()).toContainEqual(
      expect.objectContaining({
        token: 'device-ada',
        notification: { title: 'Deploy finished', body: 'Build 42 is live 🚀' },
        data: { notification_id: id, category: 'deploys' },
      }),
    );

    // Telegram with an inline button; Slack blocks with a button; Discord with a link, waited for its id.
    const telegram = h.fakes.telegram.received(/sendMessage$/).at(-1)!.json as Record<string, unknown>;
    expect(telegram).toMatchObject({
      chat_id: '424242',
      reply_markup: { inline_keyboard: [[{ text: 'Open', url: 'https://ci.example.com/42' }]] },
    });
    const slack = h.fakes.chat.received(/^\/services\/T000\/B000\/ada$/).at(-1)!.json as { blocks: unknown[] };
    expect(slack.blocks).toContainEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://ci.example.com/42' }],
    });
    const discord = h.fakes.chat.received(/^\/api\/webhooks\/1\/ada-token$/).at(-1)!;
    expect(discord.query.get('wait')).toBe('true');
    expect((discord.json as { content: string }).content).toContain('[Open](https://ci.example.com/42)');
    expect(delivery(s, 'discord').provider_message_id).toMatch(/^discord:\d+$/);

    // The tenant's endpoint gets a Standard Webhooks POST that the reference library verifies.
    const hook = h.fakes.receiver.received(/^\/hooks\/herald$/).at(-1)!;
    const payload = new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(payload).toMatchObject({ type: 'notification.message', data: { notification_id: id, recipient_id: 'ada' } });
    expect(hook.headers['webhook-id']).toBe(delivery(s, 'webhook').provider_message_id);

    // The in-app channel keeps the message for the recipient's inbox.
    const inbox = await h.herald.api.inject({ method: 'GET', url: '/recipients/ada/inbox', headers: h.tenant.auth });
    expect(inbox.json().messages[0]).toMatchObject({
      notification_id: id,
      subject: 'Deploy finished',
      category: 'deploys',
    });
  });

  it('fails SMS over from Twilio to Vonage after three failed tries, and status names both', async () => {
    h.fakes.twilio.faults.push(
      ...[1, 2, 3].map(() => ({ status: 503, body: { code: 20500, message: 'Internal error' } })),
    );
    const id = await notify({
      channels: ['sms'],
      recipients: [{ id: 'bob', phone: '+14155550102' }],
      message: 'Your code is 1234',
    });
    const s = await settled(id);
    expect(delivery(s, 'sms')).toMatchObject({
      status: 'sent',
      provider: 'vonage',
      providers_tried: ['twilio', 'vonage'],
      attempts: 4,
      encoding: 'GSM-7',
      segments: 1,
    });
    expect(h.fakes.vonage.received(/sms\/json/).at(-1)!.form).toMatchObject({
      to: '14155550102',
      text: 'Your code is 1234',
    });
  });

  it('never retries or fails over a permanent error: an invalid number fails at once', async () => {
    const vonageBefore = h.fakes.vonage.requests.length;
    h.fakes.twilio.faults.push({
      status: 400,
      body: { code: 21211, message: "The 'To' number is not valid", status: 400 },
    });
    const id = await notify({ channels: ['sms'], recipients: [{ id: 'carl', phone: '+14155550103' }], message: 'Hi' });
    const s = await settled(id);
    expect(delivery(s, 'sms')).toMatchObject({ status: 'failed', attempts: 1, providers_tried: ['twilio'] });
    expect(delivery(s, 'sms').error).toMatch(/21211/);
    expect(h.fakes.vonage.requests.length).toBe(vonageBefore);

    // A dead letter: findable in the Web UI as HeraldFailedChannels = "sms".
    const described = await h.herald.temporal.workflow.getHandle(notificationWorkflowId(h.tenant.id, id)).describe();
    expect(described.typedSearchAttributes.get(searchAttributes.failedChannels)).toEqual(['sms']);
  });

  it("honours a provider's Retry-After instead of the usual backoff", async () => {
    h.fakes.telegram.faults.push({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      },
    });
    const before = h.fakes.telegram.requests.length;
    const id = await notify({
      channels: ['telegram'],
      recipients: [{ id: 'dora', telegram_chat_id: '77' }],
      message: 'Hi',
    });
    const s = await settled(id);
    expect(delivery(s, 'telegram')).toMatchObject({ status: 'delivered', attempts: 2 });
    const [first, second] = h.fakes.telegram.requests.slice(before);
    // The default first backoff is 1 s; Telegram asked for 3.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2900);
  });

  it('drops a push token FCM calls unregistered and reaches the next device', async () => {
    await h.herald.api.inject({
      method: 'PUT',
      url: '/recipients/eve',
      headers: h.tenant.auth,
      payload: { push_tokens: ['eve-tablet', 'eve-phone-old'] },
    });
    h.fakes.fcm.unregistered.add('eve-phone-old');
    const id = await notify({ channels: ['push'], recipient_ids: ['eve'], message: 'Hello' });
    const s = await settled(id);
    expect(delivery(s, 'push')).toMatchObject({ status: 'sent', provider: 'fcm', attempts: 1 });
    expect(
      h.fakes.fcm
        .messages()
        .filter((m) => m.token.startsWith('eve-'))
        .map((m) => m.token),
    ).toEqual(['eve-phone-old', 'eve-tablet']);
    const profile = await h.herald.api.inject({ method: 'GET', url: '/recipients/eve', headers: h.tenant.auth });
    expect(profile.json().push_tokens).toEqual(['eve-tablet']);
  });

  it('fails for good when a chat webhook is gone, without retrying', async () => {
    const id = await notify({
      channels: ['slack'],
      recipients: [{ id: 'fay', slack_webhook_url: 'https://hooks.slack.com/services/T000/gone/fay' }],
      message: 'Hi',
    });
    const s = await settled(id);
    expect(delivery(s, 'slack')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery(s, 'slack').error).toMatch(/404/);
  });

  describe('receipts', () => {
    const smsTo = async (phone: string) => {
      const id = await notify({ channels: ['sms'], recipients: [{ id: phone, phone }], message: 'Receipt test' });
      const s = await settled(id);
      return { id, sid: delivery(s, 'sms').provider_message_id as string };
    };

    it('applies a Twilio status callback once: a replay and a late "sent" change nothing', async () => {
      // Two recipients: the second stays `sent`, so the workflow keeps listening while the first gets receipts.
      const id = await notify({
        channels: ['sms'],
        recipients: [
          { id: 'r1', phone: '+14155550121' },
          { id: 'r2', phone: '+14155550122' },
        ],
        message: 'Receipt test',
      });
      const s = await settled(id);
      const [first, second] = ['r1', 'r2'].map(
        (r) => s.deliveries.find((d) => d.recipient_id === r)!.provider_message_id as string,
      );
      expect(await h.fakes.twilio.statusCallback(first!, 'delivered')).toBe(204);
      expect(await h.fakes.twilio.statusCallback(first!, 'delivered')).toBe(204);
      expect(await h.fakes.twilio.statusCallback(first!, 'sent')).toBe(204);
      const handle = h.herald.temporal.workflow.getHandle(notificationWorkflowId(h.tenant.id, id));
      const events = async () => (await handle.fetchHistory()).events!;
      await eventually(events, (e) => e.filter((x) => x.workflowExecutionSignaledEventAttributes).length === 3);
      await eventually(
        () => status(id),
        (s) => s.deliveries.find((d) => d.recipient_id === 'r1')!.status === 'delivered',
      );
      // Three signals in the history, but the projection was written only for the one that changed something.
      // The API wrote it on accept; the workflow once for the sends' outcome, once for the first "delivered".
      // A local activity's marker reaches the history when its workflow task completes, after the row.
      const recorded = await eventually(events, (e) => recordsIn(e).length >= 2);
      expect(recordsIn(recorded)).toHaveLength(2);

      expect(await h.fakes.twilio.statusCallback(second!, 'delivered')).toBe(204);
      await handle.result();
      expect((await status(id)).deliveries.map((d: { status: string }) => d.status)).toEqual([
        'delivered',
        'delivered',
      ]);
    });

    it("marks an undelivered SMS failed with Twilio's error code, and refuses a forged callback", async () => {
      const { id, sid } = await smsTo('+14155550112');
      expect(await h.fakes.twilio.statusCallback(sid, 'undelivered', { ErrorCode: '30003' })).toBe(204);
      const s = await eventually(
        () => status(id),
        (s) => delivery(s, 'sms').status === 'failed',
      );
      expect(delivery(s, 'sms').error).toBe('twilio undelivered (error 30003)');

      const forged = await h.herald.api.inject({
        method: 'POST',
        url: '/webhook/twilio',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' },
        payload: new URLSearchParams({ MessageSid: sid, MessageStatus: 'delivered' }).toString(),
      });
      expect(forged.statusCode).toBe(401);
      expect(forged.headers['content-type']).toMatch(/problem\+json/);
    });

    it('reports a voice call answered or not from its status callback', async () => {
      const id = await notify({
        channels: ['voice'],
        recipients: [{ id: 'gil', phone: '+14155550113' }],
        message: 'Wake up',
      });
      const s = await settled(id);
      const callSid = delivery(s, 'voice').provider_message_id as string;
      expect(callSid).toMatch(/^CA/);
      await h.fakes.twilio.statusCallback(callSid, 'no-answer');
      const after = await eventually(
        () => status(id),
        (s) => delivery(s, 'voice').status === 'failed',
      );
      expect(delivery(after, 'voice').error).toBe('twilio no-answer');
    });

    it('takes SendGrid events in order: delivered, then open; a bounce fails the delivery; forged events are refused', async () => {
      const sendgridHerald = `${h.fakes.env.HERALD_PUBLIC_URL}/webhook/sendgrid`;
      const email = async (address: string) => {
        const id = await notify({ channels: ['email'], recipients: [{ id: address, email: address }], message: 'Hi' });
        return { id, s: await settled(id) };
      };
      // SMTP is the first email provider here: three busy replies hand these to SendGrid.
      h.fakes.smtp.script.push(
        { code: 421, message: 'busy' },
        { code: 421, message: 'busy' },
        { code: 421, message: 'busy' },
      );
      const opened = await email('opened@example.com');
      expect(delivery(opened.s, 'email')).toMatchObject({
        provider: 'sendgrid',
        providers_tried: ['smtp', 'sendgrid'],
      });
      const messageId = delivery(opened.s, 'email').provider_message_id as string;

      expect(
        await h.fakes.sendgrid.sendEvents(sendgridHerald, messageId, [{ event: 'processed' }, { event: 'delivered' }]),
      ).toBe(200);
      expect(await h.fakes.sendgrid.sendEvents(sendgridHerald, messageId, [{ event: 'open' }])).toBe(200);
      // A delayed "delivered" after the open does not move it back.
      expect(await h.fakes.sendgrid.sendEvents(sendgridHerald, messageId, [{ event: 'delivered' }])).toBe(200);
      await eventually(
        () => status(opened.id),
        (s) => delivery(s, 'email').status === 'opened',
      );
      // Each receipt was handled (by the workflow, or by the record once it had closed): the late one changed nothing.
      await handledSignals(opened.id, 3);
      expect(delivery(await status(opened.id), 'email').status).toBe('opened');

      h.fakes.smtp.script.push(
        { code: 421, message: 'busy' },
        { code: 421, message: 'busy' },
        { code: 421, message: 'busy' },
      );
      const bounced = await email('bounced@example.com');
      const bouncedId = delivery(bounced.s, 'email').provider_message_id as string;
      await h.fakes.sendgrid.sendEvents(sendgridHerald, bouncedId, [
        { event: 'bounce', reason: '550 5.1.1 no such user' },
      ]);
      const b = await eventually(
        () => status(bounced.id),
        (s) => delivery(s, 'email').status === 'failed',
      );
      expect(delivery(b, 'email').error).toBe('sendgrid bounce: 550 5.1.1 no such user');

      const body = JSON.stringify([{ sg_message_id: `${bouncedId}.x`, event: 'delivered' }]);
      const stale = h.fakes.sendgrid.sign(body, Math.floor(Date.now() / 1000) - 3600);
      const forged = {
        ...h.fakes.sendgrid.sign(body),
        'x-twilio-email-event-webhook-signature': stale['x-twilio-email-event-webhook-signature']!,
      };
      const post = (headers: Record<string, string>) =>
        h.herald.api.inject({
          method: 'POST',
          url: '/webhook/sendgrid',
          headers: { 'content-type': 'application/json', ...headers },
          payload: body,
        });
      for (const headers of [stale, forged]) expect((await post(headers)).statusCode).toBe(401);
      // A captured, correctly signed batch is taken once.
      const captured = h.fakes.sendgrid.sign(body);
      expect((await post(captured)).statusCode).toBe(200);
      const replayed = await post(captured);
      expect(replayed.statusCode).toBe(401);
      expect(replayed.json().title).toBe('Replayed');
    });

    it('acknowledges a receipt for a message it does not know', async () => {
      const twilioUnknown = await h.herald.api.inject({
        method: 'POST',
        url: '/webhook/twilio',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(
            h.fakes.env.TWILIO_AUTH_TOKEN!,
            `${h.fakes.env.HERALD_PUBLIC_URL}/webhook/twilio`,
            { MessageSid: 'SMunknown', MessageStatus: 'delivered' },
          ),
        },
        payload: 'MessageSid=SMunknown&MessageStatus=delivered',
      });
      expect(twilioUnknown.statusCode).toBe(204);
    });
  });
});
