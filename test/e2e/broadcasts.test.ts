import { and, eq } from 'drizzle-orm';
import { broadcastChunks, deliveries } from '../../db/schema';
import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { eventually } from '../support/herald';

const phoneOf = (i: number) => `+1415${5_000_000 + i}`;
const audience = (n: number, from = 0) =>
  Array.from({ length: n }, (_, k) => ({
    id: `member-${from + k}`,
    email: `member-${from + k}@example.com`,
    phone: phoneOf(from + k),
  }));

/** Broadcasts: one request to many recipients, in chunks sent by child workflows, each recipient once. */
describe('broadcasts', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    // Twilio's documented 30 SMS a second would make this suite slow; the fake takes any rate.
    h = await startHeraldOnFakes({ HERALD_RATE_LIMITS: 'sms=2000' });
  });
  afterAll(() => h?.stop());

  const post = (body: object, headers: Record<string, string> = {}, auth = h.tenant.auth) =>
    h.herald.api.inject({ method: 'POST', url: '/broadcasts', headers: { ...auth, ...headers }, payload: body });
  const progress = (id: string, auth = h.tenant.auth) =>
    h.herald.api.inject({ method: 'GET', url: `/broadcasts/${id}`, headers: auth });
  const finished = (id: string) =>
    eventually(
      () => progress(id).then((r) => r.json()),
      (p) => p.status === 'completed' || p.status === 'cancelled',
      60_000,
    );

  it('sends every recipient of a three-chunk broadcast once per channel, through failures and opt-outs', async () => {
    const members = audience(1201);
    const optedOut = members.slice(0, 3).map((m) => m.id);
    for (const id of optedOut) {
      const res = await h.herald.api.inject({
        method: 'PUT',
        url: `/recipients/${id}/preferences`,
        headers: h.tenant.auth,
        payload: { channels: { sms: false } },
      });
      expect(res.statusCode).toBe(200);
    }
    // Twilio answers the first three sends with 503: those recipients go again on the chunk's next try.
    h.fakes.twilio.faults.push(...Array.from({ length: 3 }, () => ({ status: 503, body: { code: 20500 } })));
    const smsBefore = h.fakes.twilio.created.size;

    const res = await post({
      channels: ['sms', 'email'],
      recipients: [...members, { id: 'no-phone', email: 'no-phone@example.com' }],
      message: { subject: 'Spring sale', text: 'Everything is 20% off this week.' },
      category: 'marketing',
    });
    expect(res.statusCode).toBe(202);
    const { broadcast_id, status_url } = res.json();
    expect(status_url).toBe(`/broadcasts/${broadcast_id}`);

    const done = await finished(broadcast_id);
    expect(done).toMatchObject({
      status: 'completed',
      recipients: 1202,
      chunks: { total: 3, completed: 3 },
      channels: ['sms', 'email'],
      priority: 'low',
      deliveries: { sent: 1202 + 1198, suppressed: 3, failed: 1 },
    });

    const texts = [...h.fakes.twilio.created.values()].slice(smsBefore).map((m) => m.to);
    expect(texts).toHaveLength(1198);
    expect(new Set(texts).size).toBe(1198);
    expect(texts).not.toContain(phoneOf(0));
    const mails = h.fakes.smtp.received.filter((m) => m.subject === 'Spring sale').map((m) => m.to[0]);
    expect(mails).toHaveLength(1202);
    expect(new Set(mails).size).toBe(1202);

    const [failed] = await h.herald.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.notificationId, broadcast_id), eq(deliveries.status, 'failed')));
    expect(failed).toMatchObject({ recipientId: 'no-phone', channel: 'sms' });
    const retried = await h.herald.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.notificationId, broadcast_id), eq(deliveries.attempts, 2)));
    expect(retried).toHaveLength(3);
    // Contact details are kept only while the broadcast sends.
    const chunksLeft = await h.herald.db
      .select()
      .from(broadcastChunks)
      .where(eq(broadcastChunks.broadcastId, broadcast_id));
    expect(chunksLeft).toEqual([]);
  });

  it('knows recipients given without an id by a pseudonym, never by their address, and keeps their unsubscribes', async () => {
    const addresses = ['nameless.one@example.com', 'nameless.two@example.com'];
    // Unsubscribed by address (as a link of an earlier version or an app would): it holds for the broadcast.
    const unsubscribed = await h.herald.api.inject({
      method: 'PUT',
      url: `/recipients/${addresses[1]}/preferences`,
      headers: h.tenant.auth,
      payload: { enabled: false },
    });
    expect(unsubscribed.statusCode).toBe(200);
    const res = await post({
      channels: ['email'],
      recipients: addresses.map((email) => ({ email })),
      message: { subject: 'Nameless', text: 'Hello' },
      category: 'marketing',
    });
    expect(res.statusCode).toBe(202);
    const id = res.json().broadcast_id;
    expect((await finished(id)).deliveries).toEqual({ sent: 1, suppressed: 1 });

    const rows = await h.herald.db.select().from(deliveries).where(eq(deliveries.notificationId, id));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.recipientId).toMatch(/^anon_[0-9a-f]{32}$/);
      for (const address of addresses) expect(JSON.stringify(row)).not.toContain(address);
    }
    const [mail] = h.fakes.smtp.received.filter((m) => m.subject === 'Nameless');
    expect(mail!.to).toEqual([addresses[0]]);
    const link = /\/unsubscribe\/([\w-]+)\.[\w-]+/.exec(mail!.headers['list-unsubscribe']!)!;
    const claim = Buffer.from(link[1]!, 'base64url').toString('utf8');
    expect(claim).not.toContain(addresses[0]);
    expect(JSON.parse(claim).recipientId).toBe(rows.find((r) => r.status === 'sent')!.recipientId);
  });

  it("applies a provider's receipt to a broadcast's delivery", async () => {
    const before = h.fakes.twilio.created.size;
    const res = await post({ channels: ['sms'], recipients: audience(2, 5000), message: 'Receipts too' });
    const id = res.json().broadcast_id;
    await finished(id);
    const [sid] = [...h.fakes.twilio.created.keys()].slice(before);
    expect(await h.fakes.twilio.statusCallback(sid!, 'delivered')).toBe(204);
    const p = await eventually(
      () => progress(id).then((r) => r.json()),
      (p) => p.deliveries.delivered === 1,
    );
    expect(p.deliveries).toEqual({ sent: 1, delivered: 1 });
  });

  it('stops at the chunks already sending when cancelled', async () => {
    // Each send takes 40 ms: the first four chunks are still sending when the cancel arrives.
    h.fakes.twilio.down = { delayMs: 40 };
    try {
      const res = await post({ channels: ['sms'], recipients: audience(2100, 10_000), message: 'Stop me' });
      const id = res.json().broadcast_id;
      await eventually(
        () => progress(id).then((r) => r.json()),
        (p) => p.deliveries.sent > 0,
      );
      const cancel = await h.herald.api.inject({
        method: 'POST',
        url: `/broadcasts/${id}/cancel`,
        headers: h.tenant.auth,
      });
      expect(cancel.statusCode).toBe(202);
      const p = await finished(id);
      expect(p).toMatchObject({ status: 'cancelled', chunks: { total: 5, completed: 4 }, deliveries: { sent: 2000 } });
    } finally {
      h.fakes.twilio.down = undefined;
    }
  });

  it('leaves a deleted recipient out of the chunks not yet sent', async () => {
    h.fakes.twilio.down = { delayMs: 20 };
    try {
      const members = audience(2100, 50_000);
      const before = h.fakes.twilio.created.size;
      const res = await post({ channels: ['sms'], recipients: members, message: 'Not for the last one' });
      const id = res.json().broadcast_id;
      // The last chunk starts once one of the first four has finished.
      const gone = members.at(-1)!;
      const deleted = await h.herald.api.inject({
        method: 'DELETE',
        url: `/recipients/${gone.id}`,
        headers: h.tenant.auth,
      });
      expect(deleted.statusCode).toBe(200);
      expect(deleted.json()).toMatchObject({ pending_broadcasts: 1 });
      const p = await finished(id);
      expect(p).toMatchObject({ status: 'completed', deliveries: { sent: 2099 } });
      const texts = [...h.fakes.twilio.created.values()].slice(before).map((m) => m.to);
      expect(texts).toHaveLength(2099);
      expect(texts).not.toContain(gone.phone);
    } finally {
      h.fakes.twilio.down = undefined;
    }
  });

  it('answers the same broadcast for a repeated Idempotency-Key, and 409 for a different body under it', async () => {
    const body = { channels: ['email'], recipients: audience(3, 20_000), message: 'Once' };
    // Two at once, as a client retrying on a timeout might.
    const [first, again] = await Promise.all([
      post(body, { 'idempotency-key': 'launch-1' }),
      post(body, { 'idempotency-key': 'launch-1' }),
    ]);
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json().broadcast_id).toBe(first.json().broadcast_id);
    const other = await post({ ...body, message: 'Twice' }, { 'idempotency-key': 'launch-1' });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ field: 'idempotency-key' });
    await finished(first.json().broadcast_id);
    const mails = h.fakes.smtp.received.filter((m) => m.text === 'Once');
    expect(mails).toHaveLength(3);
  });

  it('refuses bad broadcasts naming the field, and keeps each tenant to its own', async () => {
    const tooMany = await post({
      channels: ['email'],
      recipients: Array.from({ length: 100_001 }, (_, i) => ({ email: `m${i}@example.com` })),
      message: 'x',
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().detail).toMatch(/recipients/);
    const repeated = await post({
      channels: ['email'],
      recipients: [{ email: 'same@example.com' }, { email: 'same@example.com' }],
      message: 'x',
    });
    expect(repeated.statusCode).toBe(422);
    expect(repeated.json()).toMatchObject({ field: 'recipients' });
    const none = await post({ channels: ['email'], message: 'x' });
    expect(none.statusCode).toBe(400);
    expect(none.json().detail).toMatch(/recipients/);

    const mine = await post({ channels: ['email'], recipients: audience(1, 30_000), message: 'mine' });
    const id = mine.json().broadcast_id;
    const stranger = await h.herald.createTenant();
    expect((await progress(id, stranger.auth)).statusCode).toBe(404);
    const cancel = await h.herald.api.inject({
      method: 'POST',
      url: `/broadcasts/${id}/cancel`,
      headers: stranger.auth,
    });
    expect(cancel.statusCode).toBe(404);
  });

  it("takes a broadcast's recipients from the daily quota, and nothing when it does not fit", async () => {
    const small = await h.herald.createTenant({ dailyQuota: 10 });
    const over = await post({ channels: ['email'], recipients: audience(11, 40_000), message: 'q' }, {}, small.auth);
    expect(over.statusCode).toBe(429);
    expect(over.json().detail).toMatch(/needs 11, 10 remain/);
    const fits = await post({ channels: ['email'], recipients: audience(10, 40_000), message: 'q' }, {}, small.auth);
    expect(fits.statusCode).toBe(202);
    expect(fits.headers['ratelimit-remaining']).toBe('0');
  });
});
