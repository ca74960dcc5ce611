import { startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { EventStreamReader, type ServerEvent } from '../support/sse';

interface Change {
  ids: number[];
  messages: { id: number; snoozed_until: string | null }[];
  counts: { unread: number; unseen: number; total: number };
}
const dataOf = (e: ServerEvent) => JSON.parse(e.data) as Change;

/** A snooze that ends is news: the message comes back to the feed of every open live inbox, with the counts. */
describe('a snoozed message waking', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let base: string;
  let stream: EventStreamReader | undefined;
  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_INBOX_SNOOZE_CHECK_SECONDS: '0.2' });
    tenant = await herald.createTenant();
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
  }, 180_000);
  afterAll(async () => {
    stream?.close();
    await herald?.stop();
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: tenant.auth, ...(payload ? { payload } : {}) });

  it('is told to the live inbox when its time comes, and is back in the feed and its counts', async () => {
    const sent = await call('POST', '/notify', { channels: ['in_app'], recipients: [{ id: 'kim' }], message: 'Later' });
    expect(sent.statusCode).toBe(202);
    const token = (await call('POST', '/recipients/kim/tokens', {})).json().token as string;
    stream = await EventStreamReader.open(`${base}/inbox/stream?token=${encodeURIComponent(token)}`);
    // The message is stored when either the first counts or an `added` event says so.
    await stream.until((e) => e.some((x) => dataOf(x).counts.total === 1));
    const id = (await feedIds())[0]!;

    const snoozedAt = performance.now();
    const until = new Date(Date.now() + 1500).toISOString();
    const snoozed = await call('POST', '/recipients/kim/inbox/snooze', { ids: [id], until });
    expect(snoozed.json()).toMatchObject({ counts: { total: 0 } });
    expect(await feedIds()).toEqual([]);

    const changes = (events: ServerEvent[]) =>
      events.filter((x) => x.event === 'changed' && dataOf(x).messages[0]?.snoozed_until === null);
    const [woke] = changes(await stream.until((e) => changes(e).length > 0));
    expect(woke!.receivedAt - snoozedAt).toBeGreaterThanOrEqual(1500 - 5);
    expect(dataOf(woke!)).toMatchObject({ ids: [id], counts: { total: 1, unread: 1 } });
    expect(await feedIds()).toEqual([id]);
  }, 30_000);

  async function feedIds(): Promise<number[]> {
    const feed = (await call('GET', '/recipients/kim/inbox')).json() as { messages: { id: number }[] };
    return feed.messages.map((m) => m.id);
  }
});
