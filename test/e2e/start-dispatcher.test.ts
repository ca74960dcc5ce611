import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import pino from 'pino';
import { StartDispatcher } from '../../api/start-dispatcher';
import type { DatabaseHandle } from '../../db/connect';
import { acceptNotifications } from '../../db/pending-starts';
import { notifications } from '../../db/schema';
import type { NotificationRequest, Priority } from '../../domain/notification';
import { notificationRequest } from '../support/requests';
import { cancelSignal, notificationWorkflowId } from '../../workflows/definitions';
import { temporal } from '@temporalio/proto';
import { createTenant, eventually, isolatedDatabase, type TestTenant } from '../support/herald';

const { EventType } = temporal.api.enums.v1;

/** The dispatcher alone, on the shared dev server: workflows it starts wait on a queue no worker polls. */
describe('StartDispatcher', () => {
  let handle: DatabaseHandle;
  let tenant: TestTenant;
  let connection: Connection;
  let client: Client;
  let dispatcher: StartDispatcher;
  const taskQueue = `dispatch-${randomUUID()}`;
  const started: string[] = [];

  beforeAll(async () => {
    handle = await isolatedDatabase();
    tenant = await createTenant(handle);
    connection = await Connection.connect({ address: process.env.HERALD_TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection });
    // Polls once, at start, then only when woken: what it starts is what it was woken for, or started aside.
    dispatcher = new StartDispatcher({
      db: handle.db,
      temporal: client,
      taskQueue,
      eagerStart: false,
      log: pino({ level: 'silent' }),
      pollMs: 600_000,
    });
  });
  afterAll(async () => {
    await dispatcher?.stop();
    for (const id of started)
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await connection?.close();
    await handle?.close();
  });

  const request = (priority: Priority) => notificationRequest({ tenantId: tenant.id, priority });
  const workflowOf = (r: NotificationRequest) => {
    const id = notificationWorkflowId(r.tenantId, r.notificationId);
    started.push(id);
    return client.workflow.getHandle(id);
  };
  const exists = (r: NotificationRequest) =>
    workflowOf(r)
      .describe()
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        },
      );

  it('starts high priority at once, beside the loop, and the rest when woken, oldest included', async () => {
    // The loop's first look, at start, is over.
    await new Promise((r) => setTimeout(r, 500));
    // Written past the dispatcher (as another process would): it waits for the next wake.
    const left = request('normal');
    await acceptNotifications(handle.db, [{ request: left, taskQueue, actor: 'test' }]);

    const urgent = request('high');
    expect(await dispatcher.accept(urgent, 'test')).toBe(true);
    await eventually(
      () => exists(urgent),
      (yes) => yes,
      10_000,
    );
    const description = await workflowOf(urgent).describe();
    expect(description.taskQueue).toBe(`${taskQueue}-high`);
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

  it('accepts an id once, and starts a pending notification with a signal already in its history', async () => {
    await new Promise((r) => setTimeout(r, 500));
    const r = request('normal');
    await acceptNotifications(handle.db, [{ request: r, taskQueue, actor: 'test' }]);
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
    const [ada, bob] = [
      request('normal'),
      { ...request('normal'), recipients: [{ id: 'bob', phone: '+14155550100' }] },
    ];
    await acceptNotifications(
      handle.db,
      [ada, bob].map((r) => ({ request: r, taskQueue, actor: 'test' })),
    );
    const naming = await dispatcher.pendingNaming(tenant.id, 'bob');
    expect(naming.map((p) => p.request.notificationId)).toEqual([bob.notificationId]);
    expect(await dispatcher.pendingNaming('another-tenant', 'bob')).toEqual([]);
  });
});

/** The window: Temporal holds no more started notifications than are under way; the rest wait in the database. */
describe('StartDispatcher window', () => {
  let handle: DatabaseHandle;
  let tenant: TestTenant;
  let connection: Connection;
  let client: Client;
  let dispatcher: StartDispatcher;
  const taskQueue = `window-${randomUUID()}`;
  const started: string[] = [];

  beforeAll(async () => {
    handle = await isolatedDatabase();
    tenant = await createTenant(handle);
    connection = await Connection.connect({ address: process.env.HERALD_TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection });
    dispatcher = new StartDispatcher({
      db: handle.db,
      temporal: client,
      taskQueue,
      eagerStart: false,
      log: pino({ level: 'silent' }),
      window: 3,
      inFlightMs: 6_000,
    });
  });
  afterAll(async () => {
    await dispatcher?.stop();
    for (const id of started)
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await connection?.close();
    await handle?.close();
  });

  const exists = async (r: NotificationRequest) => {
    const id = notificationWorkflowId(r.tenantId, r.notificationId);
    started.push(id);
    return client.workflow
      .getHandle(id)
      .describe()
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        },
      );
  };
  const startedOf = async (rs: NotificationRequest[]) => {
    const found = await Promise.all(rs.map(exists));
    return rs.filter((_, i) => found[i]);
  };
  /** What the workflow's record does once the notification is under way. */
  const underWay = (rs: NotificationRequest[]) =>
    handle.db
      .update(notifications)
      .set({ status: 'sent' })
      .where(
        and(
          eq(notifications.tenantId, tenant.id),
          inArray(
            notifications.id,
            rs.map((r) => r.notificationId),
          ),
        ),
      );

  it('starts no more than the window until those started are under way, then the highest priority first', async () => {
    const lows = Array.from({ length: 5 }, () => notificationRequest({ tenantId: tenant.id, priority: 'low' }));
    for (const r of lows) expect(await dispatcher.accept(r, 'test')).toBe(true);
    const first = await eventually(
      () => startedOf(lows),
      (s) => s.length === 3,
      10_000,
    );
    // A full window holds the rest back, however long it waits.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await startedOf(lows)).toEqual(first);

    const normal = notificationRequest({ tenantId: tenant.id, priority: 'normal' });
    expect(await dispatcher.accept(normal, 'test')).toBe(true);
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
    const held = Array.from({ length: 4 }, () => notificationRequest({ tenantId: tenant.id, priority: 'low' }));
    for (const r of held) expect(await dispatcher.accept(r, 'test')).toBe(true);
    const first = await eventually(
      () => startedOf(held),
      (s) => s.length === 3,
      10_000,
    );
    // Nothing is recorded as under way: the fourth waits out the first three's time, then starts.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await startedOf(held)).toEqual(first);
    await eventually(
      () => startedOf(held),
      (s) => s.length === 4,
      10_000,
    );
  });
});
