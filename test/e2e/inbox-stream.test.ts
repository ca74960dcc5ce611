import http from 'node:http';
import { startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { EventStreamReader, type ServerEvent } from '../support/sse';

interface Change {
  ids: number[];
  messages: { id: number; text: string; read_at: string | null }[];
  counts: { unread: number; unseen: number; total: number };
}
const dataOf = (e: ServerEvent) => JSON.parse(e.data) as Change;

/** The live inbox: every change to a recipient's inbox reaches its open streams, and a reconnect misses nothing. */
describe('the live inbox', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let other: TestTenant;
  let base: string;
  const streams: EventStreamReader[] = [];
  beforeAll(async () => {
    herald = await startTestHerald({
      HERALD_INBOX_STREAMS_PER_RECIPIENT: '3',
      HERALD_INBOX_HEARTBEAT_SECONDS: '0.2',
    });
    [tenant, other] = [await herald.createTenant(), await herald.createTenant()];
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
  }, 180_000);
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });
  afterAll(() => herald?.stop());

  const call = (auth: Record<string, string>, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
  async function tokenFor(recipient: string, of = tenant) {
    return (await call(of.auth, 'POST', `/recipients/${recipient}/tokens`, {})).json().token as string;
  }
  async function open(token: string, headers: Record<string, string> = {}) {
    const stream = await EventStreamReader.open(`${base}/inbox/stream?token=${encodeURIComponent(token)}`, headers);
    streams.push(stream);
    return stream;
  }
  async function send(recipient: string, text: string, of = tenant) {
    const res = await call(of.auth, 'POST', '/notify', {
      channels: ['in_app'],
      recipients: [{ id: recipient }],
      message: text,
    });
    expect(res.statusCode).toBe(202);
  }
  const texts = (events: ServerEvent[]) => events.flatMap((e) => dataOf(e).messages.map((m) => m.text));

  it('tells the counts at once, then each new message and change as it happens, with the counts', async () => {
    const stream = await open(await tokenFor('ada'));
    const [first] = await stream.until((e) => e.length >= 1);
    expect(first).toMatchObject({ event: 'counts', id: expect.stringMatching(/^\d+$/) });
    expect(JSON.parse(first!.data)).toEqual({ counts: { unread: 0, unseen: 0, total: 0 } });

    const sentAt = Date.now();
    await send('ada', 'Your order shipped');
    const [added] = (await stream.until((e) => e.some((x) => x.event === 'added'))).filter((e) => e.event === 'added');
    // Well inside a second on an idle machine; the bound here leaves room for a loaded one.
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(dataOf(added!)).toMatchObject({
      messages: [{ text: 'Your order shipped', read_at: null }],
      counts: { unread: 1, unseen: 1, total: 1 },
    });

    const id = dataOf(added!).ids[0]!;
    expect((await call(tenant.auth, 'POST', '/recipients/ada/inbox/read', { ids: [id] })).statusCode).toBe(200);
    const [changed] = (await stream.until((e) => e.some((x) => x.event === 'changed'))).filter(
      (e) => e.event === 'changed',
    );
    expect(dataOf(changed!)).toMatchObject({
      ids: [id],
      messages: [{ id, read_at: expect.any(String) }],
      counts: { unread: 0, unseen: 0, total: 1 },
    });
    expect(Number(changed!.id)).toBeGreaterThan(Number(added!.id));

    expect((await call(tenant.auth, 'DELETE', `/recipients/ada/inbox/messages/${id}`)).statusCode).toBe(204);
    const [deleted] = (await stream.until((e) => e.some((x) => x.event === 'deleted'))).filter(
      (e) => e.event === 'deleted',
    );
    expect(dataOf(deleted!)).toEqual({ ids: [id], messages: [], counts: { unread: 0, unseen: 0, total: 0 } });
    // Idle, it still says it is there.
    await stream.until(() => stream.comments >= 2);
  });

  it('resumes after Last-Event-ID with exactly what it missed, in order', async () => {
    const token = await tokenFor('bea');
    const first = await open(token);
    await send('bea', 'one');
    const seen = await first.until((e) => e.some((x) => x.event === 'added'));
    const lastId = seen.at(-1)!.id!;
    first.close();

    // While it is away: two more, one of them read.
    await send('bea', 'two');
    await send('bea', 'three');
    const listed = async () => (await call(tenant.auth, 'GET', '/recipients/bea/inbox')).json().messages;
    for (let i = 0; i < 200 && (await listed()).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    const two = (await listed()).find((m: { text: string }) => m.text === 'two');
    await call(tenant.auth, 'POST', '/recipients/bea/inbox/read', { ids: [two.id] });

    const again = await open(token, { 'last-event-id': lastId });
    await again.until((e) => e.some((x) => x.event === 'changed'));
    await new Promise((r) => setTimeout(r, 300));
    // What it missed and nothing else: the two messages added (one event each, or one for both when the
    // worker stored them in one statement), then the read; no `counts`, since it resumed.
    const events = again.events;
    expect(events.map((e) => e.event)).toEqual([...events.slice(0, -1).map(() => 'added'), 'changed']);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBeGreaterThan(Number(lastId));
    // Each message as it is now (`two` was read after it arrived), each once.
    expect(texts(again.named('added')).sort()).toEqual(['three', 'two']);
    expect(dataOf(again.named('changed')[0]!)).toMatchObject({
      ids: [two.id],
      counts: { unread: 2, unseen: 2, total: 3 },
    });
  });

  it('says reset when it cannot resume from the id given', async () => {
    const token = await tokenFor('cy');
    for (const lastId of ['999999999999', 'not-an-id']) {
      const stream = await open(token, { 'last-event-id': lastId });
      const [event] = await stream.until((e) => e.length >= 1);
      expect(event).toMatchObject({ event: 'reset', id: expect.stringMatching(/^\d+$/) });
    }
  });

  it("hears only its own recipient's inbox, in its own tenant", async () => {
    const stream = await open(await tokenFor('dee'));
    await send('dee', 'for the other tenant', other);
    await send('eve', 'for another recipient');
    await send('dee', 'for dee');
    await stream.until((e) => e.some((x) => x.event === 'added'));
    await new Promise((r) => setTimeout(r, 300));
    expect(texts(stream.named('added'))).toEqual(['for dee']);
  });

  it('is refused to an API key, a bad token, and past the limit per recipient', async () => {
    const key = await EventStreamReader.open(`${base}/inbox/stream`, tenant.auth);
    expect(key.status).toBe(401);
    expect(JSON.parse(key.events[0]!.data)).toMatchObject({
      field: 'authorization',
      detail: expect.stringMatching(/recipient token/),
    });
    const forged = await EventStreamReader.open(`${base}/inbox/stream?token=hrt_e30.bad`);
    expect(forged.status).toBe(401);

    const token = await tokenFor('fay');
    for (let i = 0; i < 3; i++) await (await open(token)).until((e) => e.length >= 1);
    const over = await EventStreamReader.open(`${base}/inbox/stream?token=${token}`);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.events[0]!.data)).toMatchObject({
      title: 'Too many live inboxes',
      detail: expect.stringMatching(/fay/),
    });
    // One closed, one more may open.
    streams.pop()!.close();
    await new Promise((r) => setTimeout(r, 200));
    expect((await open(token)).status).toBe(200);
  });

  it('answers a URL too long for the HTTP parser with a problem naming the fix', async () => {
    const url = `${base}/inbox/stream?token=${encodeURIComponent('é'.repeat(12_000))}`;
    const answer = await new Promise<{ status?: number; type?: string; body: string }>((resolve, reject) => {
      http
        .get(url, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
        })
        .on('error', reject);
    });
    expect(answer).toMatchObject({ status: 431, type: 'application/problem+json' });
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 431,
      detail: expect.stringContaining('Authorization header'),
    });
  });

  it('ends once its recipient is deleted', async () => {
    const stream = await open(await tokenFor('gus'));
    await send('gus', 'soon gone');
    await stream.until((e) => e.some((x) => x.event === 'added'));
    expect((await call(tenant.auth, 'DELETE', '/recipients/gus')).statusCode).toBe(200);
    await send('gus', 'to the same id, later');
    await stream.until(() => stream.ended);
    expect(texts(stream.named('added'))).toEqual(['soon gone']);
  });
});
