import { eq } from 'drizzle-orm';
import { tenants } from '../../db/schema';
import { FakeWebhookReceiver } from '../fakes/chat';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

describe("tenants' webhooks reach only public addresses unless allowed", () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let receiver: FakeWebhookReceiver;

  beforeAll(async () => {
    receiver = await new FakeWebhookReceiver().start();
    herald = await startTestHerald({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'false' });
    tenant = await herald.createTenant();
  });
  afterAll(async () => {
    await herald?.stop();
    await receiver?.stop();
  });

  const setEndpoint = (url: string) =>
    herald.api.inject({ method: 'PUT', url: '/settings/webhook', headers: tenant.auth, payload: { url } });

  it('refuses private, loopback and link-local endpoints with a 422 naming url', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [
      `${receiver.url}/hook`,
      `http://localhost:${port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/hook',
      'http://10.0.0.7/hook',
    ]) {
      const res = await setEndpoint(url);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ field: 'url', title: 'Address not allowed' });
    }
  });

  it.each([
    ['written as an address', (port: string) => `http://127.0.0.1:${port}/hook`],
    ['behind a name that resolves to one', (port: string) => `http://localhost:${port}/hook`],
  ])('fails a delivery to a private endpoint %s at send time, without connecting', async (_, url) => {
    // As if the name had resolved elsewhere when the endpoint was set.
    await herald.db
      .update(tenants)
      .set({ webhookUrl: url(new URL(receiver.url).port), webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
      .where(eq(tenants.id, tenant.id));
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: tenant.auth,
      payload: { channels: ['webhook'], recipients: [{ id: 'svc' }], message: 'to an internal service?' },
    });
    const id = res.json().notification_id;
    const s = await eventually(
      () => herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json()),
      (s) => s.status === 'failed',
    );
    expect(s.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(s.deliveries[0].error).toMatch(/not a public address/);
    expect(receiver.requests).toHaveLength(0);
  });
});
