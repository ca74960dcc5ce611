import { once } from 'node:events';
import { buildApi } from '../../api/app';
import { newApiKey, TenantDirectory } from '../../api/tenants';
import type { Database } from '../../db/connect';
import { connectRedis } from '../../runtime/redis';
import { connectClient } from '../../runtime/temporal';
import { startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { startRedis } from '../support/redis';

const ADMIN_TOKEN = 'admin-token-for-throttling-tests-0123';
/** Failures an address may make before it is refused: the limit the API documents in its 429. */
const ALLOWED = 20;

/**
 * Counts the statements the database client is sent that look a key up by its hash, by wrapping the
 * client's own `query` (PGlite's, or the pg pool's): a count of what reaches the database, no stand-in.
 */
function countKeyLookups(db: Database) {
  type Query = (...args: unknown[]) => Promise<unknown>;
  const client = (db as unknown as { $client: { query: Query } }).$client;
  const query = client.query;
  const counted = { lookups: 0, olderKeyReads: 0 };
  client.query = function (this: unknown, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '');
    if (text.includes('from "api_keys"') && text.includes('"api_keys"."hash" = $1')) counted.lookups++;
    if (text.includes('from "api_keys"') && text.includes('substr(')) counted.olderKeyReads++;
    return query.apply(this, args);
  };
  return Object.assign(counted, { stop: () => (client.query = query) });
}

