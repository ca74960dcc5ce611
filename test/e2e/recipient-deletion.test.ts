import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

describe('deleting a recipient on request', () => {
  let herald: TestHerald;
  let tenant: TestTenant;

  beforeAll(async () => {
    herald = await startTestHerald();
    tenant = await herald.createTenant();
  }, 180_000);
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object, as = tenant) =>
    herald.api.inject({ method, url, headers: as.auth, payload });
  const status = (id: string) => call('GET', `/status/${id}`).then((r) => r.json());

  it('removes its data and every later step of its open notifications, and only its own', async () => {
    await call('PUT', '/recipients/ada', { email: 'ada@example.com', phone: '+14155550100' });
    await call('PUT', '/recipients/grace', { email: 'grace@example.com', phone: '+14155550101' });
    await call('PUT', '/recipients/ada/preferences', { channels: { push: false } });
    const sent = await call('POST', '/notify', {
      channels: ['email', 'in_app'],
      recipient_ids: ['ada', 'grace'],
      message: 'disk full',
      escalation: { steps: [{ after: '3s', channels: ['sms'] }] },
    });
    const id = sent.json().notification_id;
    await eventually(
      () => status(id),
      (s) => s.deliveries.filter((d: { status: string }) => d.status === 'delivered').length === 4,
    );
    expect((await call('GET', '/recipients/ada/inbox')).json().messages).toHaveLength(1);

    // Another tenant has no recipient of that id: nothing of this one is touched.
    const other = await herald.createTenant();
    expect((await call('DELETE', '/recipients/ada', undefined, other)).statusCode).toBe(404);

    const deleted = await call('DELETE', '/recipients/ada');
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({
      recipient_id: 'ada',
      deleted: { profile: true, preferences: true, inbox_messages: 1 },
      pending_notifications: 1,
      pending_broadcasts: 0,
    });
    expect((await call('GET', '/recipients/ada')).statusCode).toBe(404);
    expect((await call('GET', '/recipients/ada/inbox')).json().messages).toEqual([]);
    expect((await call('GET', '/recipients/ada/preferences')).json().version).toBe(0);

    // The escalation step reaches grace, not ada.
    const after = await eventually(
      () => status(id),
      (s) =>
        s.deliveries.some((d: { channel: string; status: string }) => d.channel === 'sms' && d.status !== 'pending'),
    );
    const sms = after.deliveries.filter((d: { channel: string }) => d.channel === 'sms');
    expect(sms).toEqual([expect.objectContaining({ recipient_id: 'grace', step: 1 })]);
    expect(after.timeline).toContainEqual(expect.objectContaining({ event: 'forgotten', recipient_id: 'ada' }));

    const audit = (await call('GET', '/audit?action=recipient.deleted')).json().events;
    expect(audit).toEqual([expect.objectContaining({ target: 'ada' })]);
    expect((await call('GET', '/recipients/grace')).statusCode).toBe(200);
    // Nothing at all under an id: 404. Again for ada: nothing left to delete; while the notification is
    // still open it is told again (the workflow ignores a repeat), once it closes there is nothing: 404.
    expect((await call('DELETE', '/recipients/nobody')).statusCode).toBe(404);
    const again = await call('DELETE', '/recipients/ada');
    if (again.statusCode === 200)
      expect(again.json()).toMatchObject({
        deleted: { profile: false, preferences: false, inbox_messages: 0 },
        pending_notifications: 1,
      });
    else expect(again.statusCode).toBe(404);
    const timeline = (await status(id)).timeline as { event: string }[];
    expect(timeline.filter((e) => e.event === 'forgotten')).toHaveLength(1);
  });
});
