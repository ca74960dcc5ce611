import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { openStream, webSocketEventSource, type WebSocketClass } from '../../clients/inbox/stream';
import { inboxMessages } from '../../db/schema';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { EventStreamReader } from '../support/sse';
import { SilentWebSocket, WebSocketReader, type InboxFrame } from '../support/websocket';

interface Change {
  ids: number[];
  messages: { id: number; text: string; read_at: string | null }[];
  counts: { unread: number; unseen: number; total: number };
}
/** Enough of them to fill a connection's buffers on both ends, and the API's 1 MiB past them. */
const MESSAGE_BYTES = 64 * 1024;
const MOST_MESSAGES = 500;
const dataOf = (frame: InboxFrame) => frame.data as unknown as Change;
const texts = (frames: InboxFrame[]) => frames.flatMap((f) => dataOf(f).messages.map((m) => m.text));

/** The live inbox's WebSocket option: the event stream's events, one JSON text frame each, on the same URL. */
describe('the live inbox over WebSocket', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let base: string;
  const sockets: WebSocketReader[] = [];
  const streams: EventStreamReader[] = [];
  beforeAll(async () => {
    herald = await startTestHerald({
      HERALD_INBOX_STREAMS_PER_RECIPIENT: '3',
      HERALD_INBOX_HEARTBEAT_SECONDS: '0.2',
    });
    tenant = await herald.createTenant();
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
  }, 180_000);
  afterEach(() => {
    for (const s of sockets.splice(0)) s.terminate();
    for (const s of streams.splice(0)) s.close();
  });
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: tenant.auth, ...(payload ? { payload } : {}) });
  async function tokenFor(recipient: string, ttl?: string) {
    return (await call('POST', `/recipients/${recipient}/tokens`, ttl ? { ttl } : {})).json().token as string;
  }
  const url = (query: string) => `${base.replace(/^http/, 'ws')}/inbox/stream${query}`;
  async function connect(token: string, query = '') {
    const socket = await WebSocketReader.open(url(`?token=${encodeURIComponent(token)}${query}`));
    sockets.push(socket);
    return socket;
  }
  async function eventStream(token: string) {
    const stream = await EventStreamReader.open(`${base}/inbox/stream?token=${encodeURIComponent(token)}`);
    streams.push(stream);
    return stream;
  }
  async function send(recipient: string, text: string) {
    const res = await call('POST', '/notify', { channels: ['in_app'], recipients: [{ id: recipient }], message: text });
    expect(res.statusCode).toBe(202);
  }

  it('sends the counts, then each new message and change as one JSON frame, the event stream’s events', async () => {
    const token = await tokenFor('ada');
    const socket = await connect(token);
    expect(socket.status).toBe(101);
    const beside = await eventStream(token);
    await socket.until(() => socket.frames.length >= 1);
    expect(socket.frames[0]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      event: 'counts',
      data: { counts: { unread: 0, unseen: 0, total: 0 } },
    });

    await send('ada', 'Your order shipped');
    const added = await socket.first('added');
    expect(Object.keys(added).sort()).toEqual(['data', 'event', 'id']);
    expect(dataOf(added)).toMatchObject({
      messages: [{ text: 'Your order shipped', read_at: null }],
      counts: { unread: 1, unseen: 1, total: 1 },
    });
    // The same event as the event stream's, id and payload.
    const [streamed] = (await beside.until((e) => e.some((x) => x.event === 'added'))).filter(
      (e) => e.event === 'added',
    );
    expect({ id: added.id, data: added.data }).toEqual({ id: streamed!.id, data: JSON.parse(streamed!.data) });

    const id = dataOf(added).ids[0]!;
    expect((await call('POST', '/recipients/ada/inbox/read', { ids: [id] })).statusCode).toBe(200);
    const changed = await socket.first('changed');
    expect(dataOf(changed)).toMatchObject({
      ids: [id],
      messages: [{ id, read_at: expect.any(String) }],
      counts: { unread: 0, unseen: 0, total: 1 },
    });
    expect(Number(changed.id)).toBeGreaterThan(Number(added.id));
    expect(socket.binaryFrames).toBe(0);
  });

  it('pings while idle, at the heartbeat', async () => {
    const socket = await connect(await tokenFor('bo'));
    await socket.until(() => socket.frames.length >= 1);
    await socket.until(() => socket.pings >= 3, 5000);
    expect(socket.closed).toBeUndefined();
    // Pings are frames of their own: no event came with them.
    expect(socket.frames.map((f) => f.event)).toEqual(['counts']);
  });

  it('resumes after ?last_event_id= with exactly what it missed, in order, each once', async () => {
    const token = await tokenFor('bea');
    const first = await connect(token);
    await send('bea', 'one');
    await first.first('added');
    const lastId = first.frames.at(-1)!.id;
    await first.close();

    // While it is away: two more, one of them read.
    await send('bea', 'two');
    await send('bea', 'three');
    const listed = await eventually(
      async () => (await call('GET', '/recipients/bea/inbox')).json().messages as { id: number; text: string }[],
      (messages) => messages.length === 3,
    );
    const two = listed.find((m) => m.text === 'two')!;
    expect((await call('POST', '/recipients/bea/inbox/read', { ids: [two.id] })).statusCode).toBe(200);

    const again = await connect(token, `&last_event_id=${lastId}`);
    await again.first('changed');
    // One more after it: once it comes, everything before it has (events come in the log's order).
    await send('bea', 'four');
    await again.until(() => texts(again.named('added')).includes('four'));
    const frames = again.frames;
    // No `counts`, since it resumed: the two messages added (one event each, or one for both when the
    // worker stored them in one statement), the read, then `four`.
    expect(frames.map((f) => f.event)).toEqual([...frames.slice(0, -2).map(() => 'added'), 'changed', 'added']);
    const ids = frames.map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBeGreaterThan(Number(lastId));
    expect(texts(frames.slice(0, -2)).sort()).toEqual(['three', 'two']);
    expect(dataOf(again.named('changed')[0]!)).toMatchObject({ ids: [two.id], counts: { unread: 2, total: 3 } });

    // An id Herald did not give cannot be resumed from: the client reloads.
    const lost = await connect(token, '&last_event_id=not-an-id');
    await lost.until(() => lost.frames.length >= 1);
    expect(lost.frames[0]).toMatchObject({ event: 'reset', id: expect.stringMatching(/^\d+$/) });
  });

  it('is refused before the upgrade to an API key or a bad token, with the problem the event stream gets', async () => {
    const key = await WebSocketReader.open(url(''), tenant.auth);
    expect(key.status).toBe(401);
    expect(key.refusal?.contentType).toMatch(/^application\/problem\+json/);
    expect(key.refusal?.body).toMatchObject({
      status: 401,
      field: 'authorization',
      detail: expect.stringMatching(/recipient token/),
    });
    const streamed = await EventStreamReader.open(`${base}/inbox/stream`, tenant.auth);
    expect(key.refusal?.body).toEqual(JSON.parse(streamed.events[0]!.data));

    const forged = await WebSocketReader.open(url('?token=hrt_e30.bad'));
    expect(forged.status).toBe(401);
    expect(forged.refusal?.body).toMatchObject({ field: 'authorization' });
    const none = await WebSocketReader.open(url(''));
    expect(none.status).toBe(401);
  });

  it('counts WebSockets and event streams together against the limit per recipient', async () => {
    const token = await tokenFor('fay');
    const open = [await connect(token), await eventStream(token), await connect(token)];
    for (const one of open)
      await (one instanceof WebSocketReader
        ? one.until(() => one.frames.length >= 1)
        : one.until((e) => e.length >= 1));

    const over = await connect(token);
    expect(over.status).toBe(429);
    expect(over.refusal?.body).toMatchObject({ title: 'Too many live inboxes', detail: expect.stringMatching(/fay/) });
    expect((await eventStream(token)).status).toBe(429);

    // One closed, and one dropped without a close: each frees its place (and the refusals took none).
    await (open[0] as WebSocketReader).close();
    const reopened = await eventually(
      () => connect(token),
      (s) => s.status === 101,
    );
    await reopened.until(() => reopened.frames.length >= 1);
    (open[2] as WebSocketReader).terminate();
    expect(
      (
        await eventually(
          () => eventStream(token),
          (s) => s.status === 200,
        )
      ).status,
    ).toBe(200);
  });

  it('closes with 4401 once its token expires, or its recipient is deleted', async () => {
    const brief = await connect(await tokenFor('cy', '1s'));
    await brief.until(() => brief.closed !== undefined, 5000);
    expect(brief.closed).toEqual({ code: 4401, reason: expect.stringMatching(/expired/) });

    const socket = await connect(await tokenFor('gus'));
    await send('gus', 'soon gone');
    await socket.first('added');
    expect((await call('DELETE', '/recipients/gus')).statusCode).toBe(200);
    await send('gus', 'to the same id, later');
    await socket.until(() => socket.closed !== undefined);
    expect(socket.closed).toEqual({ code: 4401, reason: expect.stringMatching(/revoked/) });
    expect(texts(socket.named('added'))).toEqual(['soon gone']);
  });

  it('lets go of a client that leaves too much unread, and only that one', async () => {
    const token = await tokenFor('hal');
    const slow = await SilentWebSocket.open(url(`?token=${token}`));
    await slow.until(() => slow.frames.length >= 1);
    const others = [await connect(token), await connect(token)];
    for (const other of others) await other.until(() => other.frames.length >= 1);
    expect((await connect(token)).status).toBe(429);

    slow.pause();
    // Message after message, each heard by the clients that read before the next: what the slow one
    // does not take fills the sockets' buffers, then waits in the API until there is too much.
    // The slow one is let go once fewer than the three are open: true from its close on, however long it takes.
    const closing = () =>
      [...herald.api.websocketServer.clients].filter((c) => c.readyState === c.OPEN).length < 1 + others.length;
    let sent = 0;
    for (; !closing() && sent < MOST_MESSAGES; sent++) {
      await herald.db.insert(inboxMessages).values({
        tenantId: tenant.id,
        recipientId: 'hal',
        notificationId: `n-slow-${sent}`,
        // Unique across runs: a PostgreSQL database outlives the test.
        deliveryKey: randomUUID(),
        text: 'x'.repeat(MESSAGE_BYTES),
      });
      for (const other of others) await other.until(() => other.named('added').length === sent + 1);
    }
    expect(closing()).toBe(true);
    // Its place is freed ...
    await eventually(
      () => connect(token),
      (s) => s.status === 101,
    );
    // ... its connection ended, and what it had not taken dropped: it resumes from the last event it read.
    slow.resume();
    await slow.until(() => slow.ended);
    expect(slow.frames.filter((f) => f.opcode === 1).length).toBeLessThan(1 + sent);
    expect(others.map((o) => o.closed)).toEqual([undefined, undefined]);
  }, 60_000);

  it("is what the headless client hears through its WebSocket option, as from EventSource's", async () => {
    const token = await tokenFor('ivy');
    const heard: { kind: string; data: unknown; fresh: boolean }[] = [];
    const states: boolean[] = [];
    const live = openStream(
      async () => `${base}/inbox/stream?token=${encodeURIComponent(token)}`,
      webSocketEventSource(WebSocket as unknown as WebSocketClass),
      {
        event: (kind, data, fresh) => heard.push({ kind, data, fresh }),
        live: (l) => states.push(l),
        closed: () => {},
      },
    );
    try {
      await eventually(
        async () => heard.length,
        (n) => n >= 1,
      );
      expect(heard[0]).toEqual({ kind: 'counts', data: { counts: { unread: 0, unseen: 0, total: 0 } }, fresh: true });
      expect(states).toEqual([true]);
      await send('ivy', 'hello');
      await eventually(
        async () => heard.length,
        (n) => n >= 2,
      );
      expect(heard[1]).toMatchObject({ kind: 'added', data: { messages: [{ text: 'hello' }] }, fresh: false });
    } finally {
      live.close();
    }
  });

  // Last: it stops the API.
  it('closes its sockets with 1001 when the API stops, and a client that never answers does not hold the stop', async () => {
    const token = await tokenFor('dee');
    const socket = await connect(token);
    await socket.until(() => socket.frames.length >= 1);
    const silent = await SilentWebSocket.open(url(`?token=${token}`));
    expect(silent.status).toBe(101);
    await silent.until(() => silent.frames.length >= 1);

    const started = Date.now();
    await herald.api.close();
    // ws would wait 30 s for the silent client's answer to the close.
    expect(Date.now() - started).toBeLessThan(10_000);
    await socket.until(() => socket.closed !== undefined);
    expect(socket.closed).toEqual({ code: 1001, reason: expect.stringMatching(/stopping/) });
    await silent.until(() => silent.ended);
    expect(silent.close).toEqual({ code: 1001, reason: expect.stringMatching(/stopping/) });
  });
});
