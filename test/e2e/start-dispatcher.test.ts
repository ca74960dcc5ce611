import { HighPriorityYield } from '../../domain/high-priority-yield';
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import pino from 'pino';
import { StartDispatcher, type DispatcherOptions } from '../../api/start-dispatcher';
import type { DatabaseHandle } from '../../db/connect';
import { acceptNotifications } from '../../db/pending-starts';
import { notifications } from '../../db/schema';
import type { NotificationRequest, Priority } from '../../domain/notification';
import { notificationRequest } from '../support/requests';
import { cancelSignal, notificationWorkflowId } from '../../workflows/definitions';
import { temporal } from '@temporalio/proto';
import { createTenant, eventually, isolatedDatabase, type TestTenant } from '../support/herald';

const { EventType } = temporal.api.enums.v1;

/**
 * A dispatcher alone, on the shared dev server, with a database and tenant of its own: workflows it starts
 * wait on a queue no worker polls, and are terminated after the tests.
 */
function dispatcherUnderTest(queuePrefix: string, options: Partial<DispatcherOptions>) {
  const taskQueue = `${queuePrefix}-${randomUUID()}`;
  const started: string[] = [];
  let connection: Connection;
  const t = {
    taskQueue,
    handle: undefined as unknown as DatabaseHandle,
    tenant: undefined as unknown as TestTenant,
    client: undefined as unknown as Client,
    dispatcher: undefined as unknown as StartDispatcher,
    workflowOf: (r: NotificationRequest) => {
      const id = notificationWorkflowId(r.tenantId, r.notificationId);
      started.push(id);
      return t.client.workflow.getHandle(id);
    },
    exists: (r: NotificationRequest) =>
      t
        .workflowOf(r)
        .describe()
        .then(
          () => true,
          (error: unknown) => {
            if (error instanceof WorkflowNotFoundError) return false;
            throw error;
          },
        ),
    /** Those of the requests whose workflows exist, in order. */
    startedOf: async (rs: NotificationRequest[]) => {
      const found = await Promise.all(rs.map(t.exists));
      return rs.filter((_, i) => found[i]);
    },
  };
  beforeAll(async () => {
    t.handle = await isolatedDatabase();
    t.tenant = await createTenant(t.handle);
    connection = await Connection.connect({ address: process.env.HERALD_TEST_TEMPORAL_ADDRESS! });
    t.client = new Client({ connection });
    t.dispatcher = new StartDispatcher({
      db: t.handle.db,
      temporal: t.client,
      taskQueue,
      eagerStart: false,
      log: pino({ level: 'silent' }),
      ...options,
    });
  });
  afterAll(async () => {
    await t.dispatcher?.stop();
    for (const id of started)
      await t.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await connection?.close();
    await t.handle?.close();
  });
  return t;
}

describe('StartDispatcher', () => {
  // Polls once, at start, then only when woken: what it starts is what it was woken for, or started aside.
  const highPriority = new HighPriorityYield({ graceMs: 0, maxHoldMs: 600_000 });
  const t = dispatcherUnderTest('dispatch', { pollMs: 600_000, highPriority });
  const { taskQueue, workflowOf, exists } = t;
  const request = (priority: Priority) => notificationRequest({ tenantId: t.tenant.id, priority });

  it('starts high priority at once, beside the loop, and the rest when woken, oldest included', async () => {
    // The loop's first look, at start, is over.
    await new Promise((r) => setTimeout(r, 500));
    // Written past the dispatcher (as another process would): it waits for the next wake.
    const left = request('normal');
    await acceptNotifications(t.handle.db, [{ request: left, taskQueue, actor: 'test' }]);

    const urgent = request('high');
    expect(await t.dispatcher.accept(urgent, 'test')).toBe(true);
    await eventually(
      () => exists(urgent),
      (yes) => yes,
      10_000,
    );
    const description = await workflowOf(urgent).describe();
    expect(description.taskQueue).toBe(`${taskQueue}-high`);
    expect(await exists(left)).toBe(false);

    const next = request('low');
    expect(await t.dispatcher.accept(next, 'test')).toBe(true);
    for (const r of [left, next])
      await eventually(
        () => exists(r),
        (yes) => yes,
        10_000,
      );
  });

  it('counts a high-priority notification as under way from its accept until its workflow has started', async () => {
    const normal = t.dispatcher.accept(request('normal'), 'test');
    expect(highPriority.holding()).toBe(false);
    await normal;
    const urgent = request('high');
    const accepting = t.dispatcher.accept(urgent, 'test');
    expect(highPriority.holding()).toBe(true);
    expect(await accepting).toBe(true);
    await eventually(
      async () => (await exists(urgent)) && !highPriority.holding(),
      (done) => done,
      10_000,
    );
  });

  it('accepts an id once, and starts a pending notification with a signal already in its history', async () => {
    await new Promise((r) => setTimeout(r, 500));
    const r = request('normal');
    await acceptNotifications(t.handle.db, [{ request: r, taskQueue, actor: 'test' }]);
    expect(await t.dispatcher.accept(r, 'test')).toBe(false);
    expect(await exists(r)).toBe(false);
    const workflowId = notificationWorkflowId(r.tenantId, r.notificationId);
    const pending = await t.dispatcher.findPending(workflowId);
    expect(pending?.request).toEqual(r);

    await t.dispatcher.startWithSignal(pending!, cancelSignal, [{ by: 'ops' }]);
    expect(await t.dispatcher.findPending(workflowId)).toBeUndefined();
    // No worker has run a task: the signal is there before the first one.
    const { events } = await workflowOf(r).fetchHistory();
    const types = events!.map((e) => e.eventType);
    expect(types).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(types).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    // Started already: a second signal just reaches it.
    await t.dispatcher.startWithSignal(pending!, cancelSignal, [{ by: 'ops' }]);
  });

  it('finds the pending notifications that name a recipient, for its deletion', async () => {
    const [ada, bob] = [
      request('normal'),
      { ...request('normal'), recipients: [{ id: 'bob', phone: '+14155550100' }] },
    ];
    await acceptNotifications(
      t.handle.db,
      [ada, bob].map((r) => ({ request: r, taskQueue, actor: 'test' })),
    );
    const naming = await t.dispatcher.pendingNaming(t.tenant.id, 'bob');
    expect(naming.map((p) => p.request.notificationId)).toEqual([bob.notificationId]);
    expect(await t.dispatcher.pendingNaming('another-tenant', 'bob')).toEqual([]);
  });
});

