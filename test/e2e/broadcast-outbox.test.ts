import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { WorkflowNotFoundError, type Client, type Connection } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { StartDispatcher } from '../../api/start-dispatcher';
import type { DatabaseHandle } from '../../db/connect';
import { auditEvents, broadcastChunks, devOutbox, pendingStarts } from '../../db/schema';
import { broadcastWorkflowId } from '../../domain/broadcast';
import { startHerald } from '../../main/herald';
import { loadConfig } from '../../runtime/config';
import { Shutdown } from '../../runtime/shutdown';
import { connectClient } from '../../runtime/temporal';
import { createTenant, eventually, isolatedDatabase, workflowBundle, type TestTenant } from '../support/herald';
import { freePort } from '../support/temporal';
import { testTracing } from '../support/tracing';

/**
 * A door on the way to the Temporal server: open, it passes connections through; shut, it cuts those it
 * passed and nothing listens on its port, as when the server is down or the network between is.
 */
class TemporalDoor {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    private readonly target: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const [host, port] = this.target.split(':');
    const server = net.createServer((inbound) => {
      const outbound = net.connect(Number(port), host);
      for (const socket of [inbound, outbound]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async shut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

const audience = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, email: `${tag}-${i}@example.com` }));

/**
 * POST /broadcasts is as durable as /notify: the broadcast, its chunks and its pending start are committed
 * together and answered 202; a dispatcher starts it whenever Temporal answers, in this API or another.
 */
describe('a broadcast accepted through the pending-start outbox', () => {
  const realTemporal = process.env.HERALD_TEST_TEMPORAL_ADDRESS!;
  const taskQueue = `test-${randomUUID()}`;
  const running: Shutdown[] = [];
  let database: DatabaseHandle;
  let tenant: TestTenant;
  let door: TemporalDoor;
  let temporal: { client: Client; connection: Connection };
  /** An API whose Temporal client goes through the door. */
  let behindDoor: Awaited<ReturnType<typeof herald>>;

  /** Herald's API or worker on the test's database; the task queue is the test's unless given. */
  async function herald(temporalAddress: string, role: 'api' | 'worker', queue = taskQueue) {
    const shutdown = new Shutdown();
    running.push(shutdown);
    const config = loadConfig({
      HERALD_TASK_QUEUE: queue,
      HERALD_SHUTDOWN_GRACE_SECONDS: '1',
      HERALD_RETRY_WINDOW_SECONDS: '0',
    });
    const started = await startHerald({
      config,
      temporalAddress,
      db: database.db,
      api: role === 'api',
      worker: role === 'worker',
      devOutbox: true,
      workflowBundle: role === 'worker' ? await workflowBundle() : undefined,
      tracing: testTracing(),
      shutdown,
    });
    return { api: started.api!, stop: () => shutdown.run() };
  }

  beforeAll(async () => {
    database = await isolatedDatabase();
    tenant = await createTenant(database);
    door = new TemporalDoor(await freePort(), realTemporal);
    await door.open();
    temporal = await connectClient(loadConfig({}), realTemporal);
    // The worker reaches Temporal directly; unconfigured email goes to the dev outbox.
    await herald(realTemporal, 'worker');
    behindDoor = await herald(door.address, 'api');
  });
  afterAll(async () => {
    for (const shutdown of running.reverse()) await shutdown.run();
    await door?.shut();
    await temporal?.connection.close();
    await database?.close();
  });

  type Api = Awaited<ReturnType<typeof herald>>['api'];
  const post = (api: Api, body: object, headers: Record<string, string> = {}, auth = tenant.auth) =>
    api.inject({ method: 'POST', url: '/broadcasts', headers: { ...auth, ...headers }, payload: body });
  const progress = (api: Api, id: string, auth = tenant.auth) =>
    api.inject({ method: 'GET', url: `/broadcasts/${id}`, headers: auth }).then((r) => r.json());
  const ended = (api: Api, id: string, auth = tenant.auth) =>
    eventually(
      () => progress(api, id, auth),
      (p) => ['completed', 'cancelled', 'failed'].includes(p.status),
      90_000,
    );
  const workflowOf = (id: string, tenantId = tenant.id) =>
    temporal.client.workflow.getHandle(broadcastWorkflowId(tenantId, id));
  const workflowExists = (id: string) =>
    workflowOf(id)
      .describe()
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        },
      );
  /** Where the broadcast's emails went, one entry per message sent. */
  const sentTo = async (id: string) =>
    (await database.db.select({ to: devOutbox.recipient }).from(devOutbox).where(eq(devOutbox.notificationId, id)))
      .map((m) => m.to)
      .sort();
  const chunksLeft = async (id: string) =>
    (await database.db.select().from(broadcastChunks).where(eq(broadcastChunks.broadcastId, id))).length;
  const pendingFor = async (id: string, tenantId = tenant.id) =>
    (
      await database.db
        .select()
        .from(pendingStarts)
        .where(eq(pendingStarts.workflowId, broadcastWorkflowId(tenantId, id)))
    ).length;
  const emails = (members: { email: string }[]) => members.map((m) => m.email).sort();

