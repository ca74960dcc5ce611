import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, inArray } from 'drizzle-orm';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import pino from 'pino';
import { StartDispatcher, type DispatcherOptions } from '../../api/start-dispatcher';
import type { DatabaseHandle } from '../../db/connect';
import { acceptNotifications } from '../../db/pending-starts';
import { HighPriorityYield } from '../../domain/high-priority-yield';
import { notifications, pendingStarts } from '../../db/schema';
import type { NotificationRequest, Priority } from '../../domain/notification';
import { notificationRequest } from '../support/requests';
import { cancelSignal, notificationWorkflowId } from '../../workflows/definitions';
import { temporal } from '@temporalio/proto';
import { createTenant, eventually, isolatedDatabase, type TestTenant } from '../support/herald';

const { EventType } = temporal.api.enums.v1;

/**
 * Dispatchers alone, on the shared dev server, with a database and tenant of their own: each test makes its
 * own on a task queue of its own, so none sees what another left behind. Workflows they start wait on a
 * queue no worker polls, and are terminated after the tests.
 */
function dispatchers() {
  const started = new Set<string>();
  const running: StartDispatcher[] = [];
  let connection: Connection;
  const t = {
    handle: undefined as unknown as DatabaseHandle,
    tenant: undefined as unknown as TestTenant,
    client: undefined as unknown as Client,
    request: (priority: Priority) => notificationRequest({ tenantId: t.tenant.id, priority }),
    /** A dispatcher on a new task queue, stopped after the test. */
    make(options: Partial<DispatcherOptions>) {
      const taskQueue = `dispatch-${randomUUID()}`;
      const dispatcher = new StartDispatcher({
        db: t.handle.db,
        temporal: t.client,
        taskQueue,
        eagerStart: false,
        log: pino({ level: 'silent' }),
        ...options,
      });
      running.push(dispatcher);
      return { dispatcher, taskQueue };
    },
    workflowOf: (r: NotificationRequest) => {
      const id = notificationWorkflowId(r.tenantId, r.notificationId);
      started.add(id);
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
    /** Waits until every request's workflow exists, asking again only about those not started yet. */
    allStarted: async (rs: NotificationRequest[], timeoutMs: number) => {
      let left = rs;
      await eventually(
        async () => {
          const now = new Set(await t.startedOf(left));
          left = left.filter((r) => !now.has(r));
          return left.length;
        },
        (n) => n === 0,
        timeoutMs,
      );
    },
    /** The task queue's starts still pending: a start's row goes once its workflow has started. */
    pendingOn: async (taskQueue: string) =>
      (await t.handle.db.select().from(pendingStarts).where(eq(pendingStarts.taskQueue, taskQueue))).length,
    /** When Temporal started the request's workflow, by its own clock. */
    startTime: async (r: NotificationRequest) => (await t.workflowOf(r).describe()).startTime.getTime(),
    /** What the workflow's record does once the notification is under way. */
    underWay: (rs: NotificationRequest[]) =>
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
        ),
  };
  // A new embedded database migrates in a minute or more on a loaded machine.
  beforeAll(async () => {
    t.handle = await isolatedDatabase();
    t.tenant = await createTenant(t.handle);
    connection = await Connection.connect({ address: process.env.HERALD_TEST_TEMPORAL_ADDRESS! });
    t.client = new Client({ connection });
  }, 180_000);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });
  afterAll(async () => {
    const ids = [...started];
    for (let i = 0; i < ids.length; i += 32)
      await Promise.all(
        ids.slice(i, i + 32).map((id) =>
          t.client.workflow
            .getHandle(id)
            .terminate('test over')
            .catch(() => undefined),
        ),
      );
    await connection?.close();
    await t.handle?.close();
  });
  return t;
}

/**
 * Resolves once the dispatcher's loop has looked for pending starts and waits to be woken: a start written to
 * the database after this waits for the next wake (or poll). The loop's wake-up handle is set exactly while
 * it waits; the dispatcher offers no public signal for it.
 */
const waitingForWake = (dispatcher: StartDispatcher) =>
  eventually(
    async () => (dispatcher as unknown as { wakeUp?: () => void }).wakeUp !== undefined,
    (yes) => yes,
    10_000,
  );

