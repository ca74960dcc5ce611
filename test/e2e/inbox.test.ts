import { receiptsReceived } from '../../observability/metrics';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

interface Message {
  id: number;
  notification_id: string;
  text: string;
  created_at: string;
  category?: string;
  seen_at: string | null;
  read_at: string | null;
  interacted_at: string | null;
  archived_at: string | null;
  snoozed_until: string | null;
}

/** The in-app inbox: states with their times, pages keyed by position, counts, changes by ids or filter. */
describe('the in-app inbox', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  beforeAll(async () => {
    herald = await startTestHerald();
    tenant = await herald.createTenant();
  }, 180_000);
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: tenant.auth, ...(payload ? { payload } : {}) });
  const list = async (recipient: string, query = '') => {
    const res = await call('GET', `/recipients/${recipient}/inbox${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as { messages: Message[]; next?: string };
  };
  const counts = async (recipient: string, query = '') =>
    (await call('GET', `/recipients/${recipient}/inbox/counts${query}`)).json();
  const act = async (recipient: string, action: string, body: object) => {
    const res = await call('POST', `/recipients/${recipient}/inbox/${action}`, body);
    expect(res.statusCode).toBe(200);
    return res.json() as { changed: number; counts: { unread: number; unseen: number; total: number } };
  };
  const sorted = (ids: number[]) => [...ids].sort((x, y) => x - y);
  const idsOf = (page: { messages: Message[] }) => sorted(page.messages.map((m) => m.id));
  /** Sends `texts` to the recipient's inbox, one notification each, and waits until all are stored. */
  async function send(recipient: string, texts: string[], category?: string) {
    const before = (await list(recipient, '?view=all&limit=200')).messages.length;
    for (const text of texts) {
      const res = await call('POST', '/notify', {
        channels: ['in_app'],
        recipients: [{ id: recipient }],
        message: text,
        ...(category ? { category } : {}),
      });
      expect(res.statusCode).toBe(202);
    }
    await eventually(
      () => list(recipient, '?view=all&limit=200'),
      (l) => l.messages.length === before + texts.length,
    );
  }

  it('pages newest first without repeating or skipping a message while new ones arrive', async () => {
    await send(
      'pager',
      Array.from({ length: 7 }, (_, i) => `page test ${i}`),
    );
    // The order the inbox has them in (sent together, they are stored in whatever order they arrive).
    const whole = (await list('pager', '?limit=200')).messages;
    for (let i = 1; i < whole.length; i++) expect(whole[i]!.created_at <= whole[i - 1]!.created_at).toBe(true);
    const seen: string[] = [];
    let page = await list('pager', '?limit=3');
    for (;;) {
      seen.push(...page.messages.map((m) => m.text));
      if (!page.next) break;
      // New messages between two pages go to the top, not into a later page.
      await send('pager', [`arrived after ${seen.length}`]);
      page = await list('pager', `?limit=3&after=${page.next}`);
    }
    expect(seen).toEqual(whole.map((m) => m.text));
    expect((await list('pager', '?limit=200')).messages).toHaveLength(7 + 2);
  });

  it('keeps when each message was seen and read, and counts them, by ids and by filter', async () => {
    await send('reader', ['bill 1', 'bill 2'], 'billing');
    await send('reader', ['news 1', 'news 2'], 'news');
    const messages = (await list('reader')).messages;
    const [news2, news1, bill2, bill1] = ['news 2', 'news 1', 'bill 2', 'bill 1'].map((text) =>
      messages.find((m) => m.text === text),
    );
    expect(news2).toMatchObject({ text: 'news 2', category: 'news', seen_at: null, read_at: null });
    expect(await counts('reader')).toEqual({ unread: 4, unseen: 4, total: 4 });

    const shown = await act('reader', 'seen', { ids: [news2!.id, news1!.id] });
    expect(shown).toEqual({ changed: 2, counts: { unread: 4, unseen: 2, total: 4 } });
    const seenAt = (await list('reader')).messages.find((m) => m.id === news2!.id)!.seen_at;
    expect(seenAt).toEqual(expect.any(String));

    // Read one category only: the other is left alone.
    const billing = await act('reader', 'read', { all: true, category: 'billing' });
    expect(billing).toEqual({ changed: 2, counts: { unread: 2, unseen: 0, total: 4 } });
    expect(await counts('reader', '?category=news')).toEqual({ unread: 2, unseen: 0, total: 2 });

    // "Mark all read" moves no one's seen_at, and counts only what it changed.
    const all = await act('reader', 'read', { all: true });
    expect(all.changed).toBe(2);
    expect(all.counts).toEqual({ unread: 0, unseen: 0, total: 4 });
    const after = (await list('reader')).messages;
    expect(after.find((m) => m.id === news2!.id)!.seen_at).toBe(seenAt);
    expect(after.every((m) => m.read_at !== null)).toBe(true);

    expect(await act('reader', 'unread', { ids: [bill1!.id] })).toEqual({
      changed: 1,
      counts: { unread: 1, unseen: 0, total: 4 },
    });
    expect((await list('reader', '?view=unread')).messages.map((m) => m.id)).toEqual([bill1!.id]);
    // Marking read what is read already changes nothing.
    expect((await act('reader', 'read', { ids: [bill2!.id] })).changed).toBe(0);
  });

  it('archives, brings back, snoozes and deletes', async () => {
    await send('keeper', ['keep 1', 'keep 2', 'keep 3']);
    const kept = (await list('keeper')).messages;
    const [k3, k2, k1] = ['keep 3', 'keep 2', 'keep 1'].map((text) => kept.find((m) => m.text === text));
    expect((await act('keeper', 'archive', { ids: [k1!.id, k2!.id] })).counts).toEqual({
      unread: 1,
      unseen: 1,
      total: 1,
    });
    expect((await list('keeper')).messages.map((m) => m.id)).toEqual([k3!.id]);
    expect(idsOf(await list('keeper', '?view=archived'))).toEqual(sorted([k2!.id, k1!.id]));
    expect((await act('keeper', 'unarchive', { all: true })).changed).toBe(2);

    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await act('keeper', 'snooze', { ids: [k3!.id], until })).counts.total).toBe(2);
    expect((await list('keeper', '?view=snoozed')).messages).toEqual([
      expect.objectContaining({ id: k3!.id, snoozed_until: until }),
    ]);
    expect(idsOf(await list('keeper'))).toEqual(sorted([k2!.id, k1!.id]));

    expect((await call('DELETE', `/recipients/keeper/inbox/messages/${k1!.id}`)).statusCode).toBe(204);
    const again = await call('DELETE', `/recipients/keeper/inbox/messages/${k1!.id}`);
    expect(again.statusCode).toBe(404);
    expect(idsOf(await list('keeper', '?view=all'))).toEqual(sorted([k3!.id, k2!.id]));
    // Another recipient's message is not this one's to change.
    expect((await call('DELETE', `/recipients/reader/inbox/messages/${k2!.id}`)).statusCode).toBe(404);
    expect((await act('reader', 'archive', { ids: [k2!.id] })).changed).toBe(0);
  });

  it('is read: its delivery shows `opened`, and a fallback `unless: read` is not sent', async () => {
    const notify = async (recipient: string) => {
      const res = await call('POST', '/notify', {
        channels: ['in_app'],
        recipients: [{ id: recipient, email: `${recipient}@example.com` }],
        message: `Your invoice, ${recipient}`,
        // Long enough that a loaded machine reads the message before the fallback is due.
        fallback: { channels: ['email'], after: '15s', unless: 'read' },
      });
      expect(res.statusCode).toBe(202);
      return res.json().notification_id as string;
    };
    // The fallback is due 15 s after the accept: a loaded machine may take longer to settle it.
    const settled = (id: string) =>
      eventually(
        () => call('GET', `/status/${id}`).then((r) => r.json()),
        (s) => !['accepted', 'sending'].includes(s.status),
        45_000,
      );
    const [reads, ignores] = [await notify('reads'), await notify('ignores')];
    const [message] = (
      await eventually(
        () => list('reads'),
        (l) => l.messages.length === 1,
      )
    ).messages;
    expect((await act('reads', 'read', { ids: [message!.id] })).changed).toBe(1);

    const read = await settled(reads);
    expect(read.deliveries).toEqual([expect.objectContaining({ channel: 'in_app', status: 'opened' })]);
    expect(read.timeline.map((e: { event: string }) => e.event)).toContain('skipped');
    // Not read in the app: the email goes.
    const ignored = await settled(ignores);
    expect(ignored.deliveries.map((d: { channel: string }) => d.channel).sort()).toEqual(['email', 'in_app']);
  });

  it('sends a read receipt once, though the message is made unread and read again', async () => {
    await send('rereads', ['Read me twice']);
    const [message] = (await list('rereads')).messages;
    const opened = async () =>
      (await receiptsReceived.get()).values.find((v) => v.labels.status === 'opened')?.value ?? 0;
    const before = await opened();
    await act('rereads', 'read', { ids: [message!.id] });
    expect(await opened()).toBe(before + 1);
    await eventually(
      () => call('GET', `/status/${message!.notification_id}`).then((r) => r.json()),
      (s) => s.deliveries?.[0]?.status === 'opened',
    );
    for (let i = 0; i < 3; i++) {
      expect((await act('rereads', 'unread', { ids: [message!.id] })).changed).toBe(1);
      expect((await act('rereads', 'read', { ids: [message!.id] })).changed).toBe(1);
    }
    expect(await opened()).toBe(before + 1);
  });

  it('records an action button used: read and seen too, and its delivery `clicked`', async () => {
    await send('clicker', ['Your report is ready']);
    const [message] = (await list('clicker')).messages;
    expect(await act('clicker', 'interacted', { ids: [message!.id] })).toEqual({
      changed: 1,
      counts: { unread: 0, unseen: 0, total: 1 },
    });
    const [after] = (await list('clicker')).messages;
    expect(after!.interacted_at).toEqual(expect.any(String));
    expect(after!.read_at).toBe(after!.interacted_at);
    const status = await eventually(
      () => call('GET', `/status/${message!.notification_id}`).then((r) => r.json()),
      (s) => s.deliveries?.[0]?.status === 'clicked',
    );
    expect(status.deliveries[0]).toMatchObject({ channel: 'in_app', status: 'clicked' });
    // Used again: nothing changes, and its first time stays.
    expect((await act('clicker', 'interacted', { ids: [message!.id] })).changed).toBe(0);
  });

  it("narrows lists, counts and changes to the tenant's feeds", async () => {
    const feeds = {
      feeds: [
        { name: 'money', categories: ['billing', 'payouts'] },
        { name: 'social', categories: ['mentions'] },
        { name: 'everything' },
      ],
    };
    const saved = await call('PUT', '/settings/inbox', feeds);
    expect(saved.statusCode).toBe(200);
    expect((await call('GET', '/settings/inbox')).json()).toEqual(feeds);
    await send('tabs', ['invoice'], 'billing');
    await send('tabs', ['payout'], 'payouts');
    await send('tabs', ['you were mentioned'], 'mentions');
    await send('tabs', ['no category']);

    const texts = async (query: string) => (await list('tabs', query)).messages.map((m) => m.text).sort();
    expect(await texts('?feed=money')).toEqual(['invoice', 'payout']);
    expect(await texts('?feed=money&category=payouts')).toEqual(['payout']);
    expect(await texts('?feed=everything')).toHaveLength(4);
    expect(await counts('tabs', '?feeds=money,social')).toEqual({
      unread: 4,
      unseen: 4,
      total: 4,
      feeds: { money: { unread: 2, unseen: 2, total: 2 }, social: { unread: 1, unseen: 1, total: 1 } },
    });
    // "Mark all read" on one tab leaves the others alone.
    expect(await act('tabs', 'read', { all: true, feed: 'money' })).toMatchObject({
      changed: 2,
      counts: { unread: 2 },
    });
    expect((await counts('tabs', '?feeds=social')).feeds.social.unread).toBe(1);

    const unknown = await call('GET', '/recipients/tabs/inbox?feed=news');
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({
      field: 'feed',
      detail: 'No feed "news": this tenant\'s are money, social, everything',
    });
    expect((await call('GET', '/recipients/tabs/inbox/counts?feeds=money,news')).json()).toMatchObject({
      status: 422,
      field: 'feeds',
    });
    const twice = await call('PUT', '/settings/inbox', { feeds: [{ name: 'a' }, { name: 'a' }] });
    expect(twice.json()).toMatchObject({ status: 422, field: 'feeds[1].name' });
    expect((await call('POST', '/recipients/tabs/inbox/read', { ids: [1], feed: 'money' })).json()).toMatchObject({
      status: 422,
      field: 'feed',
    });
  });

  it('says which field is wrong and how to fix it', async () => {
    const problem = async (action: string, body: object) => {
      const res = await call('POST', `/recipients/someone/inbox/${action}`, body);
      return { status: res.statusCode, field: res.json().field, detail: res.json().detail };
    };
    expect(await problem('read', {})).toMatchObject({ status: 422, field: 'ids' });
    expect(await problem('read', { ids: [1], all: true })).toMatchObject({ status: 422, field: 'all' });
    expect(await problem('read', { ids: [1], category: 'news' })).toMatchObject({ status: 422, field: 'category' });
    expect(await problem('snooze', { all: true })).toMatchObject({ status: 422, field: 'until' });
    expect(await problem('snooze', { all: true, until: '2020-01-01T00:00:00Z' })).toMatchObject({
      status: 422,
      field: 'until',
      detail: '`until` (2020-01-01T00:00:00Z) has passed: give a later time',
    });
    expect(await problem('read', { ids: [] })).toMatchObject({ status: 400, field: 'ids' });
    const badKey = await call('GET', '/recipients/someone/inbox?after=not-a-key');
    expect(badKey.statusCode).toBe(422);
    expect(badKey.json()).toMatchObject({ field: 'after' });
    expect((await call('GET', '/recipients/someone/inbox?after=a.b')).statusCode).toBe(400);
    // An id past what the database holds names no message.
    expect((await call('DELETE', '/recipients/someone/inbox/messages/9999999999')).statusCode).toBe(404);
    expect(await problem('read', { ids: [9999999999] })).toMatchObject({ status: 400, field: 'ids[0]' });
  });
});
