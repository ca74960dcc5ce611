import { createInbox, type Inbox, type InboxOptions } from '../../clients/inbox';
import type { EventSourceLike } from '../../clients/inbox/stream';
import { inboxMessage } from '../support/inbox-messages';

const message = inboxMessage;
const counts = (unread: number, total = unread) => ({ unread, unseen: unread, total });

interface Call {
  method: string;
  path: string;
  body?: unknown;
  authorization: string | null;
}
type Answer = { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>;

/** Herald's routes as the test answers them, every request written down. */
function fakeHerald(answer: (call: Call) => Answer) {
  const calls: Call[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const call: Call = {
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      authorization: new Headers(init?.headers).get('authorization'),
    };
    calls.push(call);
    const { status = 200, body } = await answer(call);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

/** EventSources the test drives: open them, send events, fail them. */
function fakeEventSources() {
  const opened: FakeEventSource[] = [];
  class FakeEventSource implements EventSourceLike {
    readyState = 0;
    private listeners = new Map<string, ((event: { data?: unknown }) => void)[]>();
    constructor(readonly url: string) {
      opened.push(this);
    }
    addEventListener(type: string, listener: (event: { data?: unknown }) => void) {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }
    close() {
      this.readyState = 2;
    }
    private fire(type: string, event: { data?: unknown }) {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    }
    open() {
      this.readyState = 1;
      this.fire('open', {});
    }
    send(kind: string, data: object) {
      this.fire(kind, { data: JSON.stringify(data) });
    }
    /** The connection broke: the browser reconnects (`for good` false), or gave up (refused). */
    fail(forGood: boolean) {
      this.readyState = forGood ? 2 : 0;
      this.fire('error', {});
    }
  }
  return { EventSource: FakeEventSource, opened, last: () => opened.at(-1)! };
}

/** Lets pending promises and timers of zero run. */
const settle = () => new Promise((r) => setTimeout(r, 5));

const BASE = 'https://herald.test';
let inboxes: Inbox[] = [];
function inbox(options: Partial<InboxOptions> & Pick<InboxOptions, 'fetch'>): Inbox {
  const made = createInbox({ baseUrl: BASE, recipientId: 'ada', token: 'hrt_one', ...options });
  inboxes.push(made);
  return made;
}
afterEach(() => {
  for (const made of inboxes) made.close();
  inboxes = [];
});

describe('the inbox client', () => {
  it("speaks the inbox routes with the recipient's token", async () => {
    const herald = fakeHerald(({ path }) =>
      path.startsWith('/settings') ? { body: { feeds: [{ name: 'billing' }] } } : { body: { messages: [] } },
    );
    const client = inbox({ fetch: herald.fetch, recipientId: 'ada lovelace' });
    await client.list({ view: 'unread', feed: 'billing', limit: 10, after: 'k1' });
    await client.change('snooze', { ids: [1, 2] }, new Date('2030-01-01T09:00:00Z'));
    await client.change('read', { all: true, category: 'billing' });
    await client.feeds();
    await client.counts(['billing', 'social']);
    expect(herald.calls).toEqual([
      {
        method: 'GET',
        path: '/recipients/ada%20lovelace/inbox?view=unread&feed=billing&limit=10&after=k1',
        authorization: 'Bearer hrt_one',
      },
      {
        method: 'POST',
        path: '/recipients/ada%20lovelace/inbox/snooze',
        body: { ids: [1, 2], until: '2030-01-01T09:00:00.000Z' },
        authorization: 'Bearer hrt_one',
      },
      {
        method: 'POST',
        path: '/recipients/ada%20lovelace/inbox/read',
        body: { all: true, category: 'billing' },
        authorization: 'Bearer hrt_one',
      },
      { method: 'GET', path: '/settings/inbox', authorization: 'Bearer hrt_one' },
      {
        method: 'GET',
        path: '/recipients/ada%20lovelace/inbox/counts?feeds=billing,social',
        authorization: 'Bearer hrt_one',
      },
    ]);
  });

  it('asks for a new token once when one is refused, and says why when that fails too', async () => {
    let issued = 0;
    const herald = fakeHerald(({ authorization }) =>
      authorization === 'Bearer hrt_2'
        ? { body: { messages: [] } }
        : { status: 401, body: { title: 'Unauthorized', detail: 'The recipient token has expired' } },
    );
    const client = inbox({ fetch: herald.fetch, token: async () => `hrt_${++issued}` });
    await expect(client.list()).resolves.toEqual({ messages: [] });
    await expect(client.list()).resolves.toEqual({ messages: [] });
    expect(issued).toBe(2);
    const refused = inbox({ fetch: herald.fetch, token: 'hrt_old' });
    await expect(refused.list()).rejects.toMatchObject({ status: 401, message: 'The recipient token has expired' });
  });
});

describe('the kept list', () => {
  /** An inbox of messages 1..n, newest first, in pages of `pageSize`, and the stream as the test drives it. */
  function live(n: number, pageSize = 50) {
    const all = Array.from({ length: n }, (_, i) => message(n - i));
    const herald = fakeHerald(({ path }) => {
      if (path.includes('/counts')) return { body: counts(n) };
      const after = new URL(path, BASE).searchParams.get('after');
      const from = after ? Number(after) : 0;
      const page = all.slice(from, from + pageSize);
      return { body: { messages: page, ...(from + pageSize < all.length ? { next: String(from + pageSize) } : {}) } };
    });
    const streams = fakeEventSources();
    const client = inbox({ fetch: herald.fetch, EventSource: streams.EventSource, pageSize });
    const seen: number[][] = [];
    client.subscribe((state) => seen.push(state.messages.map((m) => m.id)));
    return { client, herald, streams, seen, ids: () => client.state.messages.map((m) => m.id) };
  }

  it('loads once the stream is open, then follows its events: each message once, counts as the server says', async () => {
    const { client, herald, streams, ids } = live(2);
    await settle();
    expect(streams.last().url).toBe(`${BASE}/inbox/stream?token=hrt_one`);
    expect(herald.calls).toEqual([]);
    streams.last().open();
    streams.last().send('counts', { counts: counts(2) });
    await settle();
    expect(ids()).toEqual([2, 1]);
    expect(client.state).toMatchObject({ live: true, loading: false, counts: counts(2) });

    streams.last().send('added', { messages: [message(3)], ids: [3], counts: counts(3) });
    // A repeated event (a replay after a reconnect) changes nothing.
    streams.last().send('added', { messages: [message(3)], ids: [3], counts: counts(3) });
    expect(ids()).toEqual([3, 2, 1]);
    const read = message(2, { read_at: '2030-01-02T00:00:00.000Z', seen_at: '2030-01-02T00:00:00.000Z' });
    // The counts are the event's, whatever the list holds.
    streams.last().send('changed', { messages: [read], ids: [2], counts: { unread: 7, unseen: 6, total: 9 } });
    expect(client.state.messages[1]).toEqual(read);
    expect(client.state.counts).toEqual({ unread: 7, unseen: 6, total: 9 });
    streams.last().send('deleted', { messages: [], ids: [1], counts: counts(1, 2) });
    expect(ids()).toEqual([3, 2]);
    expect(herald.calls.map((c) => c.path)).toEqual(['/recipients/ada/inbox?view=feed&limit=50']);
  });

  it('pages on, and a message heard before its page comes only once', async () => {
    const { client, streams, ids } = live(5, 2);
    await settle();
    streams.last().open();
    streams.last().send('counts', { counts: counts(5) });
    await settle();
    expect(ids()).toEqual([5, 4]);
    expect(client.state.hasMore).toBe(true);
    // Message 3 changed: it belongs to the next page, which brings it.
    streams
      .last()
      .send('changed', { messages: [message(3, { read_at: '2030-01-02T00:00:00.000Z' })], counts: counts(4, 5) });
    expect(ids()).toEqual([5, 4]);
    await client.loadMore();
    await client.loadMore();
    expect(ids()).toEqual([5, 4, 3, 2, 1]);
    expect(client.state.hasMore).toBe(false);
  });

  it('starts over on a reset, and when the stream had to be opened anew with a new token', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'setImmediate'] });
    try {
      let issued = 0;
      const herald = fakeHerald(({ path }) => ({ body: path.includes('/counts') ? counts(0) : { messages: [] } }));
      const streams = fakeEventSources();
      const client = inbox({ fetch: herald.fetch, EventSource: streams.EventSource, token: () => `hrt_${++issued}` });
      client.subscribe(() => {});
      await jest.advanceTimersByTimeAsync(0);
      streams.last().open();
      streams.last().send('counts', { counts: counts(0) });
      await jest.advanceTimersByTimeAsync(0);
      const lists = () => herald.calls.filter((c) => c.path.includes('/inbox?')).length;
      expect(lists()).toBe(1);
      streams.last().send('reset', { counts: counts(0) });
      await jest.advanceTimersByTimeAsync(0);
      expect(lists()).toBe(2);
      // The browser reconnects by itself and resumes: nothing to load.
      streams.last().fail(false);
      expect(client.state.live).toBe(false);
      streams.last().open();
      expect(lists()).toBe(2);
      // Refused (its token expired): a new stream, a new token, and the list anew.
      streams.last().fail(true);
      await jest.advanceTimersByTimeAsync(1500);
      expect(streams.opened).toHaveLength(2);
      expect(streams.last().url).toBe(`${BASE}/inbox/stream?token=hrt_2`);
      streams.last().open();
      streams.last().send('counts', { counts: counts(0) });
      await jest.advanceTimersByTimeAsync(0);
      expect(lists()).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it('loads without the stream when there is none, and keeps trying it', async () => {
    const { client, herald, streams } = live(1);
    await settle();
    streams.last().fail(true);
    await settle();
    expect(client.state).toMatchObject({ live: false, counts: counts(1) });
    expect(client.state.messages.map((m) => m.id)).toEqual([1]);
    expect(herald.calls.map((c) => c.path).sort()).toEqual([
      '/recipients/ada/inbox/counts',
      '/recipients/ada/inbox?view=feed&limit=50',
    ]);
  });

  it('loses no event heard while a page loads, and brings back no message deleted meanwhile', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const herald = fakeHerald(async () => {
      await held;
      return { body: { messages: [message(2), message(1)] } };
    });
    const streams = fakeEventSources();
    const client = inbox({ fetch: herald.fetch, EventSource: streams.EventSource });
    client.subscribe(() => {});
    await settle();
    streams.last().open();
    streams.last().send('counts', { counts: counts(2) });
    await settle();
    streams.last().send('added', { messages: [message(3)], counts: counts(3) });
    streams.last().send('deleted', { ids: [1], messages: [], counts: counts(2) });
    release();
    await settle();
    expect(client.state.messages.map((m) => m.id)).toEqual([3, 2]);
  });

  it('shows a feed: only its categories, from the tenant’s feeds', async () => {
    const herald = fakeHerald(({ path }) =>
      path === '/settings/inbox'
        ? { body: { feeds: [{ name: 'money', categories: ['billing'] }] } }
        : { body: { messages: [message(1, { category: 'billing' })] } },
    );
    const streams = fakeEventSources();
    const client = inbox({ fetch: herald.fetch, EventSource: streams.EventSource });
    client.subscribe(() => {});
    await client.show({ feed: 'money' });
    streams.last().send('added', {
      messages: [message(3, { category: 'social' }), message(2, { category: 'billing' })],
      counts: counts(3),
    });
    expect(client.state.messages.map((m) => m.id)).toEqual([2, 1]);
    expect(herald.calls.map((c) => c.path)).toContain('/recipients/ada/inbox?view=feed&feed=money&limit=20');
    await client.show({ feed: 'nope' });
    expect(client.state.error?.message).toMatch(/no feed "nope"/);
  });
});

describe("the browser's other tabs", () => {
  /** Two tabs of one browser: the stream tells neither, so what one sees of the other came by the channel. */
  async function twoTabs() {
    const herald = fakeHerald(({ path }) => {
      if (path.endsWith('/read')) return { body: { changed: 2, counts: counts(0, 2) } };
      if (path.includes('/messages/')) return { status: 204 };
      if (path.includes('/counts')) return { body: counts(2) };
      return { body: { messages: [message(2), message(1)] } };
    });
    const tab = () => {
      const streams = fakeEventSources();
      const client = inbox({ fetch: herald.fetch, EventSource: streams.EventSource });
      client.subscribe(() => {});
      return { client, streams };
    };
    const [one, two] = [tab(), tab()];
    await settle();
    for (const { streams } of [one, two]) {
      streams.last().open();
      streams.last().send('counts', { counts: counts(2) });
    }
    await settle();
    return [one, two] as const;
  }

  it('learn of a change at once, counts included', async () => {
    const [one, two] = await twoTabs();
    await one.client.change('read', { all: true });
    await settle();
    for (const { client } of [one, two]) {
      expect(client.state.counts).toEqual(counts(0, 2));
      expect(client.state.messages.map((m) => m.read_at !== null)).toEqual([true, true]);
    }
    await one.client.remove(2);
    await settle();
    expect(two.client.state.messages.map((m) => m.id)).toEqual([1]);
  });

  it('let news from the stream stand over a change made before it', async () => {
    const [one, two] = await twoTabs();
    const change = one.client.change('read', { all: true });
    // Meanwhile the stream tells the second tab of something later: a new message, unread.
    await new Promise((r) => setTimeout(r, 2));
    two.streams.last().send('added', { messages: [message(3)], counts: counts(1, 3) });
    await change;
    await settle();
    expect(two.client.state.counts).toEqual(counts(1, 3));
    expect(one.client.state.counts).toEqual(counts(0, 2));
  });
});