describe('failed authentication', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_ADMIN_TOKEN: ADMIN_TOKEN });
    tenant = await herald.createTenant();
  });
  afterAll(() => herald?.stop());

  /** Each test's clients have addresses of their own: no test sees another's count. */
  const audit = (authorization: string, remoteAddress: string) =>
    herald.api.inject({ method: 'GET', url: '/audit', headers: { authorization }, remoteAddress });
  const wrongKey = () => `Bearer ${newApiKey().key}`;

  it(`refuses an address with 429 and Retry-After after ${ALLOWED} wrong keys, and looks no further key up`, async () => {
    const address = '192.0.2.1';
    const counted = countKeyLookups(herald.db);
    try {
      for (let i = 0; i < ALLOWED; i++) expect((await audit(wrongKey(), address)).statusCode).toBe(401);
      // Each well-shaped key unknown to this instance was looked up once.
      expect(counted.lookups).toBe(ALLOWED);

      for (let i = 0; i < 10; i++) {
        const refused = await audit(wrongKey(), address);
        expect(refused.statusCode).toBe(429);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(refused.json()).toMatchObject({
          status: 429,
          title: 'Too many failed authentications',
          field: 'authorization',
          detail: expect.stringMatching(/Retry-After/),
        });
        const retryAfter = Number(refused.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(300);
      }
      expect(counted.lookups).toBe(ALLOWED);

      // A key this instance has seen live still works from there; one it has not waits like the rest.
      expect((await audit(tenant.auth.authorization, '192.0.2.200')).statusCode).toBe(200);
      expect((await audit(tenant.auth.authorization, address)).statusCode).toBe(200);
      const unseen = await herald.createTenant();
      expect((await audit(unseen.auth.authorization, address)).statusCode).toBe(429);
    } finally {
      counted.stop();
    }
  });

  it('refuses a key that cannot be a Herald key without asking the database', async () => {
    const malformed = [
      'not-a-key',
      'hk_0123456789',
      'hk_0123456789_short',
      `hk_0123456789_${'x'.repeat(33)}`,
      `hk_ABCDEF0123_${'x'.repeat(32)}`,
      `hk_012345678_${'x'.repeat(33)}`,
      `sk_0123456789_${'x'.repeat(32)}`,
      `hk_0123456789_${'x'.repeat(31)}!`,
    ];
    const counted = countKeyLookups(herald.db);
    try {
      // Ten addresses, each under its limit: only the shape refuses these.
      for (let n = 0; n < 200; n++) {
        const key = `${malformed[n % malformed.length]}${n}`;
        const res = await audit(`Bearer ${key}`, `198.51.100.${Math.floor(n / ALLOWED)}`);
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ field: 'authorization' });
      }
      expect(counted.lookups).toBe(0);
      // Keys from before `hk_<id>_<secret>` are known by their hash, read once for all of these.
      expect(counted.olderKeyReads).toBeLessThanOrEqual(1);
    } finally {
      counted.stop();
    }
  });

  it('lets good keys through from other addresses while one address floods, and counts the flood exactly', async () => {
    const fresh = await herald.createTenant();
    const flood = Array.from({ length: 200 }, () => audit(wrongKey(), '203.0.113.7'));
    const [good, freshGood] = await Promise.all([
      audit(tenant.auth.authorization, '203.0.113.8'),
      audit(fresh.auth.authorization, '203.0.113.9'),
    ]);
    expect(good.statusCode).toBe(200);
    expect(freshGood.statusCode).toBe(200);
    const statuses = (await Promise.all(flood)).map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(ALLOWED);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - ALLOWED);
  });

  it('does not count a burst of good requests against their address', async () => {
    const address = '203.0.113.20';
    const fresh = await herald.createTenant();
    const burst = await Promise.all(Array.from({ length: 50 }, () => audit(fresh.auth.authorization, address)));
    expect(burst.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    // The whole allowance of failures is still there.
    for (let i = 0; i < ALLOWED; i++) expect((await audit(wrongKey(), address)).statusCode).toBe(401);
    expect((await audit(wrongKey(), address)).statusCode).toBe(429);
  });

  it('counts an IPv6 client by its /64', async () => {
    for (let i = 1; i <= ALLOWED; i++) expect((await audit(wrongKey(), `2001:db8:1:2::${i}`)).statusCode).toBe(401);
    expect((await audit(wrongKey(), '2001:db8:1:2:ffff::1')).statusCode).toBe(429);
    expect((await audit(wrongKey(), '2001:db8:1:3::1')).statusCode).toBe(401);
  });

  it('throttles wrong admin tokens by address, apart from API keys', async () => {
    const admin = (token: string, remoteAddress: string) =>
      herald.api.inject({
        method: 'GET',
        url: '/admin/tenants',
        headers: { authorization: `Bearer ${token}` },
        remoteAddress,
      });
    const address = '192.0.2.77';
    for (let i = 0; i < ALLOWED; i++) expect((await admin(`guess-${i}`, address)).statusCode).toBe(401);
    const refused = await admin('guess-again', address);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ title: 'Too many failed authentications', field: 'authorization' });
    // Refused without a comparison: the right token from there waits too, so guessing learns nothing.
    expect((await admin(ADMIN_TOKEN, address)).statusCode).toBe(429);
    expect((await admin(ADMIN_TOKEN, '192.0.2.78')).statusCode).toBe(200);
    // Admin failures are counted apart: API keys from that address still work.
    expect((await audit(tenant.auth.authorization, address)).statusCode).toBe(200);
  });

  it('lists 429 on every operation that checks a credential', async () => {
    const doc = (await herald.api.inject({ method: 'GET', url: '/docs/json' })).json();
    const operations = Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    // Webhooks answer 401 for a signature, which costs no lookup and is not throttled.
    const credentialed = operations.filter(({ path, op }) => '401' in op.responses && !path.startsWith('/webhook/'));
    expect(credentialed.length).toBeGreaterThan(20);
    for (const { path, method, op } of credentialed)
      expect({ path, method, has429: '429' in op.responses }).toEqual({ path, method, has429: true });
  });
});

