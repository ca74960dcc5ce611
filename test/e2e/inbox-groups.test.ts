import { randomUUID } from 'node:crypto';
import { createHeraldClient, type HeraldClient, type paths } from '../../clients/node/src';
import { inboxMessages } from '../../db/schema';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

/** The inbox's answer as the OpenAPI document declares it. */
type Page = paths['/recipients/{id}/inbox']['get']['responses'][200]['content']['application/json'];
type InboxQuery = NonNullable<paths['/recipients/{id}/inbox']['get']['parameters']['query']>;
type ChangeBody = NonNullable<
  paths['/recipients/{id}/inbox/read']['post']['requestBody']
>['content']['application/json'];

/** Groups in the in-app inbox: one entry per group in a grouped list, a group's own list, changes to a group. */
describe('inbox groups', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let app: HeraldClient;
  beforeAll(async () => {
    herald = await startTestHerald();
    tenant = await herald.createTenant();
    // The app's calls go through the typed client, as an app's would; the refusals below are sent raw.
    app = createHeraldClient({
      baseUrl: await herald.api.listen({ port: 0, host: '127.0.0.1' }),
      apiKey: tenant.apiKey,
    });
  }, 180_000);
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: tenant.auth, ...(payload ? { payload } : {}) });
  const list = async (recipient: string, query: InboxQuery = {}) => {
    const { data, response } = await app.GET('/recipients/{id}/inbox', { params: { path: { id: recipient }, query } });
    expect(response.status).toBe(200);
    return data!;
  };
  const act = async (recipient: string, action: 'read' | 'archive', body: ChangeBody) => {
    const { data, response } = await app.POST(`/recipients/{id}/inbox/${action}`, {
      params: { path: { id: recipient } },
      body,
    });
    expect(response.status).toBe(200);
    return data!;
  };
  /** An entry as a reader sees it: its text, and its group's count and unread when it stands for one. */
  const entries = (page: Page) =>
    page.messages.map((m) => (m.group ? `${m.text} [${m.group.count}/${m.group.unread}]` : m.text));
  const texts = (page: Page) => page.messages.map((m) => m.text);

  /** Sends each message through POST /notify, one at a time, so the inbox holds them in this order. */
  async function send(recipient: string, messages: { text: string; group?: string }[]) {
    for (const { text, group } of messages) {
      const before = (await list(recipient, { view: 'all', limit: '200' })).messages.length;
      const { response } = await app.POST('/notify', {
        body: {
          channels: ['in_app'],
          recipients: [{ id: recipient }],
          message: text,
          ...(group ? { group_key: group } : {}),
        },
      });
      expect(response.status).toBe(202);
      await eventually(
        () => list(recipient, { view: 'all', limit: '200' }),
        (l) => l.messages.length === before + 1,
      );
    }
  }

  /** Writes messages straight into the inbox, each a second after the one before, for walks that need many. */
  let clock = Date.now() - 3_600_000;
  async function store(recipient: string, messages: { text: string; group?: string }[]) {
    for (const { text, group } of messages)
      await herald.db.insert(inboxMessages).values({
        tenantId: tenant.id,
        recipientId: recipient,
        notificationId: `n-${text}`,
        deliveryKey: randomUUID(),
        text,
        groupKey: group ?? null,
        createdAt: new Date((clock += 1000)),
      });
  }

  it('shows each group once, at its newest message, with its count and unread count', async () => {
    await send('grouper', [
      { text: 'a1', group: 'comments:42' },
      { text: 'x1' },
      { text: 'b1', group: 'likes:7' },
      { text: 'a2', group: 'comments:42' },
      { text: 'x2' },
      { text: 'a3', group: 'comments:42' },
    ]);
    // The plain list is unchanged: every message, each with the group it was sent with.
    const plain = await list('grouper');
    expect(texts(plain)).toEqual(['a3', 'x2', 'a2', 'b1', 'x1', 'a1']);
    expect(plain.messages.map((m) => m.group_key)).toEqual([
      'comments:42',
      null,
      'comments:42',
      'likes:7',
      null,
      'comments:42',
    ]);
    expect(plain.messages.some((m) => 'group' in m)).toBe(false);

    expect(entries(await list('grouper', { grouped: 'true' }))).toEqual(['a3 [3/3]', 'x2', 'b1 [1/1]', 'x1']);
    const a1 = plain.messages.find((m) => m.text === 'a1')!;
    await act('grouper', 'read', { ids: [a1.id] });
    const grouped = await list('grouper', { grouped: 'true' });
    expect(entries(grouped)).toEqual(['a3 [3/2]', 'x2', 'b1 [1/1]', 'x1']);
    expect(grouped.messages[0]).toMatchObject({ group_key: 'comments:42', group: { key: 'comments:42' } });
    // Count and unread are of the view: the unread view has only a group's unread messages.
    expect(entries(await list('grouper', { grouped: 'true', view: 'unread' }))).toEqual([
      'a3 [2/2]',
      'x2',
      'b1 [1/1]',
      'x1',
    ]);
    // The group's newest message archived: the group stands at its next one in the feed.
    const a3 = plain.messages[0]!;
    await act('grouper', 'archive', { ids: [a3.id] });
    expect(entries(await list('grouper', { grouped: 'true' }))).toEqual(['x2', 'a2 [2/1]', 'b1 [1/1]', 'x1']);
    expect(entries(await list('grouper', { grouped: 'true', view: 'archived' }))).toEqual(['a3 [1/1]']);
    // Counts stay counts of messages.
    const counts = (await call('GET', '/recipients/grouper/inbox/counts')).json();
    expect(counts).toEqual({ unread: 4, unseen: 4, total: 5 });
  });

  it("lists one group's messages, a page at a time", async () => {
    await store('expander', [
      { text: 'e1', group: 'g' },
      { text: 'other', group: 'h' },
      { text: 'e2', group: 'g' },
      { text: 'alone' },
      { text: 'e3', group: 'g' },
    ]);
    expect(texts(await list('expander', { group_key: 'g' }))).toEqual(['e3', 'e2', 'e1']);
    const first = await list('expander', { group_key: 'g', limit: '2' });
    expect(texts(first)).toEqual(['e3', 'e2']);
    const second = await list('expander', { group_key: 'g', limit: '2', after: first.next! });
    expect(texts(second)).toEqual(['e1']);
    expect(second.next).toBeUndefined();
    expect(texts(await list('expander', { group_key: 'h' }))).toEqual(['other']);
    expect(texts(await list('expander', { group_key: 'none' }))).toEqual([]);
  });

  it('marks one group read in one call: exactly its messages, and the counts follow', async () => {
    await store('marker', [
      { text: 'm1', group: 'deploys' },
      { text: 'n1', group: 'alerts' },
      { text: 'm2', group: 'deploys' },
      { text: 'plain' },
      { text: 'm3', group: 'deploys' },
    ]);
    const read = await act('marker', 'read', { all: true, group_key: 'deploys' });
    expect(read).toEqual({ changed: 3, counts: { unread: 2, unseen: 2, total: 5 } });
    const all = (await list('marker')).messages;
    expect(all.filter((m) => m.read_at !== null).map((m) => m.text)).toEqual(['m3', 'm2', 'm1']);
    expect(entries(await list('marker', { grouped: 'true' }))).toEqual(['m3 [3/0]', 'plain', 'n1 [1/1]']);
    // Again: nothing left to change.
    expect((await act('marker', 'read', { all: true, group_key: 'deploys' })).changed).toBe(0);
    // A group narrows the other changes too, and a category with it narrows further.
    expect((await act('marker', 'archive', { all: true, group_key: 'alerts', category: 'none' })).changed).toBe(0);
    expect((await act('marker', 'archive', { all: true, group_key: 'alerts' })).changed).toBe(1);
    expect(texts(await list('marker', { view: 'archived' }))).toEqual(['n1']);
  });

  it('walks a grouped inbox a page at a time while messages of its groups arrive', async () => {
    await store('walker', [
      { text: 'p1', group: 'p' },
      { text: 'u1' },
      { text: 'q1', group: 'q' },
      { text: 'r1', group: 'r' },
      { text: 'p2', group: 'p' },
      { text: 'u2' },
      { text: 's1', group: 's' },
      { text: 'q2', group: 'q' },
      { text: 'u3' },
      { text: 't1', group: 't' },
      { text: 'r2', group: 'r' },
      { text: 'u4' },
    ]);
    const before = entries(await list('walker', { grouped: 'true', limit: '200' }));
    expect(before).toEqual(['u4', 'r2 [2/2]', 't1 [1/1]', 'u3', 'q2 [2/2]', 's1 [1/1]', 'u2', 'p2 [2/2]', 'u1']);
    // Between pages, messages arrive: to a group shown already, to groups not shown yet, to no group, to a new group.
    const arrivals = [
      [
        { text: 'r3', group: 'r' },
        { text: 'q3', group: 'q' },
      ],
      [{ text: 'u5' }, { text: 'p3', group: 'p' }],
      [
        { text: 'v1', group: 'v' },
        { text: 's2', group: 's' },
      ],
      [{ text: 'u6' }],
    ];
    const walked: string[] = [];
    let page = await list('walker', { grouped: 'true', limit: '2' });
    for (let i = 0; ; i++) {
      walked.push(...entries(page));
      if (!page.next) break;
      await store('walker', arrivals[i] ?? []);
      page = await list('walker', { grouped: 'true', limit: '2', after: page.next! });
    }
    // The walk is the inbox as it was when it began: no group twice, none left out, none moved.
    expect(walked).toEqual(before);
    // What arrived is at the top of a new first page; a group shown in the walk moved there with its new message.
    expect(entries(await list('walker', { grouped: 'true', limit: '5' }))).toEqual([
      'u6',
      's2 [2/2]',
      'v1 [1/1]',
      'p3 [3/3]',
      'u5',
    ]);
    expect(entries(await list('walker', { grouped: 'true', limit: '200' })).slice(5)).toEqual([
      'q3 [3/3]',
      'r3 [3/3]',
      'u4',
      't1 [1/1]',
      'u3',
      'u2',
      'u1',
    ]);
  });

  it('keeps the pages of a grouped walk apart from those of a plain list', async () => {
    await store('keys', [{ text: 'k1', group: 'k' }, { text: 'k2' }, { text: 'k3', group: 'k' }, { text: 'k4' }]);
    const plain = await list('keys', { limit: '2' });
    expect(texts(plain)).toEqual(['k4', 'k3']);
    // A plain key in a grouped list: the position holds, without the walk's beginning.
    expect(entries(await list('keys', { grouped: 'true', limit: '2', after: plain.next! }))).toEqual(['k2']);
    const grouped = await list('keys', { grouped: 'true', limit: '1' });
    expect(entries(grouped)).toEqual(['k4']);
    expect(entries(await list('keys', { grouped: 'true', limit: '1', after: grouped.next! }))).toEqual(['k3 [2/2]']);
    expect(texts(await list('keys', { limit: '2', after: grouped.next! }))).toEqual(['k3', 'k2']);
  });

  it('groups a message rendered from a template as one given inline', async () => {
    const template = { in_app: { title: 'New comment', body: '{{ who }} commented' } };
    expect((await call('PUT', '/templates/comment', template)).statusCode).toBeLessThan(300);
    for (const who of ['Ada', 'Grace']) {
      const res = await call('POST', '/notify', {
        channels: ['in_app'],
        recipients: [{ id: 'templated' }],
        template: 'comment',
        data: { who },
        group_key: 'comments',
      });
      expect(res.statusCode).toBe(202);
    }
    const grouped = await eventually(
      () => list('templated', { grouped: 'true' }),
      (page) => page.messages[0]?.group?.count === 2,
    );
    expect(grouped.messages).toHaveLength(1);
    expect(grouped.messages[0]).toMatchObject({
      group_key: 'comments',
      group: { key: 'comments', count: 2, unread: 2 },
    });
    expect(grouped.messages[0]!.text).toMatch(/^(Ada|Grace) commented$/);
  });

  it('says which field is wrong and how to fix it', async () => {
    const problem = async (method: 'GET' | 'POST', url: string, body?: object) => {
      const res = await call(method, url, body);
      return { status: res.statusCode, ...res.json() };
    };
    const notify = (group_key: unknown, extra: object = { message: 'hi' }) =>
      problem('POST', '/notify', { channels: ['in_app'], recipients: [{ id: 'someone' }], group_key, ...extra });
    expect(await notify('')).toMatchObject({ status: 400, field: 'group_key' });
    expect(await notify('x'.repeat(201))).toMatchObject({
      status: 400,
      field: 'group_key',
      detail: 'group_key must NOT have more than 200 characters',
    });
    expect(await notify(42)).toMatchObject({ status: 400, field: 'group_key' });
    expect(await notify('a\u0000b')).toMatchObject({ status: 400, field: 'group_key' });
    expect(await notify('x'.repeat(200))).toMatchObject({ status: 202 });

    expect(await problem('GET', '/recipients/someone/inbox?group_key=')).toMatchObject({
      status: 400,
      field: 'group_key',
    });
    expect(await problem('GET', `/recipients/someone/inbox?group_key=${'x'.repeat(201)}`)).toMatchObject({
      status: 400,
      field: 'group_key',
    });
    for (const query of ['group_key=a%00b', 'category=a%00b'])
      expect(await problem('GET', `/recipients/someone/inbox?${query}`)).toMatchObject({
        status: 400,
        field: query.split('=')[0],
        detail: expect.stringContaining('must not contain a NUL character'),
      });
    expect(await problem('GET', '/recipients/someone/inbox?grouped=yes')).toMatchObject({
      status: 400,
      field: 'grouped',
      detail: 'grouped must be one of: true, false',
    });
    expect(await problem('GET', '/recipients/someone/inbox?grouped=true&group_key=g')).toMatchObject({
      status: 422,
      field: 'group_key',
    });
    expect(await problem('POST', '/recipients/someone/inbox/read', { ids: [1], group_key: 'g' })).toMatchObject({
      status: 422,
      field: 'group_key',
      detail: '`group_key` narrows `all`; with `ids`, leave it out',
    });
    expect(await problem('POST', '/recipients/someone/inbox/read', { all: true, group_key: '' })).toMatchObject({
      status: 400,
      field: 'group_key',
    });
  });
});
