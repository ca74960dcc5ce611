import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { buildApi } from '../../api/app';
import { apiKeys, notifications } from '../../db/schema';
import { connectRedis } from '../../runtime/redis';
import { connectClient } from '../../runtime/temporal';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';
import { startRedis } from '../support/redis';
import { keyIdOf } from '../../api/tenants';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const email = { channels: ['email'], recipients: [{ email: 'ops@example.com' }], message: 'hello' };

describe('API keys, scopes, limits and the audit log', () => {
  let herald: TestHerald;
  let base: string;

  // Bundling the workflows for the worker takes a minute or more on a loaded machine.
  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_ADMIN_TOKEN: ADMIN_TOKEN });
    base = await herald.api.listen({ port: 0, host: '127.0.0.1' });
  }, 180_000);
  afterAll(() => herald?.stop());

  const inject = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    headers: object,
    payload?: object,
  ) => herald.api.inject({ method, url, headers: headers as Record<string, string>, payload });

  describe('the admin API', () => {
    it('refuses a missing or wrong token, and is off without one', async () => {
      expect((await inject('GET', '/admin/tenants', {})).statusCode).toBe(401);
      const wrong = await inject('GET', '/admin/tenants', { authorization: 'Bearer not-the-token-at-all' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ field: 'authorization' });
      // A tenant's own key is no admin token.
      const tenant = await herald.createTenant();
      expect((await inject('GET', '/admin/tenants', tenant.auth)).statusCode).toBe(401);

      const off = await startTestHerald();
      try {
        const res = await off.api.inject({ method: 'GET', url: '/admin/tenants', headers: admin });
        expect(res.statusCode).toBe(401);
        expect(res.json().detail).toMatch(/HERALD_ADMIN_TOKEN/);
      } finally {
        await off.stop();
      }
    });

    it('creates a tenant with a first key shown once and stored only as its hash', async () => {
      // Unique per run: a PostgreSQL kept between runs still holds the tenants of the last one.
      const acme = `acme-${randomUUID().slice(0, 8)}`;
      const res = await inject('POST', '/admin/tenants', admin, { id: acme, name: 'Acme', daily_quota: 1000 });
      expect(res.statusCode).toBe(201);
      const { tenant, api_key } = res.json();
      expect(tenant).toMatchObject({ id: acme, name: 'Acme', daily_quota: 1000, rate_per_second: null });
      expect(api_key.key).toMatch(new RegExp(`^${api_key.id}_[A-Za-z0-9_-]{32}$`));
      expect(api_key.scopes).toEqual(['send', 'read', 'admin']);

      const [row] = await herald.db.select().from(apiKeys).where(eq(apiKeys.id, api_key.id));
      expect(JSON.stringify(row)).not.toContain(api_key.key.slice(keyIdOf(api_key.key).length + 1));
      const listed = await inject('GET', `/admin/tenants/${acme}/keys`, admin);
      expect(listed.json().keys).toEqual([expect.objectContaining({ id: api_key.id, name: 'default' })]);
      expect(listed.body).not.toContain(api_key.key);

      const again = await inject('POST', '/admin/tenants', admin, { id: acme });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ field: 'id' });
      const sent = await inject('POST', '/notify', { authorization: `Bearer ${api_key.key}` }, email);
      expect(sent.statusCode).toBe(202);
    });

    it('answers bad input with the field at fault, and unknown tenants with 404', async () => {
      const bad = await inject('POST', '/admin/tenants', admin, { id: 'Not Valid!' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ field: 'id' });
      const { id } = await herald.createTenant();
      const negative = await inject('PATCH', `/admin/tenants/${id}`, admin, { burst: 0 });
      expect(negative.json()).toMatchObject({ status: 400, field: 'burst' });
      expect((await inject('GET', '/admin/tenants/no-such-tenant', admin)).statusCode).toBe(404);
      expect((await inject('POST', '/admin/tenants/no-such-tenant/keys', admin, {})).statusCode).toBe(404);
    });
  });

  describe('scopes and revocation', () => {
    let owner: TestTenant;
    const issue = async (scopes: string[]) => {
      const res = await inject('POST', '/keys', owner.auth, { name: scopes.join('+'), scopes });
      expect(res.statusCode).toBe(201);
      return res.json() as { id: string; key: string };
    };
    beforeEach(async () => {
      owner = await herald.createTenant();
    });

    it('lets a read key read but not send, and a send key send but not manage keys', async () => {
      const read = await issue(['read']);
      const readAuth = { authorization: `Bearer ${read.key}` };
      const refused = await inject('POST', '/notify', readAuth, email);
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['content-type']).toMatch(/problem\+json/);
      expect(refused.json().detail).toMatch(/"send" scope/);
      expect((await inject('GET', '/audit', readAuth)).statusCode).toBe(200);

      const send = await issue(['send']);
      const sendAuth = { authorization: `Bearer ${send.key}` };
      expect((await inject('POST', '/notify', sendAuth, email)).statusCode).toBe(202);
      expect((await inject('GET', '/keys', sendAuth)).statusCode).toBe(403);
      expect((await inject('GET', '/settings/webhook', sendAuth)).statusCode).toBe(403);

      // Keys, the webhook endpoint and escalation policies need `admin`, even with send and read.
      const both = await issue(['send', 'read']);
      const bothAuth = { authorization: `Bearer ${both.key}` };
      const policy = { steps: [{ after: '5m', channels: ['sms'] }] };
      for (const [method, url, body] of [
        ['GET', '/settings/webhook', undefined],
        ['PUT', '/settings/webhook', { url: 'https://hooks.example.com/x' }],
        ['PUT', '/escalation-policies/oncall', policy],
        ['DELETE', '/escalation-policies/oncall', undefined],
        ['POST', '/keys', {}],
      ] as const) {
        const res = await inject(method, url, bothAuth, body);
        expect({ method, url, status: res.statusCode, detail: res.json().detail }).toEqual({
          method,
          url,
          status: 403,
          detail: 'This API key lacks the "admin" scope',
        });
      }
      expect((await inject('GET', '/escalation-policies/oncall', bothAuth)).statusCode).toBe(404);
      expect((await inject('PUT', '/escalation-policies/oncall', owner.auth, policy)).statusCode).toBe(200);
    });

    it('stops a revoked key at once, and keeps it listed as revoked', async () => {
      const doomed = await issue(['send', 'read']);
      const auth = { authorization: `Bearer ${doomed.key}` };
      expect((await inject('GET', '/audit', auth)).statusCode).toBe(200);
      expect((await inject('DELETE', `/keys/${doomed.id}`, owner.auth)).statusCode).toBe(204);
      const after = await inject('GET', '/audit', auth);
      expect(after.statusCode).toBe(401);
      expect(after.json().detail).toMatch(/revoked/);
      const listed = (await inject('GET', '/keys', owner.auth)).json().keys;
      expect(listed.find((k: { id: string }) => k.id === doomed.id).revoked_at).toEqual(expect.any(String));
      // The key making the request cannot revoke itself.
      expect((await inject('DELETE', `/keys/${keyIdOf(owner.apiKey)}`, owner.auth)).statusCode).toBe(409);
      // Another tenant's key id is not this tenant's to revoke.
      const other = await herald.createTenant();
      expect((await inject('DELETE', `/keys/${doomed.id}`, other.auth)).statusCode).toBe(404);
    });
  });

  describe('rate limits', () => {
    /** Fires `count` requests at once from `clients` callers over HTTP; returns the answers. */
    async function burst(count: number, clients: number, send: (i: number) => Promise<Response>) {
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: clients }, (_, c) =>
          Promise.all(Array.from({ length: Math.ceil(count / clients) }, (_, i) => send(c * 1000 + i))),
        ),
      );
      return { answers: answers.flat(), seconds: (Date.now() - started) / 1000 };
    }

    it('hold under a concurrent burst from several clients, answering the rest with a clean 429', async () => {
      const tenant = await herald.createTenant({ ratePerSecond: 1, burst: 10 });
      const { answers, seconds } = await burst(60, 4, () => fetch(`${base}/audit`, { headers: tenant.auth }));
      const accepted = answers.filter((a) => a.status === 200).length;
      // One a second, and a reserve of 10 refilled every 10 s: 11 at first, one more each second.
      expect(accepted).toBeGreaterThanOrEqual(11);
      expect(accepted).toBeLessThanOrEqual(11 + Math.ceil(seconds));
      expect(answers.filter((a) => a.status === 429)).toHaveLength(answers.length - accepted);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get('ratelimit-limit')).toBe('1');
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('ratelimit-policy')).toBe('1;w=1;burst=10');
      expect(((await refused.json()) as { title: string }).title).toBe('Too many requests');
      const ok = answers.find((a) => a.status === 200)!;
      expect(ok.headers.get('ratelimit-limit')).toBe('1');
    });

    it('accept nothing they refuse: every 202 is one notification, no 429 starts one', async () => {
      const tenant = await herald.createTenant({ ratePerSecond: 1, burst: 4 });
      const { answers } = await burst(16, 4, () =>
        fetch(`${base}/notify`, {
          method: 'POST',
          headers: { ...tenant.auth, 'content-type': 'application/json' },
          body: JSON.stringify(email),
        }),
      );
      const ids = await Promise.all(
        answers
          .filter((a) => a.status === 202)
          .map(async (a) => ((await a.json()) as { notification_id: string }).notification_id),
      );
      expect(ids.length).toBeGreaterThanOrEqual(5);
      expect(answers.every((a) => a.status === 202 || a.status === 429)).toBe(true);
      // Workflows start only from accepted notifications: the tenant's are exactly those answered 202.
      const stored = await herald.db
        .select({ id: notifications.id })
        .from(notifications)
        .where(eq(notifications.tenantId, tenant.id));
      expect(stored.map((n) => n.id).sort()).toEqual([...ids].sort());
      const started = async () => {
        let n = 0;
        for await (const _ of herald.temporal.workflow.list({ query: `HeraldTenant = "${tenant.id}"` })) n++;
        return n;
      };
      await eventually(started, (n) => n === ids.length);
    });

    it('enforce the daily quota on notifications, counting only those accepted', async () => {
      const tenant = await herald.createTenant({ dailyQuota: 2 });
      const send = (body: object, headers: object = {}) =>
        inject('POST', '/notify', { ...tenant.auth, ...headers }, body);
      expect((await send({ ...email, channels: ['carrier-pigeon'] })).statusCode).toBe(400);
      const first = await send(email, { 'idempotency-key': 'once' });
      expect(first.statusCode).toBe(202);
      expect(first.headers['ratelimit-remaining']).toBe('1');
      // A replay of an accepted request accepts nothing new.
      expect((await send(email, { 'idempotency-key': 'once' })).statusCode).toBe(202);
      expect((await send(email)).statusCode).toBe(202);
      const over = await send(email);
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ title: 'Daily quota exceeded' });
      const retryAfter = Number(over.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(86_400);
      // Reads are not notifications.
      expect((await inject('GET', '/audit', tenant.auth)).statusCode).toBe(200);
    });

    it('share one allowance between API instances through Redis', async () => {
      const redis = await startRedis();
      const clients = [connectRedis(redis.url), connectRedis(redis.url)];
      const { client, connection } = await connectClient(herald.config, herald.temporalAddress);
      const apis = await Promise.all(
        clients.map((r) =>
          buildApi({
            db: herald.db,
            temporal: client,
            taskQueue: herald.config.taskQueue,
            receiptWindowMs: 0,
            publicUrl: 'http://localhost',
            bodyLimit: 1024,
            devOutbox: false,
            tenantLimits: herald.config.tenantLimits,
            redis: r,
          }),
        ),
      );
      try {
        const tenant = await herald.createTenant({ ratePerSecond: 1, burst: 10 });
        const started = Date.now();
        const answers = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            apis[i % 2]!.inject({ method: 'GET', url: '/audit', headers: tenant.auth }),
          ),
        );
        const seconds = (Date.now() - started) / 1000;
        const accepted = answers.filter((a) => a.statusCode === 200).length;
        // Two instances counting apart would take 22; together they take one allowance.
        expect(accepted).toBeGreaterThanOrEqual(11);
        expect(accepted).toBeLessThanOrEqual(11 + Math.ceil(seconds));
        expect(answers.filter((a) => a.statusCode === 200).map((a) => a.statusCode)).toHaveLength(accepted);
      } finally {
        await Promise.all(apis.map((a) => a.close()));
        await connection.close();
        await Promise.all(clients.map((r) => r.quit()));
        await redis.stop();
      }
    });
  });

  describe('the audit log', () => {
    it('names the key that created and cancelled a notification, and the keys made and revoked', async () => {
      const tenant = await herald.createTenant();
      const keyId = (await inject('GET', '/keys', tenant.auth)).json().keys[0].id;
      const created = await inject('POST', '/notify', tenant.auth, {
        ...email,
        send_at: new Date(Date.now() + 3_600_000).toISOString(),
      });
      const id = created.json().notification_id;
      await eventually(
        () => inject('GET', `/status/${id}`, tenant.auth).then((r) => r.json()),
        (s) => s.status === 'scheduled',
      );
      expect((await inject('POST', `/notifications/${id}/cancel`, tenant.auth)).statusCode).toBe(202);
      expect((await inject('POST', `/notifications/${id}/cancel`, tenant.auth)).statusCode).toBe(202);
      const issued = (await inject('POST', '/keys', tenant.auth, { scopes: ['read'] })).json();
      await inject('DELETE', `/keys/${issued.id}`, tenant.auth);

      const events = (await inject('GET', `/audit?notification_id=${id}`, tenant.auth)).json().events;
      expect(events).toEqual([
        expect.objectContaining({ action: 'notification.cancelled', actor: keyId, notification_id: id }),
        expect.objectContaining({ action: 'notification.created', actor: keyId, notification_id: id }),
      ]);
      const keys = (await inject('GET', '/audit?action=key.revoked', tenant.auth)).json().events;
      expect(keys).toEqual([expect.objectContaining({ actor: keyId, target: issued.id })]);
      const other = await herald.createTenant();
      expect((await inject('GET', `/audit?notification_id=${id}`, other.auth)).json().events).toEqual([]);
    });
  });
});
