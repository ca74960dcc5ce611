import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

describe('tenant isolation', () => {
  let herald: TestHerald;
  let alice: TestTenant;
  let bob: TestTenant;
  let aliceNotification: string;

  // Herald's start takes a minute or more on a loaded machine (the workflows are bundled for its worker).
  beforeAll(async () => {
    herald = await startTestHerald();
    [alice, bob] = [await herald.createTenant(), await herald.createTenant()];
    await herald.api.inject({
      method: 'PUT',
      url: '/recipients/shared-id',
      headers: alice.auth,
      payload: { email: 'alice-user@example.com' },
    });
    const res = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: alice.auth,
      payload: { channels: ['email'], recipient_ids: ['shared-id'], message: 'for alice only' },
    });
    aliceNotification = res.json().notification_id;
    await eventually(
      () =>
        herald.api
          .inject({ method: 'GET', url: `/status/${aliceNotification}`, headers: alice.auth })
          .then((r) => r.json()),
      (s) => s.status === 'delivered',
    );
  }, 180_000);
  afterAll(() => herald?.stop());

  it("answers 404 for another tenant's notification", async () => {
    const res = await herald.api.inject({ method: 'GET', url: `/status/${aliceNotification}`, headers: bob.auth });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it("does not resolve another tenant's recipient ids", async () => {
    const get = await herald.api.inject({ method: 'GET', url: '/recipients/shared-id', headers: bob.auth });
    expect(get.statusCode).toBe(404);
    const notify = await herald.api.inject({
      method: 'POST',
      url: '/notify',
      headers: bob.auth,
      payload: { channels: ['email'], recipient_ids: ['shared-id'], message: 'x' },
    });
    expect(notify.statusCode).toBe(422);
  });

  it("keeps each tenant's outbox and metrics to itself", async () => {
    const outbox = await herald.api.inject({ method: 'GET', url: '/dev/outbox', headers: bob.auth });
    expect(outbox.json().messages).toEqual([]);
    const metrics = await herald.api.inject({
      method: 'GET',
      url: '/metrics',
      headers: { ...bob.auth, accept: 'application/json' },
    });
    expect(metrics.json()).toMatchObject({ sent: 0, succeeded: 0, failed: 0 });
    const aliceMetrics = await eventually(
      () =>
        herald.api
          .inject({ method: 'GET', url: '/metrics', headers: { ...alice.auth, accept: 'application/json' } })
          .then((r) => r.json()),
      (m) => m.sent > 0,
    );
    expect(aliceMetrics).toMatchObject({ sent: 1, succeeded: 1, failed: 0 });
    const mine = await herald.api.inject({ method: 'GET', url: '/dev/outbox', headers: alice.auth });
    expect(mine.json().messages).toEqual([
      expect.objectContaining({ recipient: 'alice-user@example.com', text: 'for alice only' }),
    ]);
  });

  it('gives the same Idempotency-Key of two tenants two notifications', async () => {
    const send = (t: TestTenant) =>
      herald.api.inject({
        method: 'POST',
        url: '/notify',
        headers: { ...t.auth, 'idempotency-key': 'same-key' },
        payload: { channels: ['sms'], recipients: [{ phone: '+14155550100' }], message: 'x' },
      });
    // Tenants of its own: alice's and bob's outboxes stay as the test above reads them.
    const [a, b] = [await send(await herald.createTenant()), await send(await herald.createTenant())];
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(a.json().notification_id).not.toBe(b.json().notification_id);
  });
});