describe('StartDispatcher', () => {
  const t = dispatchers();
  const { request, exists, workflowOf } = t;

  it('starts high priority at once, beside the loop, while its window holds back the rest', async () => {
    // A window of one, taken by a notification never under way (no worker polls): the loop starts nothing more.
    const { dispatcher, taskQueue } = t.make({ window: 1, inFlightMs: 600_000, pollMs: 600_000 });
    const blocker = request('low');
    expect(await dispatcher.accept(blocker, 'test')).toBe(true);
    await eventually(
      () => exists(blocker),
      (yes) => yes,
      10_000,
    );
    const waiting = request('normal');
    expect(await dispatcher.accept(waiting, 'test')).toBe(true);

    const urgent = request('high');
    expect(await dispatcher.accept(urgent, 'test')).toBe(true);
    await eventually(
      () => exists(urgent),
      (yes) => yes,
      10_000,
    );
    expect((await workflowOf(urgent).describe()).taskQueue).toBe(`${taskQueue}-high`);
    expect(await exists(waiting)).toBe(false);
  });

  it('starts what another process accepted when next woken, oldest included', async () => {
    const { dispatcher, taskQueue } = t.make({ pollMs: 600_000 });
    await waitingForWake(dispatcher);
    // Written past the dispatcher (as another API process would): it waits for the next wake.
    const left = request('normal');
    await acceptNotifications(t.handle.db, [{ request: left, taskQueue, actor: 'test' }]);
    expect(await exists(left)).toBe(false);

    const next = request('low');
    expect(await dispatcher.accept(next, 'test')).toBe(true);
    for (const r of [left, next])
      await eventually(
        () => exists(r),
        (yes) => yes,
        10_000,
      );
  });

  it('counts a high-priority notification as under way from its accept until its workflow has started', async () => {
    const highPriority = new HighPriorityYield({ graceMs: 0, maxHoldMs: 600_000 });
    const { dispatcher } = t.make({ pollMs: 600_000, highPriority });
    const normal = dispatcher.accept(request('normal'), 'test');
    expect(highPriority.holding()).toBe(false);
    await normal;
    const urgent = request('high');
    const accepting = dispatcher.accept(urgent, 'test');
    expect(highPriority.holding()).toBe(true);
    expect(await accepting).toBe(true);
    await eventually(
      async () => (await exists(urgent)) && !highPriority.holding(),
      (done) => done,
      10_000,
    );
  });

  it('accepts an id once, and starts a pending notification with a signal already in its history', async () => {
    const { dispatcher, taskQueue } = t.make({ pollMs: 600_000 });
    await waitingForWake(dispatcher);
    const r = request('normal');
    await acceptNotifications(t.handle.db, [{ request: r, taskQueue, actor: 'test' }]);
    expect(await dispatcher.accept(r, 'test')).toBe(false);
    expect(await exists(r)).toBe(false);
    const workflowId = notificationWorkflowId(r.tenantId, r.notificationId);
    const pending = await dispatcher.findPending(workflowId);
    expect(pending?.request).toEqual(r);

    await dispatcher.startWithSignal(pending!, cancelSignal, [{ by: 'ops' }]);
    expect(await dispatcher.findPending(workflowId)).toBeUndefined();
    // No worker has run a task: the signal is there before the first one.
    const { events } = await workflowOf(r).fetchHistory();
    const types = events!.map((e) => e.eventType);
    expect(types).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(types).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    // Started already: a second signal just reaches it.
    await dispatcher.startWithSignal(pending!, cancelSignal, [{ by: 'ops' }]);
  });

  it('finds the pending notifications that name a recipient, for its deletion', async () => {
    const { dispatcher, taskQueue } = t.make({ pollMs: 600_000 });
    await waitingForWake(dispatcher);
    const [ada, bob] = [
      request('normal'),
      { ...request('normal'), recipients: [{ id: 'bob', phone: '+14155550100' }] },
    ];
    await acceptNotifications(
      t.handle.db,
      [ada, bob].map((r) => ({ request: r, taskQueue, actor: 'test' })),
    );
    const naming = await dispatcher.pendingNaming(t.tenant.id, 'bob');
    expect(naming.map((p) => p.request.notificationId)).toEqual([bob.notificationId]);
    expect(await dispatcher.pendingNaming('another-tenant', 'bob')).toEqual([]);
  });
});