describe('failed authentication on API instances of their own', () => {
  let herald: TestHerald;
  let temporal: Awaited<ReturnType<typeof connectClient>>;
  beforeAll(async () => {
    herald = await startTestHerald();
    temporal = await connectClient(herald.config, herald.temporalAddress);
  });
  afterAll(async () => {
    await temporal?.connection.close();
    await herald?.stop();
  });

  const instance = (options: Partial<Parameters<typeof buildApi>[0]>) =>
    buildApi({
      db: herald.db,
      temporal: temporal.client,
      taskQueue: herald.config.taskQueue,
      receiptWindowMs: 0,
      publicUrl: 'http://localhost',
      bodyLimit: 1024,
      devOutbox: false,
      tenantLimits: herald.config.tenantLimits,
      ...options,
    });

  it('is counted in Redis for every instance, and by each alone while Redis is away', async () => {
    const redis = await startRedis();
    const clients = [connectRedis(redis.url), connectRedis(redis.url)];
    // Commands fail at once until a client has connected (no offline queue): the count would start in memory.
    await Promise.all(clients.map((r) => (r.status === 'ready' ? undefined : once(r, 'ready'))));
    const apis = await Promise.all(clients.map((r) => instance({ redis: r })));
    const audit = (api: number, remoteAddress: string) =>
      apis[api]!.inject({
        method: 'GET',
        url: '/audit',
        headers: { authorization: `Bearer ${newApiKey().key}` },
        remoteAddress,
      });
    try {
      for (let i = 0; i < ALLOWED; i++) expect((await audit(i % 2, '192.0.2.10')).statusCode).toBe(401);
      // Each instance saw half the failures; together they are the limit.
      expect((await audit(0, '192.0.2.10')).statusCode).toBe(429);
      expect((await audit(1, '192.0.2.10')).statusCode).toBe(429);

      await redis.stop();
      for (let i = 0; i < ALLOWED; i++) expect((await audit(0, '192.0.2.11')).statusCode).toBe(401);
      expect((await audit(0, '192.0.2.11')).statusCode).toBe(429);
      // The block seen before Redis went away is still kept.
      expect((await audit(1, '192.0.2.10')).statusCode).toBe(429);
    } finally {
      await Promise.all(apis.map((a) => a.close()));
      clients.forEach((r) => r.disconnect());
      await redis.stop();
    }
  });

  it('takes the number of failures an address may make from its options', async () => {
    const api = await instance({ authFailuresPerMinute: 3 });
    const audit = () =>
      api.inject({
        method: 'GET',
        url: '/audit',
        headers: { authorization: `Bearer ${newApiKey().key}` },
        remoteAddress: '192.0.2.40',
      });
    try {
      for (let i = 0; i < 3; i++) expect((await audit()).statusCode).toBe(401);
      const refused = await audit();
      expect(refused.statusCode).toBe(429);
      expect(refused.json().detail).toMatch(/more than 3 times/);
    } finally {
      await api.close();
    }
  });

  it('counts clients behind a trusted proxy by their forwarded address', async () => {
    const api = await instance({ trustProxy: '127.0.0.1' });
    const audit = (client: string) =>
      api.inject({
        method: 'GET',
        url: '/audit',
        headers: { authorization: `Bearer ${newApiKey().key}`, 'x-forwarded-for': client },
        remoteAddress: '127.0.0.1',
      });
    try {
      for (let i = 0; i < ALLOWED; i++) expect((await audit('192.0.2.30')).statusCode).toBe(401);
      expect((await audit('192.0.2.30')).statusCode).toBe(429);
      // Another client through the same proxy is not refused for the first one's failures.
      expect((await audit('192.0.2.31')).statusCode).toBe(401);
    } finally {
      await api.close();
    }
  });
});

describe('failed authentication as configured by the environment', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_AUTH_FAILURES_PER_MINUTE: '2', HERALD_TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(() => herald?.stop());

  it('takes its limit from HERALD_AUTH_FAILURES_PER_MINUTE and the proxy it believes from HERALD_TRUST_PROXY', async () => {
    const audit = (client: string) =>
      herald.api.inject({
        method: 'GET',
        url: '/audit',
        headers: { authorization: `Bearer ${newApiKey().key}`, 'x-forwarded-for': client },
        remoteAddress: '127.0.0.1',
      });
    for (let i = 0; i < 2; i++) expect((await audit('198.51.100.7')).statusCode).toBe(401);
    expect((await audit('198.51.100.7')).statusCode).toBe(429);
    expect((await audit('198.51.100.8')).statusCode).toBe(401);
  });
});

describe('the key cache', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald();
  });
  afterAll(() => herald?.stop());

  it('keeps a good key through more distinct wrong keys than it remembers: no new lookup within its time', async () => {
    const good = await herald.createTenant();
    let now = Date.now();
    const directory = new TenantDirectory(herald.db, () => now);
    expect(await directory.callerForKey(good.apiKey)).toMatchObject({ tenantId: good.id });

    // Wrong keys as from 10,200 addresses, past the 10,000 it remembers: each looked up once, none
    // pushing the good key out.
    for (let batch = 0; batch < 51; batch++)
      await Promise.all(Array.from({ length: 200 }, () => directory.callerForKey(newApiKey().key)));
    now += 4_000;

    const counted = countKeyLookups(herald.db);
    try {
      expect(await directory.callerForKey(good.apiKey)).toMatchObject({ tenantId: good.id });
      expect(counted.lookups).toBe(0);
      // Past the cache's time it is looked up again, once.
      now += 2_000;
      expect(await directory.callerForKey(good.apiKey)).toMatchObject({ tenantId: good.id });
      expect(counted.lookups).toBe(1);
    } finally {
      counted.stop();
    }
  }, 600_000);
});
