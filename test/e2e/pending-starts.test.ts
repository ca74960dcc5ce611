import { randomUUID } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/connect';
import { acceptNotifications, claimPendingStarts, deletePendingStarts } from '../../db/pending-starts';
import { auditEvents, notifications, pendingStarts } from '../../db/schema';
import type { NotificationRequest, Priority } from '../../domain/notification';
import { notificationRequest } from '../support/requests';
import { notificationWorkflowId } from '../../workflows/definitions';
import { createTenant, eventually, isolatedDatabase, type TestTenant } from '../support/herald';

describe('pending starts (the accepted notifications the dispatcher has yet to start)', () => {
  let handle: DatabaseHandle;
  let tenant: TestTenant;
  // A new embedded database migrates in a minute or more on a loaded machine.
  beforeAll(async () => {
    handle = await isolatedDatabase();
    tenant = await createTenant(handle);
  }, 180_000);
  afterAll(() => handle?.close());

  const request = (priority: Priority) => notificationRequest({ tenantId: tenant.id, priority });
  const claim = async (taskQueue: string, limit: number, claimMs: number) =>
    (await claimPendingStarts(handle.db, taskQueue, limit, claimMs)).map((pending) => pending.request);
  const accept = async (r: NotificationRequest, taskQueue: string) =>
    (await acceptNotifications(handle.db, [{ request: r, taskQueue, actor: 'test' }]))[0];
  const workflowIdOf = (r: NotificationRequest) => notificationWorkflowId(r.tenantId, r.notificationId);
  /** Waits until the database's clock, which claims are kept by, has passed the request's claim. */
  const claimRunsOut = (r: NotificationRequest) =>
    eventually(
      async () => {
        const [row] = await handle.db
          .select({ ranOut: sql<boolean>`${pendingStarts.claimedUntil} < now()` })
          .from(pendingStarts)
          .where(eq(pendingStarts.workflowId, workflowIdOf(r)));
        return row?.ranOut;
      },
      (ranOut) => ranOut === true,
      10_000,
    );

  it('hands out high priority first, then the oldest, each once until its claim runs out', async () => {
    const queue = `q-${randomUUID()}`;
    const [low, normal, high] = [request('low'), request('normal'), request('high')];
    for (const r of [low, normal, high]) expect(await accept(r, queue)).toBe(true);

    const first = await claim(queue, 2, 60_000);
    expect(first.map((r) => r.notificationId)).toEqual(
      expect.arrayContaining([high.notificationId, normal.notificationId]),
    );
    expect(first).toHaveLength(2);
    expect(first.find((r) => r.priority === 'high')).toEqual(high);
    // Claimed: another dispatcher gets only what is left.
    expect((await claim(queue, 10, 60_000)).map((r) => r.notificationId)).toEqual([low.notificationId]);
    expect(await claim(queue, 10, 60_000)).toEqual([]);
  });

  it('frees a claim that ran out, and forgets a start once it is deleted', async () => {
    const queue = `q-${randomUUID()}`;
    const r = request('normal');
    await accept(r, queue);
    expect(await claim(queue, 10, 1)).toEqual([r]);
    await claimRunsOut(r);
    expect(await claim(queue, 10, 1)).toEqual([r]);
    await claimRunsOut(r);
    // Its claim ran out, so only the deletion keeps it from being handed out again.
    await deletePendingStarts(handle.db, [workflowIdOf(r)]);
    expect(await claim(queue, 10, 60_000)).toEqual([]);
  });

  it('accepts many in one transaction, each id once, the first of a repeated id winning', async () => {
    const queue = `q-${randomUUID()}`;
    const [a, b] = [request('normal'), request('low')];
    const twin = { ...a, requestHash: 'other' };
    const won = await acceptNotifications(
      handle.db,
      [a, b, twin].map((r) => ({ request: r, taskQueue: queue, actor: 'test' })),
    );
    expect(won).toEqual([true, true, false]);
    const claimed = await claim(queue, 10, 60_000);
    expect(claimed).toHaveLength(2);
    expect(claimed.find((r) => r.notificationId === a.notificationId)).toEqual(a);
    const rows = await handle.db
      .select({ id: notifications.id, status: notifications.status, requestHash: notifications.requestHash })
      .from(notifications)
      .where(inArray(notifications.id, [a.notificationId, b.notificationId]));
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: a.notificationId, status: 'accepted', requestHash: a.requestHash },
        { id: b.notificationId, status: 'accepted', requestHash: b.requestHash },
      ]),
    );
    expect(rows).toHaveLength(2);
    const audited = await handle.db
      .select({ notificationId: auditEvents.notificationId, action: auditEvents.action, actor: auditEvents.actor })
      .from(auditEvents)
      .where(inArray(auditEvents.notificationId, [a.notificationId, b.notificationId]));
    expect(audited.map((e) => e.notificationId).sort()).toEqual([a.notificationId, b.notificationId].sort());
    expect(audited.every((e) => e.action === 'notification.created' && e.actor === 'test')).toBe(true);
  });

  it("leaves another deployment's task queue alone, and accepts one id once", async () => {
    const [mine, theirs] = [`q-${randomUUID()}`, `q-${randomUUID()}`];
    const r = request('normal');
    expect(await accept(r, theirs)).toBe(true);
    expect(await claim(mine, 10, 60_000)).toEqual([]);
    expect(await accept(r, mine)).toBe(false);
    expect(await claim(theirs, 10, 60_000)).toEqual([r]);
  });
});
