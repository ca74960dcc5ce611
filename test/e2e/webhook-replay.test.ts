import { sql } from 'drizzle-orm';
import { signReceipt } from '../../domain/webhook-signature';
import { notificationWorkflowId } from '../../workflows/definitions';
import { FakeSendGrid, SENDGRID_KEY } from '../fakes/sendgrid';
import { eventually, startTestHerald, WEBHOOK_SECRET, type TestHerald, type TestTenant } from '../support/herald';

/** Copies of one signed request, all sent at once over their own connections. */
const COPIES = 20;

describe('a timestamped webhook signature is taken once', () => {
  // Email goes out through SendGrid, which signs its event batches.
  let sendgrid: FakeSendGrid;
  let herald: TestHerald;
  let tenant: TestTenant;
  let base: string;

  beforeAll(async () => {
    sendgrid = await new FakeSendGrid().start();
    // A database of its own: one test takes a table away from Herald for a moment.
    herald = await startTestHerald(
      {
        SENDGRID_API_KEY: SENDGRID_KEY,
        SENDGRID_API_BASE_URL: sendgrid.url,
        SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey,
      },
      { isolated: true },
    );
    tenant = await herald.createTenant();
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await herald?.stop();
    await sendgrid?.stop();
  });

  const post = (path: string, headers: Record<string, string>, body: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  const heraldSigned = (body: object, at = Math.floor(Date.now() / 1000)) => {
    const payload = JSON.stringify(body);
    const headers = {
      'x-herald-timestamp': String(at),
      'x-herald-signature': signReceipt(WEBHOOK_SECRET, at, payload),
    };
    return () => post('/webhook/callback', headers, payload);
  };

  /** The answers to all the copies, as status and body. */
  async function sendAtOnce(send: () => Promise<Response>, copies = COPIES) {
    const answers = await Promise.all(Array.from({ length: copies }, () => send()));
    return Promise.all(
      answers.map(async (a) => ({ status: a.status, body: (await a.json()) as Record<string, unknown> })),
    );
  }

  async function sentEmail() {
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: tenant.auth,
      payload: { channels: ['email'], recipients: [{ id: 'r', email: 'r@example.com' }], message: 'receipt me' },
    });
    expect(res.statusCode).toBe(202);
    const id = res.json().notification_id as string;
    const status = await eventually(
      () => herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json()),
      (s) => s.deliveries?.[0]?.status === 'sent',
    );
    return { id, providerMessageId: status.deliveries[0].provider_message_id as string };
  }

  async function receiptSignals(notificationId: string): Promise<number> {
    const history = await herald.temporal.workflow
      .getHandle(notificationWorkflowId(tenant.id, notificationId))
      .fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'receipt')
      .length;
  }

  async function receiptsCounted(): Promise<number> {
    const text = await (await fetch(`${base}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('herald_receipts_total{'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  it(`takes one of ${COPIES} copies of a signed receipt sent at once, and refuses the others as replays`, async () => {
    const { id, providerMessageId } = await sentEmail();
    const answers = await sendAtOnce(heraldSigned({ provider_message_id: providerMessageId, status: 'delivered' }));

    const taken = answers.filter((a) => a.status === 202);
    expect(taken).toEqual([{ status: 202, body: { matched: true, notification_id: id } }]);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused).toHaveLength(COPIES - 1);
    for (const r of refused)
      expect(r).toMatchObject({ status: 401, body: { title: 'Replayed', field: 'x-herald-signature' } });
    // The workflow heard the receipt once: the one answered 202 signalled it before answering.
    expect(await receiptSignals(id)).toBe(1);
  });

  it(`takes one of ${COPIES} copies of a signed SendGrid batch sent at once`, async () => {
    const { id, providerMessageId } = await sentEmail();
    // SendGrid names a message `<X-Message-Id>.<suffix>`; the others name messages Herald never sent.
    const events = JSON.stringify([
      { sg_message_id: `${providerMessageId}.filterdrecv-1`, event: 'delivered' },
      ...Array.from({ length: 4 }, (_, i) => ({ sg_message_id: `unknown-${i}.filterdrecv-1`, event: 'open' })),
    ]);
    const signed = sendgrid.sign(events);
    const before = await receiptsCounted();
    const answers = await sendAtOnce(() => post('/webhook/sendgrid', signed, events));

    expect(answers.filter((a) => a.status === 200)).toEqual([{ status: 200, body: { matched: 1 } }]);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(COPIES - 1);
    for (const r of refused)
      expect(r).toMatchObject({
        status: 401,
        body: { title: 'Replayed', field: 'x-twilio-email-event-webhook-signature' },
      });
    expect(await receiptSignals(id)).toBe(1);
    // Each of the batch's five events was counted once.
    expect((await receiptsCounted()) - before).toBe(5);
  });

  it('gives the signature back when Herald answers 5xx, so the sender retries the same signed receipt', async () => {
    const { id, providerMessageId } = await sentEmail();
    const send = heraldSigned({ provider_message_id: providerMessageId, status: 'delivered' });

    // The deliveries table away: the receipt cannot be matched, and Herald fails with a 500.
    await herald.db.execute(sql`alter table deliveries rename to deliveries_away`);
    let failed: Response;
    try {
      failed = await send();
    } finally {
      await herald.db.execute(sql`alter table deliveries_away rename to deliveries`);
    }
    expect(failed.status).toBe(500);

    // The provider's retry of the very same request is taken, and only once.
    const retried = await sendAtOnce(send);
    expect(retried.filter((a) => a.status === 202)).toEqual([
      { status: 202, body: { matched: true, notification_id: id } },
    ]);
    expect(retried.filter((a) => a.status === 401)).toHaveLength(COPIES - 1);
    expect(await receiptSignals(id)).toBe(1);
    const again = await send();
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ title: 'Replayed' });
  });
});