  it('answers 202 while Temporal is unreachable, then sends every recipient once and keeps no contacts', async () => {
    const members = audience(600, 'down');
    let id: string;
    await door.shut();
    try {
      const res = await post(behindDoor.api, {
        channels: ['email'],
        recipients: members,
        message: { subject: 'Back soon', text: 'Sent once Temporal answers' },
      });
      expect(res.statusCode).toBe(202);
      id = res.json().broadcast_id;
      expect(await workflowExists(id)).toBe(false);
      expect(await pendingFor(id)).toBe(1);
    } finally {
      await door.open();
    }
    const done = await ended(behindDoor.api, id);
    expect(done).toMatchObject({
      status: 'completed',
      recipients: 600,
      chunks: { total: 2, completed: 2, failed: 0 },
      deliveries: { delivered: 600 },
    });
    expect(await sentTo(id)).toEqual(emails(members));
    expect(await chunksLeft(id)).toBe(0);
    expect(await pendingFor(id)).toBe(0);
  }, 150_000);

  it('answers a retry with the same Idempotency-Key while the start is pending with the same broadcast, sent once', async () => {
    // Room for two takes of three: two concurrent requests may both take before one finds the other's row.
    const small = await createTenant(database, { dailyQuota: 6 });
    const members = audience(3, 'retried');
    const body = { channels: ['email'], recipients: members, message: 'Once, however often asked' };
    const key = { 'idempotency-key': `launch-${randomUUID()}` };
    let id: string;
    await door.shut();
    try {
      const [first, concurrent] = await Promise.all([
        post(behindDoor.api, body, key, small.auth),
        post(behindDoor.api, body, key, small.auth),
      ]);
      const later = await post(behindDoor.api, body, key, small.auth);
      for (const res of [first, concurrent, later]) expect(res.statusCode).toBe(202);
      id = first.json().broadcast_id;
      expect([concurrent, later].map((r) => r.json().broadcast_id)).toEqual([id, id]);
      const other = await post(behindDoor.api, { ...body, message: 'Something else' }, key, small.auth);
      expect(other.statusCode).toBe(409);
      expect(other.json()).toMatchObject({ field: 'idempotency-key' });
      expect(await pendingFor(id, small.id)).toBe(1);
    } finally {
      await door.open();
    }
    // The retries took nothing from the quota, or gave it back: three recipients are left for another.
    const another = await post(behindDoor.api, { ...body, recipients: audience(3, 'another') }, {}, small.auth);
    expect(another.statusCode).toBe(202);
    expect(another.headers['ratelimit-remaining']).toBe('0');
    const [done] = await Promise.all([
      ended(behindDoor.api, id, small.auth),
      ended(behindDoor.api, another.json().broadcast_id, small.auth),
    ]);
    expect(done).toMatchObject({ status: 'completed', deliveries: { delivered: 3 } });
    expect(await sentTo(id)).toEqual(emails(members));
    const created = await database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.notificationId, id), eq(auditEvents.action, 'broadcast.created')));
    expect(created).toHaveLength(1);

    // Retried after it ran: the same answer, and nothing to start again.
    const { runId } = await workflowOf(id, small.id).describe();
    const again = await post(behindDoor.api, body, key, small.auth);
    expect(again.statusCode).toBe(202);
    expect(again.json().broadcast_id).toBe(id);
    expect(await pendingFor(id, small.id)).toBe(0);
    expect((await workflowOf(id, small.id).describe()).runId).toBe(runId);
  }, 150_000);

  it('is sent by another API on the same database when the one that accepted it stops before starting it', async () => {
    const members = audience(3, 'crashed');
    const accepting = await herald(door.address, 'api');
    let id: string;
    await door.shut();
    try {
      const res = await post(accepting.api, { channels: ['email'], recipients: members, message: 'Still sent' });
      expect(res.statusCode).toBe(202);
      id = res.json().broadcast_id;
    } finally {
      // Gone before Temporal answered it: its claim on the start runs out and another API takes it.
      await accepting.stop();
      await door.open();
    }
    expect(await workflowExists(id)).toBe(false);
    const next = await herald(realTemporal, 'api');
    try {
      expect(await ended(next.api, id)).toMatchObject({ status: 'completed', deliveries: { delivered: 3 } });
    } finally {
      await next.stop();
    }
    expect(await sentTo(id)).toEqual(emails(members));
    expect(await chunksLeft(id)).toBe(0);
  }, 150_000);

  it('sends nothing of a broadcast cancelled while its start is pending, and keeps no contacts', async () => {
    const members = audience(600, 'cancelled');
    let id: string;
    await door.shut();
    try {
      const res = await post(behindDoor.api, { channels: ['email'], recipients: members, message: 'Never sent' });
      expect(res.statusCode).toBe(202);
      id = res.json().broadcast_id;
      // Held by a dispatcher, as while Temporal is slow to answer its start: no dispatcher starts it meanwhile.
      await database.db
        .update(pendingStarts)
        .set({ claimedUntil: new Date(Date.now() + 3_600_000) })
        .where(eq(pendingStarts.workflowId, broadcastWorkflowId(tenant.id, id)));
    } finally {
      await door.open();
    }
    const direct = await herald(realTemporal, 'api');
    try {
      const cancel = await direct.api.inject({
        method: 'POST',
        url: `/broadcasts/${id}/cancel`,
        headers: tenant.auth,
      });
      expect(cancel.statusCode).toBe(202);
      expect(await ended(direct.api, id)).toMatchObject({ status: 'cancelled', chunks: { completed: 0 } });
    } finally {
      await direct.stop();
    }
    expect(await sentTo(id)).toEqual([]);
    expect(await chunksLeft(id)).toBe(0);
    expect(await pendingFor(id)).toBe(0);
  }, 150_000);

  it("deletes a broadcast's contacts when its workflow ends without finishing (terminated)", async () => {
    // An API whose task queue no worker polls: the broadcast's workflow starts and waits there.
    const idle = await herald(realTemporal, 'api', `idle-${randomUUID()}`);
    const res = await post(idle.api, { channels: ['email'], recipients: audience(600, 'ended'), message: 'x' });
    expect(res.statusCode).toBe(202);
    const id = res.json().broadcast_id;
    await eventually(
      () => workflowExists(id),
      (yes) => yes,
      30_000,
    );
    await workflowOf(id).terminate('stopped by an operator');
    const sweeping = new StartDispatcher({
      db: database.db,
      temporal: temporal.client,
      taskQueue: `sweep-${randomUUID()}`,
      eagerStart: false,
      log: pino({ level: 'silent' }),
      sweepMs: 200,
    });
    try {
      await eventually(
        () => chunksLeft(id),
        (n) => n === 0,
        30_000,
      );
    } finally {
      await sweeping.stop();
    }
    expect(await progress(idle.api, id)).toMatchObject({ status: 'cancelled' });
    await idle.stop();
  }, 90_000);
});