/** The window: Temporal holds no more started notifications than are under way; the rest wait in the database. */
describe('StartDispatcher window', () => {
  const t = dispatcherUnderTest('window', { window: 3, inFlightMs: 6_000 });
  const { exists, startedOf } = t;
  /** What the workflow's record does once the notification is under way. */
  const underWay = (rs: NotificationRequest[]) =>
    t.handle.db
      .update(notifications)
      .set({ status: 'sent' })
      .where(
        and(
          eq(notifications.tenantId, t.tenant.id),
          inArray(
            notifications.id,
            rs.map((r) => r.notificationId),
          ),
        ),
      );

  /** Accepts the requests and returns the window's worth started; a full window holds the rest back, however long they wait. */
  const fillWindow = async (rs: NotificationRequest[]) => {
    for (const r of rs) expect(await t.dispatcher.accept(r, 'test')).toBe(true);
    const first = await eventually(
      () => startedOf(rs),
      (s) => s.length === 3,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await startedOf(rs)).toEqual(first);
    return first;
  };

  it('starts no more than the window until those started are under way, then the highest priority first', async () => {
    const lows = Array.from({ length: 5 }, () => notificationRequest({ tenantId: t.tenant.id, priority: 'low' }));
    const first = await fillWindow(lows);

    const normal = notificationRequest({ tenantId: t.tenant.id, priority: 'normal' });
    expect(await t.dispatcher.accept(normal, 'test')).toBe(true);
    await underWay(first.slice(0, 1));
    await eventually(
      () => exists(normal),
      (yes) => yes,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await startedOf(lows)).toEqual(first);

    await underWay([...first, normal]);
    await eventually(
      () => startedOf(lows),
      (s) => s.length === 5,
      10_000,
    );
    await underWay(lows);
  });

  it('lets a start count for a bounded time only, so notifications held in their sends slow it but never stop it', async () => {
    const held = Array.from({ length: 4 }, () => notificationRequest({ tenantId: t.tenant.id, priority: 'low' }));
    await fillWindow(held);
    // Nothing is recorded as under way: the fourth waits out the first three's time, then starts.
    await eventually(
      () => startedOf(held),
      (s) => s.length === 4,
      10_000,
    );
  });
});

/** A burst of accepts: low priority waits in the database for a bounded time while the API answers it. */
describe('StartDispatcher under a burst', () => {
  // A burst here: 4 accepts within 250 ms. The drip below makes 40 a second.
  const t = dispatcherUnderTest('burst', { burstHoldMs: 3000, burstThreshold: 4, window: 1000, pollMs: 600_000 });
  const { exists, startedOf } = t;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('holds low-priority starts while accepts arrive, not normal ones, and for the longest hold at most', async () => {
    const began = Date.now();
    const lows: { at: number; request: NotificationRequest }[] = [];
    const accepted: Promise<boolean>[] = [];
    let dripping = true;
    const drip = (async () => {
      while (dripping) {
        for (let i = 0; i < 2; i++) {
          const request = notificationRequest({ tenantId: t.tenant.id, priority: 'low' });
          lows.push({ at: Date.now() - began, request });
          accepted.push(t.dispatcher.accept(request, 'test'));
        }
        await sleep(50);
      }
    })();
    const acceptedBetween = (from: number, to: number) =>
      lows.filter((l) => l.at >= from && l.at < to).map((l) => l.request);

    try {
      await sleep(300);
      const normal = notificationRequest({ tenantId: t.tenant.id, priority: 'normal' });
      expect(await t.dispatcher.accept(normal, 'test')).toBe(true);
      await eventually(
        () => exists(normal),
        (yes) => yes,
        1000,
      );
      await sleep(1200 - (Date.now() - began));
      // Accepted well inside the burst: waiting, though the window has room.
      const held = acceptedBetween(300, 1100);
      expect(held.length).toBeGreaterThan(20);
      expect(await startedOf(held)).toEqual([]);

      // The hold ends 3 s after the burst began, though the burst goes on.
      await eventually(
        () => startedOf(held),
        (s) => s.length === held.length,
        8000,
      );
      // Far short of a hold that would last as long as the drip; slack for a loaded machine.
      expect(Date.now() - began).toBeLessThan(10_000);
    } finally {
      dripping = false;
      await drip;
    }
    expect(await Promise.all(accepted)).not.toContain(false);
    await eventually(
      () => startedOf(lows.map((l) => l.request)),
      (s) => s.length === lows.length,
      10_000,
    );
  });
});
