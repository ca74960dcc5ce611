import { and, eq } from 'drizzle-orm';
import { createRecords } from '../../activities/record';
import type { DatabaseHandle } from '../../db/connect';
import { deliveries, notifications } from '../../db/schema';
import type { Delivery, NotificationSnapshot } from '../../domain/notification';
import { createTenant, isolatedDatabase, type TestTenant } from '../support/herald';

const sms = (status: Delivery['status'], extra: Partial<Delivery> = {}): Delivery => ({
  recipientId: 'ada',
  channel: 'sms',
  status,
  attempts: 1,
  ...extra,
});

function snapshot(tenantId: string, notificationId: string, status: NotificationSnapshot['status'], list: Delivery[]) {
  return {
    tenantId,
    notificationId,
    status,
    priority: 'normal',
    channels: ['sms'],
    requestHash: 'hash',
    createdAt: new Date().toISOString(),
    deliveries: list,
    timeline: [{ at: new Date().toISOString(), event: status }],
  } as NotificationSnapshot;
}

/** Activities of many workflows record at once: their writes share a transaction, each as if written alone. */
describe('records written together', () => {
  let handle: DatabaseHandle;
  let acme: TestTenant;
  let globex: TestTenant;
  beforeAll(async () => {
    handle = await isolatedDatabase();
    [acme, globex] = [await createTenant(handle), await createTenant(handle)];
  });
  afterAll(() => handle?.close());

  const row = (tenantId: string, id: string) =>
    handle.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, id)))
      .then(([r]) => r);
  const deliveriesOf = (tenantId: string, id: string) =>
    handle.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.notificationId, id)));

  it("writes every workflow's view, the newest winning, each within its own tenant", async () => {
    const records = createRecords(handle.db);
    await Promise.all([
      records.recordNotification(snapshot(acme.id, 'n1', 'accepted', [sms('pending')])),
      records.recordNotification(snapshot(globex.id, 'n1', 'accepted', [sms('pending')])),
    ]);
    // In one turn: a send's early record, then two views of the same notification, and another tenant's.
    await Promise.all([
      records.recordDeliveries(acme.id, 'n1', [sms('sent', { providerMessageId: 'SM1', provider: 'twilio' })]),
      records.recordNotification(snapshot(acme.id, 'n1', 'sending', [sms('sent', { providerMessageId: 'SM1' })])),
      records.recordNotification(
        snapshot(acme.id, 'n1', 'delivered', [sms('delivered', { providerMessageId: 'SM1' })]),
      ),
      records.recordNotification(snapshot(globex.id, 'n1', 'failed', [sms('failed', { error: 'unreachable' })])),
      records.recordNotification(
        snapshot(acme.id, 'n2', 'sending', [sms('pending'), sms('sent', { channel: 'email' })]),
      ),
    ]);
    expect((await row(acme.id, 'n1'))?.status).toBe('delivered');
    expect((await row(globex.id, 'n1'))?.status).toBe('failed');
    expect((await row(acme.id, 'n2'))?.status).toBe('sending');
    expect((await deliveriesOf(acme.id, 'n1')).map((d) => [d.channel, d.status, d.providerMessageId])).toEqual([
      ['sms', 'delivered', 'SM1'],
    ]);
    expect((await deliveriesOf(globex.id, 'n1')).map((d) => [d.status, d.error])).toEqual([['failed', 'unreachable']]);
    expect((await deliveriesOf(acme.id, 'n2')).map((d) => [d.channel, d.status]).sort()).toEqual([
      ['email', 'sent'],
      ['sms', 'pending'],
    ]);
  });

  it('fails only the write that breaks, the others of its group landing', async () => {
    const records = createRecords(handle.db);
    const results = await Promise.allSettled([
      records.recordNotification(snapshot(acme.id, 'n3', 'sending', [sms('sent', { providerMessageId: 'SM3' })])),
      // A provider message id is unique: another notification claiming it is refused.
      records.recordDeliveries(acme.id, 'n4', [sms('sent', { providerMessageId: 'SM3' })]),
      records.recordNotification(snapshot(acme.id, 'n5', 'sending', [sms('sent', { providerMessageId: 'SM5' })])),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await row(acme.id, 'n3'))?.status).toBe('sending');
    expect((await row(acme.id, 'n5'))?.status).toBe('sending');
    expect(await deliveriesOf(acme.id, 'n4')).toEqual([]);
  });
});