/** The window: Temporal holds no more started notifications than are under way; the rest wait in the database. */
describe('StartDispatcher window', () => {
  const t = dispatchers();
  const { exists, startedOf, underWay } = t;
  const lows = (n: number) => Array.from({ length: n }, () => t.request('low'));

  it('starts no more than the window until those started are under way, then the highest priority first', async () => {
    // Started notifications count until they are under way, however long that takes.
    const { dispatcher } = t.make({ window: 3, inFlightMs: 600_000 });
    const waiting = lows(5);
    for (const r of waiting) expect(await dispatcher.accept(r, 'test')).toBe(true);
    const first = await eventually(
      () => startedOf(waiting),
      (s) => s.length === 3,
      10_000,
    );

    // One place frees up: the loop gives it to a normal notification accepted last, and none to the lows.
    const normal = t.request('normal');
    expect(await dispatcher.accept(normal, 'test')).toBe(true);
    await underWay(first.slice(0, 1));
    await eventually(
      () => exists(normal),
      (yes) => yes,
      10_000,
    );
    expect(await startedOf(waiting)).toEqual(first);

    await underWay([...first, normal]);
    await eventually(
      () => startedOf(waiting),
      (s) => s.length === 5,
      10_000,
    );
    await underWay(waiting);
  });

  it('lets a start count for a bounded time only, so notifications held in their sends slow it but never stop it', async () => {
    const inFlightMs = 3000;
    const { dispatcher } = t.make({ window: 3, inFlightMs });
    const held = lows(4);
    for (const r of held) expect(await dispatcher.accept(r, 'test')).toBe(true);
    const first = await eventually(
      () => startedOf(held),
      (s) => s.length === 3,
      10_000,
    );
    // Nothing is recorded as under way: the fourth waits out the first three's time, then starts.
    await eventually(
      () => startedOf(held),
      (s) => s.length === 4,
      inFlightMs + 20_000,
    );
    const fourth = held.find((r) => !first.includes(r))!;
    const earliest = Math.min(...(await Promise.all(first.map(t.startTime))));
    expect((await t.startTime(fourth)) - earliest).toBeGreaterThanOrEqual(inFlightMs);
  });
});

/** A burst of accepts: low priority waits in the database for a bounded time while the API answers it. */
describe('StartDispatcher under a burst', () => {
  const t = dispatchers();
  const { exists, startedOf } = t;

  it('holds low-priority starts while accepts arrive, not normal ones, and for the longest hold at most', async () => {
    // A burst here: 4 accepts within 2 s. The drip below makes 4 at once every 100 ms, so the accepts go
    // on as one burst unless the test's process stalls for nearly 2 s.
    const { dispatcher, taskQueue } = t.make({
      burstHoldMs: 6000,
      burstThreshold: 4,
      burstSpanMs: 2000,
      window: 1000,
      pollMs: 600_000,
    });
    const lows: { request: NotificationRequest; stored: boolean }[] = [];
    const accepted: Promise<boolean>[] = [];
    let dripping = true;
    const drip = (async () => {
      while (dripping) {
        for (let i = 0; i < 4; i++) {
          const low = { request: t.request('low'), stored: false };
          lows.push(low);
          accepted.push(dispatcher.accept(low.request, 'test').then((yes) => (low.stored = yes)));
        }
        await sleep(100);
      }
    })();

    try {
      await eventually(
        async () => lows.filter((l) => l.stored).length,
        (n) => n >= 8,
        10_000,
      );
      // Stored, and the loop woken for them, before the normal notification is accepted.
      const held = lows.filter((l) => l.stored).map((l) => l.request);
      const normal = t.request('normal');
      expect(await dispatcher.accept(normal, 'test')).toBe(true);
      await eventually(
        () => exists(normal),
        (yes) => yes,
        10_000,
      );
      // Started by a look that passed the lows over, though the window had room for them.
      expect(await startedOf(held)).toEqual([]);

      // The hold ends after 6 s of the burst, though the burst goes on.
      await t.allStarted(held, 6000 + 20_000);
    } finally {
      dripping = false;
      await drip;
    }
    expect(await Promise.all(accepted)).not.toContain(false);
    // The hundreds dripped in all start once the burst is over.
    await eventually(
      () => t.pendingOn(taskQueue),
      (n) => n === 0,
      120_000,
    );
  });
});
