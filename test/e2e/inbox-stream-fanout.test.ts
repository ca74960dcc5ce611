import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../db/connect';
import { startHerald } from '../../main/herald';
import { Shutdown } from '../../runtime/shutdown';
import { isolatedDatabase, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { EventStreamReader } from '../support/sse';
import { testTracing } from '../support/tracing';
import { WebSocketReader } from '../support/websocket';

const url = process.env.DATABASE_URL;

/**
 * Two API processes on one PostgreSQL database, each with its own connections: a change made through
 * one reaches a live inbox open on the other, by the database's NOTIFY. PostgreSQL only: the embedded
 * database has one process.
 */
(url ? describe : describe.skip)('the live inbox across API processes', () => {
  let database: DatabaseHandle & { url?: string };
  let first: TestHerald;
  let tenant: TestTenant;
  let secondDatabase: DatabaseHandle;
  const secondShutdown = new Shutdown();
  const bases: string[] = [];
  const streams: EventStreamReader[] = [];
  const sockets: WebSocketReader[] = [];

  beforeAll(async () => {
    database = await isolatedDatabase();
    first = await startTestHerald({}, { database: async () => database });
    tenant = await first.createTenant();
    // The second API process: its own pool and listening connection on the same database.
    secondDatabase = await openDatabase({ url: database.url!, poolSize: 2 });
    const second = await startHerald({
      config: first.config,
      temporalAddress: first.temporalAddress,
      db: secondDatabase.db,
      listen: secondDatabase.listen,
      api: true,
      worker: false,
      devOutbox: true,
      tracing: testTracing(),
      shutdown: secondShutdown,
    });
    for (const api of [first.api, second.api!]) bases.push(await api.listen({ port: 0, host: '127.0.0.1' }));
  }, 180_000);
  afterAll(async () => {
    for (const s of streams) s.close();
    for (const s of sockets) s.terminate();
    await secondShutdown.run();
    await secondDatabase?.close();
    await first?.stop();
  });

  const call = async (base: string, method: string, path: string, body?: object) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...tenant.auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (res.status === 204 ? {} : await res.json()) as { token?: string } };
  };
  const open = async (base: string, recipient: string) => {
    const { json } = await call(base, 'POST', `/recipients/${recipient}/tokens`, {});
    const stream = await EventStreamReader.open(`${base}/inbox/stream`, { authorization: `Bearer ${json.token}` });
    streams.push(stream);
    await stream.until((e) => e.length >= 1);
    return stream;
  };
  /** The same inbox over WebSocket, the token in the Authorization header as a server-side client sends it. */
  const connect = async (base: string, recipient: string) => {
    const { json } = await call(base, 'POST', `/recipients/${recipient}/tokens`, {});
    const url = `${base.replace(/^http/, 'ws')}/inbox/stream`;
    const socket = await WebSocketReader.open(url, { authorization: `Bearer ${json.token}` });
    sockets.push(socket);
    await socket.until(() => socket.frames.length >= 1);
    return socket;
  };
  const notify = (base: string, recipient: string, text: string) =>
    call(base, 'POST', '/notify', { channels: ['in_app'], recipients: [{ id: recipient }], message: text });

  it('reaches a stream on one process from a change made through the other', async () => {
    const [onFirst, onSecond] = [await open(bases[0]!, 'ada'), await open(bases[1]!, 'ada')];
    const socket = await connect(bases[1]!, 'ada');
    // Accepted by the second process, stored by the worker beside the first.
    expect((await notify(bases[1]!, 'ada', 'hello from either')).status).toBe(202);
    for (const stream of [onFirst, onSecond]) await stream.until((e) => e.some((x) => x.event === 'added'));
    const id = JSON.parse(onSecond.named('added')[0]!.data).ids[0];
    // Read through the first: the stream on the second hears it.
    expect((await call(bases[0]!, 'POST', '/recipients/ada/inbox/read', { ids: [id] })).status).toBe(200);
    const [changed] = (await onSecond.until((e) => e.some((x) => x.event === 'changed'))).filter(
      (e) => e.event === 'changed',
    );
    expect(JSON.parse(changed!.data)).toMatchObject({ ids: [id], counts: { unread: 0, total: 1 } });
    // The WebSocket on the second process heard both as well.
    expect((await socket.first('added')).data).toMatchObject({ ids: [id] });
    expect((await socket.first('changed')).data).toMatchObject({ ids: [id], counts: { unread: 0, total: 1 } });
  });

  it('misses nothing while its listening connection is cut, once it is back', async () => {
    // A stream on each process, so each listens.
    const [stream] = [await open(bases[1]!, 'bea'), await open(bases[0]!, 'bea')];
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      // Every listening connection on this database: the processes open new ones within a second.
      const cut = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN %'`,
      );
      expect(cut.rowCount).toBe(2);
      // Stored (and announced) at once, while no process listens.
      await admin.query(
        `insert into inbox_messages (tenant_id, recipient_id, notification_id, delivery_key, text) values ($1, 'bea', 'n-cut', 'k-cut', 'sent while the line was cut')`,
        [tenant.id],
      );
    } finally {
      await admin.end();
    }
    const events = await stream.until((e) => e.some((x) => x.event === 'added'), 15_000);
    expect(events.filter((e) => e.event === 'added').map((e) => JSON.parse(e.data).messages[0].text)).toEqual([
      'sent while the line was cut',
    ]);
  });
});
