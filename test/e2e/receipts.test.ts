import { signReceipt } from '../../domain/webhook-signature';
import { notificationWorkflowId } from '../../workflows/definitions';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually, startTestHerald, WEBHOOK_SECRET, type TestHerald, type TestTenant } from '../support/herald';

describe('delivery receipts on POST /webhook/callback', () => {
  let smtp: FakeSmtpServer;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
  });
  afterAll(() => smtp?.stop());

  function signedReceipt(
    herald: TestHerald,
    body: object,
    secret = WEBHOOK_SECRET,
    at = Math.floor(Date.now() / 1000),
  ) {
    const payload = JSON.stringify(body);
    return herald.api.inject({
      method: 'POST',
      url: '/webhook/callback',
      headers: {
        'content-type': 'application/json',
        'x-herald-timestamp': String(at),
        'x-herald-signature': signReceipt(secret, at, payload),
      },
      payload,
    });
  }

  async function sentEmail(herald: TestHerald, tenant: TestTenant) {
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: tenant.auth,
      payload: { channels: ['email'], recipients: [{ email: 'r@example.com' }], message: 'receipt me' },
    });
    const id = res.json().notification_id as string;
    const status = await eventually(
      () => herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json()),
      (s) => s.deliveries?.[0]?.status === 'sent',
    );
    return { id, providerMessageId: status.deliveries[0].provider_message_id as string };
  }

  describe('while the workflow listens', () => {
    let herald: TestHerald;
    let tenant: TestTenant;
    beforeAll(async () => {
      herald = await startTestHerald({ SMTP_URL: smtp.url });
      tenant = await herald.createTenant();
    });
    afterAll(() => herald?.stop());
    const status = (id: string) =>
      herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json());

    it('turns a signed "delivered" receipt into a signal that confirms the delivery', async () => {
      const { id, providerMessageId } = await sentEmail(herald, tenant);
      const res = await signedReceipt(herald, { provider_message_id: providerMessageId, status: 'delivered' });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ matched: true, notification_id: id });
      const s = await eventually(
        () => status(id),
        (s) => s.deliveries[0].status === 'delivered',
      );
      expect(s.status).toBe('delivered');
    });

    it('refuses a replayed receipt, and takes the same receipt signed anew', async () => {
      const { providerMessageId } = await sentEmail(herald, tenant);
      const at = Math.floor(Date.now() / 1000);
      const body = { provider_message_id: providerMessageId, status: 'delivered' };
      expect((await signedReceipt(herald, body, WEBHOOK_SECRET, at)).statusCode).toBe(202);
      const replayed = await signedReceipt(herald, body, WEBHOOK_SECRET, at);
      expect(replayed.statusCode).toBe(401);
      expect(replayed.json()).toMatchObject({ title: 'Replayed', field: 'x-herald-signature' });
      expect((await signedReceipt(herald, body, WEBHOOK_SECRET, at - 1)).statusCode).toBe(202);
    });

    it('marks a bounced delivery failed with the reason', async () => {
      const { id, providerMessageId } = await sentEmail(herald, tenant);
      await signedReceipt(herald, { provider_message_id: providerMessageId, status: 'bounced', error: 'mailbox full' });
      const s = await eventually(
        () => status(id),
        (s) => s.status === 'failed',
      );
      expect(s.deliveries[0]).toMatchObject({ status: 'failed', error: 'mailbox full' });
    });

    it('refuses unsigned, wrongly signed and stale receipts, and acknowledges unknown message ids', async () => {
      const { providerMessageId } = await sentEmail(herald, tenant);
      const body = { provider_message_id: providerMessageId, status: 'delivered' };
      const unsigned = await herald.api.inject({ method: 'POST', url: '/webhook/callback', payload: body });
      expect(unsigned.statusCode).toBe(401);
      expect(unsigned.json().field).toBe('x-herald-signature');
      expect((await signedReceipt(herald, body, 'whsec_wrong')).statusCode).toBe(401);
      const stale = Math.floor(Date.now() / 1000) - 3600;
      expect((await signedReceipt(herald, body, WEBHOOK_SECRET, stale)).statusCode).toBe(401);
      const unknown = await signedReceipt(herald, { provider_message_id: '<nope@herald>', status: 'delivered' });
      // Acknowledged, so the provider does not retry it forever; nothing matched.
      expect(unknown.statusCode).toBe(202);
      expect(unknown.json()).toEqual({ matched: false });
      const badStatus = await signedReceipt(herald, { provider_message_id: providerMessageId, status: 'lost' });
      expect(badStatus.statusCode).toBe(400);
      expect(badStatus.json().field).toBe('status');
    });
  });

  describe('after the workflow has closed', () => {
    let herald: TestHerald;
    let tenant: TestTenant;
    beforeAll(async () => {
      herald = await startTestHerald({ SMTP_URL: smtp.url, HERALD_RECEIPT_WINDOW_SECONDS: '0' });
      tenant = await herald.createTenant();
    });
    afterAll(() => herald?.stop());

    it('still records a late bounce in the projection', async () => {
      const { id, providerMessageId } = await sentEmail(herald, tenant);
      // The projection says `sent` a moment before the workflow records its outcome and closes.
      await herald.temporal.workflow.getHandle(notificationWorkflowId(tenant.id, id)).result();
      const res = await signedReceipt(herald, { provider_message_id: providerMessageId, status: 'bounced' });
      expect(res.statusCode).toBe(202);
      const s = await herald.api
        .inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth })
        .then((r) => r.json());
      expect(s).toMatchObject({ status: 'failed', deliveries: [{ status: 'failed', error: 'bounced' }] });
    });
  });
});
