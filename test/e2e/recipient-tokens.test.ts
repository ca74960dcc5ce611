import { eq } from 'drizzle-orm';
import { inboxTokenRevocations } from '../../db/schema';
import { sha256 } from '../../domain/sha256';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

/** Recipient tokens: a browser reads and changes its own recipient's inbox, and nothing else. */
describe('recipient tokens', () => {
  let herald: TestHerald;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    herald = await startTestHerald();
    [a, b] = [await herald.createTenant(), await herald.createTenant()];
    for (const [tenant, text] of [
      [a, 'for A'],
      [b, 'for B'],
    ] as const) {
      await call(tenant.auth, 'PUT', '/recipients/ada', { email: 'ada@example.com' });
      await call(tenant.auth, 'POST', '/notify', { channels: ['in_app'], recipient_ids: ['ada'], message: text });
      await call(tenant.auth, 'POST', '/notify', { channels: ['in_app'], recipients: [{ id: 'bob' }], message: text });
      await eventually(
        () => call(tenant.auth, 'GET', '/recipients/ada/inbox').then((r) => r.json().messages.length),
        (n) => n === 1,
      );
    }
  }, 180_000);
  afterAll(() => herald?.stop());

  function call(
    headers: Record<string, string>,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
  ) {
    return herald.api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  async function tokenFor(recipient: string, body: object = {}) {
    const res = await call(a.auth, 'POST', `/recipients/${recipient}/tokens`, body);
    expect(res.statusCode).toBe(201);
    return res.json() as { token: string; expires_at: string };
  }

  it("opens its recipient's inbox in its own tenant, and changes it", async () => {
    const issued = await tokenFor('ada');
    expect(issued.token).toMatch(/^hrt_/);
    const lifetime = Date.parse(issued.expires_at) - Date.now();
    expect(lifetime).toBeGreaterThan(3_500_000);
    expect(lifetime).toBeLessThanOrEqual(3_601_000);
    // The time it is refused after, to the second it is signed with.
    expect(issued.expires_at).toMatch(/:\d\d\.000Z$/);
    const inbox = await call(bearer(issued.token), 'GET', '/recipients/ada/inbox');
    expect(inbox.statusCode).toBe(200);
    expect(inbox.json().messages.map((m: { text: string }) => m.text)).toEqual(['for A']);
    const read = await call(bearer(issued.token), 'POST', '/recipients/ada/inbox/read', { all: true });
    expect(read.json()).toEqual({ changed: 1, counts: { unread: 0, unseen: 0, total: 1 } });
    expect((await call(bearer(issued.token), 'GET', '/recipients/ada/inbox/counts')).json()).toMatchObject({
      unread: 0,
    });
    // The tenant's feeds, for the inbox's tabs; changing them takes a key.
    expect((await call(bearer(issued.token), 'GET', '/settings/inbox')).json()).toEqual({ feeds: [] });
    expect((await call(bearer(issued.token), 'PUT', '/settings/inbox', { feeds: [] })).statusCode).toBe(401);
    // Tenant B's recipient of the same id is untouched.
    expect((await call(b.auth, 'GET', '/recipients/ada/inbox/counts')).json()).toMatchObject({ unread: 1 });
  });

  it("opens nothing else: another recipient's inbox, or any other route", async () => {
    const { token } = await tokenFor('ada');
    const other = await call(bearer(token), 'GET', '/recipients/bob/inbox');
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ field: 'authorization', detail: expect.stringMatching(/another recipient/) });
    for (const [method, url, body] of [
      ['GET', '/recipients/ada'],
      ['GET', '/recipients/ada/preferences'],
      ['POST', '/notify', { channels: ['in_app'], recipients: [{ id: 'ada' }], message: 'x' }],
      ['POST', '/recipients/ada/tokens', {}],
      ['GET', '/audit'],
    ] as const) {
      const res = await call(bearer(token), method, url, body);
      expect({ url, status: res.statusCode }).toEqual({ url, status: 401 });
      expect(res.json().detail).toMatch(/this route takes an API key/);
    }
  });

  it('is refused when altered, expired, or once its recipient is deleted', async () => {
    const { token } = await tokenFor('ada');
    const [payload, signature] = token.slice('hrt_'.length).split('.');
    const claim = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    const altered = `hrt_${Buffer.from(JSON.stringify({ ...claim, recipientId: 'bob' })).toString('base64url')}.${signature}`;
    const forged = await call(bearer(altered), 'GET', '/recipients/bob/inbox');
    expect(forged.statusCode).toBe(401);
    expect(forged.json().detail).toMatch(/POST \/recipients\/:id\/tokens/);

    const short = await tokenFor('ada', { ttl: '1s' });
    await eventually(
      () => call(bearer(short.token), 'GET', '/recipients/ada/inbox').then((r) => r.statusCode),
      (status) => status === 401,
      10_000,
    );

    expect((await call(a.auth, 'DELETE', '/recipients/ada')).statusCode).toBe(200);
    expect((await call(bearer(token), 'GET', '/recipients/ada/inbox')).statusCode).toBe(401);
    // Kept by the id's hash, not the id; an address's pseudonym is revoked with it.
    const revoked = () =>
      herald.db
        .select({ hash: inboxTokenRevocations.recipientHash })
        .from(inboxTokenRevocations)
        .where(eq(inboxTokenRevocations.tenantId, a.id));
    expect(await revoked()).toEqual([{ hash: sha256('ada') }]);
    await call(a.auth, 'PUT', '/recipients/nameless@example.com/preferences', { channels: { sms: false } });
    expect((await call(a.auth, 'DELETE', '/recipients/nameless@example.com')).statusCode).toBe(200);
    const hashes = (await revoked()).map((r) => r.hash);
    expect(hashes).toHaveLength(3);
    expect(hashes).toContain(sha256('nameless@example.com'));
    expect(hashes.join()).not.toMatch(/ada|nameless/);
    // A recipient made again under that id gets tokens of its own.
    const fresh = await tokenFor('ada');
    expect((await call(bearer(fresh.token), 'GET', '/recipients/ada/inbox')).json()).toEqual({ messages: [] });
  });

  it('opens the inbox to a page on another origin (CORS), the token in a header', async () => {
    const origin = 'https://app.example.com';
    const preflight = await herald.api.inject({
      method: 'OPTIONS',
      url: '/recipients/ada/inbox/read',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': '*' });
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/authorization/);
    const { token } = await tokenFor('ada');
    const read = await call({ ...bearer(token), origin }, 'GET', '/recipients/ada/inbox/counts');
    expect(read.statusCode).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBe('*');
  });

  it('is issued without a body, for an hour', async () => {
    const res = await herald.api.inject({ method: 'POST', url: '/recipients/ada/tokens', headers: a.auth });
    expect(res.statusCode).toBe(201);
    expect(Date.parse(res.json().expires_at) - Date.now()).toBeGreaterThan(3_500_000);
  });

  it("draws on an allowance of its recipient's, not its tenant's", async () => {
    const tight = await herald.createTenant({ ratePerSecond: 1, burst: 2 });
    const issue = async (id: string) =>
      (await call(tight.auth, 'POST', `/recipients/${id}/tokens`, {})).json().token as string;
    const [ada, bob] = [await issue('ada'), await issue('bob')];
    const statuses = async (headers: Record<string, string>, url: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await call(headers, 'GET', url)).statusCode);
      return out;
    };
    // The tenant's key has spent its allowance ...
    expect(await statuses(tight.auth, '/audit', 6)).toContain(429);
    // ... and each browser still has its own, which runs out on its own.
    const adaSeen = await statuses(bearer(ada), '/recipients/ada/inbox/counts', 6);
    expect(adaSeen[0]).toBe(200);
    expect(adaSeen).toContain(429);
    expect((await call(bearer(bob), 'GET', '/recipients/bob/inbox/counts')).statusCode).toBe(200);
  });

  it('lives 1 s to 24 h, and says so', async () => {
    for (const ttl of ['2d', '500ms']) {
      const res = await call(a.auth, 'POST', '/recipients/ada/tokens', { ttl });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ field: 'ttl', detail: `ttl is ${ttl}: give 1s to 24h, e.g. 1h` });
    }
    const day = await tokenFor('ada', { ttl: '24h' });
    expect(Date.parse(day.expires_at) - Date.now()).toBeGreaterThan(86_000_000);
  });
});
