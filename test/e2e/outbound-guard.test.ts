import { eq } from 'drizzle-orm';
import { tenants } from '../../db/schema';
import { FakeWebhookReceiver } from '../fakes/chat';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function notifyAndSettle(herald: TestHerald, tenant: TestTenant, message: string) {
  const res = await herald.api.inject({
    method: 'POST',
    url: '/notify',
    headers: tenant.auth,
    payload: { channels: ['webhook'], recipients: [{ id: 'svc' }], message },
  });
  const id = res.json().notification_id;
  return eventually(
    () => herald.api.inject({ method: 'GET', url: `/status/${id}`, headers: tenant.auth }).then((r) => r.json()),
    (s) => s.status === 'failed' || s.status === 'delivered',
  );
}

describe("tenants' webhooks reach only public addresses unless allowed", () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let receiver: FakeWebhookReceiver;

  beforeAll(async () => {
    receiver = await new FakeWebhookReceiver().start();
    herald = await startTestHerald({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'false' });
    tenant = await herald.createTenant();
  }, 120_000);
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
    ['written as one number', (port: string) => `http://2130706433:${port}/hook`],
    ['written in hex', (port: string) => `http://0x7f.0.0.1:${port}/hook`],
    ['written as an IPv4-mapped IPv6 address', (port: string) => `http://[::ffff:127.0.0.1]:${port}/hook`],
    ['behind a name that resolves to one', (port: string) => `http://localhost:${port}/hook`],
  ])('fails a delivery to a private endpoint %s at send time, without connecting', async (_, url) => {
    // As if the name had resolved elsewhere when the endpoint was set.
    await herald.db
      .update(tenants)
      .set({ webhookUrl: url(new URL(receiver.url).port), webhookSecret: WEBHOOK_SECRET })
      .where(eq(tenants.id, tenant.id));
    const s = await notifyAndSettle(herald, tenant, 'to an internal service?');
    expect(s.status).toBe('failed');
    expect(s.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(s.deliveries[0].error).toMatch(/not a public address/);
    expect(receiver.requests).toHaveLength(0);
  });
});

/**
 * A redirect from a tenant's endpoint is never followed, wherever it leads. A loopback endpoint passes
 * the address check only where private addresses are allowed, so this Herald allows them: the loosest
 * setting, under which nothing but the refusal to follow stands between the endpoint and the service
 * it names. (Where they are not allowed, the same refusal, and the guard's check of the address a
 * redirect names, are shown with an endpoint behind a name standing for a public host, in
 * test/unit/outbound-http.test.ts.)
 */
describe("a tenant's webhook endpoint cannot send Herald elsewhere, nor read it what it finds", () => {
  const SECRET = 'AccessKeyId=ASIAEXAMPLE SecretAccessKey=wJalrXUtnFEMI';
  let herald: TestHerald;
  let tenant: TestTenant;
  let endpoint: FakeWebhookReceiver;
  /** A service inside Herald's network, as cloud metadata is: it answers whoever reaches it. */
  let internal: FakeWebhookReceiver;

  beforeAll(async () => {
    endpoint = await new FakeWebhookReceiver().start();
    internal = await new FakeWebhookReceiver().start();
    internal.down = { status: 400, body: SECRET };
    herald = await startTestHerald({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true' });
    tenant = await herald.createTenant();
    const res = await herald.api.inject({
      method: 'PUT',
      url: '/settings/webhook',
      headers: tenant.auth,
      payload: { url: `${endpoint.url}/hook` },
    });
    expect(res.statusCode).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await herald?.stop();
    await endpoint?.stop();
    await internal?.stop();
  });
  beforeEach(() => {
    endpoint.requests.length = 0;
    internal.requests.length = 0;
  });

  it('fails a delivery answered by a redirect for good, naming its status and target host, without following it', async () => {
    endpoint.faults.push({ status: 302, headers: { location: `${internal.url}/latest/meta-data/iam/credentials` } });
    const s = await notifyAndSettle(herald, tenant, 'follow me');
    expect(s.status).toBe('failed');
    expect(s.deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: `the endpoint answered 302, a redirect to ${new URL(internal.url).host}, which Herald does not follow`,
    });
    expect(JSON.stringify(s)).not.toContain('SecretAccessKey');
    expect(endpoint.requests).toHaveLength(1);
    expect(internal.requests).toHaveLength(0);
  });

  it("keeps the endpoint's answer out of the delivery's error: its status only", async () => {
    endpoint.faults.push({ status: 400, body: SECRET });
    const s = await notifyAndSettle(herald, tenant, 'a refusal');
    expect(s.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1, error: 'webhook answered 400' });
    expect(JSON.stringify(s)).not.toContain('SecretAccessKey');
  });
});
