import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import * as schema from '../../db/schema';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

const ADMIN_TOKEN = 'admin-token-hostile-input-0123456789';

/** Tables whose rows a request can create; a refused request must leave every count as it was. */
const TABLES = {
  tenants: schema.tenants,
  apiKeys: schema.apiKeys,
  recipients: schema.recipients,
  preferences: schema.preferences,
  escalationPolicies: schema.escalationPolicies,
  notifications: schema.notifications,
  deliveries: schema.deliveries,
  inboxMessages: schema.inboxMessages,
  auditEvents: schema.auditEvents,
  seenWebhooks: schema.seenWebhooks,
  devOutbox: schema.devOutbox,
  broadcasts: schema.broadcasts,
  broadcastChunks: schema.broadcastChunks,
  templates: schema.templates,
  templateVersions: schema.templateVersions,
  experiments: schema.experiments,
  experimentExposures: schema.experimentExposures,
  trackedLinks: schema.trackedLinks,
  inboxTokenRevocations: schema.inboxTokenRevocations,
  inboxEvents: schema.inboxEvents,
};

/** Valid bodies to mutate: a mutated valid body gets past the first checks and probes the deeper ones. */
const VALID_BODIES: Record<string, object> = {
  'POST /notify': { channels: ['email', 'sms'], recipients: [{ id: 'r', email: 'r@example.com' }], message: 'x' },
  'POST /broadcasts': { channels: ['email'], recipients: [{ email: 'r@example.com' }], message: 'x' },
  'PUT /recipients/{id}': { email: 'r@example.com', phone: '+14155550100', timezone: 'Europe/Paris' },
  'PUT /recipients/{id}/preferences': { channels: { sms: false }, quiet_hours: { start: '22:00', end: '07:00' } },
  'PUT /escalation-policies/{category}': { steps: [{ after: '5m', channels: ['sms'] }], repeat: 1 },
  'POST /schedules': {
    id: 's',
    cron: '0 9 * * *',
    notification: { channels: ['in_app'], recipients: [{ id: 'r' }], message: 'x' },
  },
  'PUT /settings/webhook': { url: 'https://hooks.example.com/x' },
  'POST /keys': { name: 'k', scopes: ['read'] },
  'POST /admin/tenants': { id: 'tenant-x', daily_quota: 10 },
  'PATCH /admin/tenants/{tenant_id}': { burst: 5 },
  'POST /webhook/callback': { provider_message_id: 'm', status: 'delivered' },
  'PUT /templates/{key}': {
    sms: { text: '{{ "hi" | t: name: name }}' },
    email: { subject: 's', html: '<p>{{ name }}</p>' },
    webhook: { payload: { a: ['{{ name }}'] } },
    locales: { en: { hi: { one: 'a', other: 'b' } } },
    default_locale: 'en',
  },
  'POST /templates/{key}/preview': { channel: 'sms', locale: 'fr-CA', data: { name: 'x' } },
  'POST /recipients/{id}/inbox/snooze': { all: true, category: 'news', until: '2099-01-01T00:00:00Z' },
  'POST /recipients/{id}/inbox/read': { ids: [1, 2] },
  'POST /recipients/{id}/tokens': { ttl: '1h' },
  'PUT /settings/inbox': { feeds: [{ name: 'money', categories: ['billing'] }, { name: 'all' }] },
  'POST /templates/{key}/experiments': {
    variants: [
      { name: 'a', version: 1 },
      { name: 'b', version: 2 },
    ],
    metric: 'clicked',
  },
  'PUT /settings/templates': { default_locale: 'fr', click_tracking: false },
};

interface Operation {
  method: string;
  path: string;
  route: string;
}

describe('hostile input: thousands of random and malformed requests at every route', () => {
  let herald: TestHerald;
  let tenant: TestTenant;
  let operations: Operation[];

  beforeAll(async () => {
    // Its own database: counting rows would otherwise count other test files' writes too.
    herald = await startTestHerald({ HERALD_ADMIN_TOKEN: ADMIN_TOKEN }, { isolated: true });
    tenant = await herald.createTenant({ ratePerSecond: 100_000, burst: 100_000 });
    const doc = (await herald.api.inject({ method: 'GET', url: '/docs/json' })).json();
    operations = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path, route: `${m.toUpperCase()} ${path}` })),
    );
  });
  afterAll(() => herald?.stop());

  /** Every table's row count, in one query: it runs twice for each of thousands of requests. */
  async function counts(): Promise<Record<string, number>> {
    const columns = Object.entries(TABLES).map(
      ([name, table]) => sql`(select count(*)::int from ${table}) as ${sql.identifier(name)}`,
    );
    const { rows } = (await herald.db.execute(sql`select ${sql.join(columns, sql`, `)}`)) as unknown as {
      rows: Record<string, number>[];
    };
    return rows[0]!;
  }

  const weirdString = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('', ' ', '..', '../..', '%00', '\u0000', 'null', '0', '-1', '1e309', '<script>', "' or 1=1 --"),
    fc.string({ minLength: 1100, maxLength: 1200 }),
  );

  const mutatedBody = (valid: object) =>
    fc
      .record({
        key: fc.constantFrom(...Object.keys(valid), 'unknown_field'),
        value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), weirdString),
        drop: fc.boolean(),
      })
      .map(({ key, value, drop }) => {
        const body: Record<string, unknown> = { ...valid };
        if (drop) delete body[key];
        else body[key] = value;
        return JSON.stringify(body);
      });

  const request = (op: Operation) =>
    fc.record({
      params: fc.array(weirdString, { minLength: 4, maxLength: 4 }),
      body: fc.oneof(
        fc.constant(undefined),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 200 }),
        fc.constantFrom('null', '[]', '{}', '{"a":', '{"__proto__":{"admin":true}}', '"x"', '1e400'),
        VALID_BODIES[op.route] ? mutatedBody(VALID_BODIES[op.route]!) : fc.constant('{}'),
        fc.nat({ max: 300_000 }).map((n) => JSON.stringify({ message: 'x'.repeat(n) })),
      ),
      contentType: fc.option(
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
          'multipart/form-data; boundary=x',
          'x/y',
        ),
      ),
      auth: fc.constantFrom('tenant', 'admin', 'none', 'garbage', 'malformed'),
      query: fc.dictionary(
        fc.constantFrom('limit', 'before', 'action', 'notification_id', 'api_key', 'x'),
        weirdString,
        {
          maxKeys: 3,
        },
      ),
      idempotencyKey: fc.option(weirdString),
      ifMatch: fc.option(weirdString),
    });

  const arbitrary = () => fc.constantFrom(...operations).chain((op) => request(op).map((r) => ({ op, ...r })));

  it('answers every one with a 2xx or a 4xx problem naming what is wrong, and a refused one changes nothing', async () => {
    const accepted: string[] = [];
    await fc.assert(
      fc.asyncProperty(arbitrary(), async (r) => {
        let i = 0;
        const url = r.op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.params[i++]!));
        const query = new URLSearchParams(r.query).toString();
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.auth === 'tenant') headers.authorization = tenant.auth.authorization;
        if (r.auth === 'admin') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
        if (r.auth === 'garbage')
          headers.authorization = `Bearer hk_0123456789_${r.params[0]}`.replace(/[^\x21-\x7e ]/g, '');
        if (r.auth === 'malformed') headers.authorization = 'Basic Zm9vOmJhcg==';
        if (r.idempotencyKey) headers['idempotency-key'] = r.idempotencyKey.replace(/[^\x20-\x7e]/g, '');
        if (r.ifMatch) headers['if-match'] = r.ifMatch.replace(/[^\x20-\x7e]/g, '');
        const before = r.op.method === 'GET' ? undefined : await counts();
        const res = await herald.api.inject({
          method: r.op.method as 'GET',
          url: query ? `${url}?${query}` : url,
          headers,
          payload: r.body,
          // Wrong credentials come from an address of their own: failed authentication is throttled per
          // address, and the right ones sent from here must still get through.
          ...(r.auth === 'garbage' || (r.auth === 'tenant' && r.op.path.startsWith('/admin'))
            ? { remoteAddress: '192.0.2.66' }
            : {}),
        });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) {
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          const problem = res.json();
          expect(problem).toMatchObject({ status: res.statusCode, title: expect.any(String) });
          expect(problem.detail).toEqual(expect.any(String));
          if (res.statusCode === 400) expect(problem.field).toEqual(expect.any(String));
          if (before) expect(await counts()).toEqual(before);
        } else if (r.op.route === 'POST /notify') {
          accepted.push(res.json().notification_id);
        } else if (r.op.route === 'POST /broadcasts') {
          accepted.push(res.json().broadcast_id);
        }
      }),
      { numRuns: 2500, seed: Number(process.env.FAST_CHECK_SEED ?? 20261122), endOnFailure: true },
    );

    // No refused request started a workflow: the tenant has exactly the notifications and broadcasts it was told were accepted.
    const workflows = async () => {
      let n = 0;
      for await (const _ of herald.temporal.workflow.list({ query: `HeraldTenant = "${tenant.id}"` })) n++;
      return n;
    };
    await eventually(workflows, (n) => n === new Set(accepted).size);
    expect((await herald.api.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 300_000);

  it('refuses a JSON null body on every route that takes a body, naming the body', async () => {
    const doc = (await herald.api.inject({ method: 'GET', url: '/docs/json' })).json();
    const withBody = operations.filter(
      (op) => (doc.paths[op.path][op.method.toLowerCase()].requestBody as object | undefined) !== undefined,
    );
    expect(withBody.length).toBeGreaterThan(10);
    for (const op of withBody.filter((o) => !o.path.startsWith('/webhook/'))) {
      const res = await herald.api.inject({
        method: op.method as 'POST',
        url: op.path.replace(/\{[^}]+\}/g, 'x'),
        headers: {
          'content-type': 'application/json',
          authorization: op.path.startsWith('/admin/') ? `Bearer ${ADMIN_TOKEN}` : tenant.auth.authorization,
        },
        payload: 'null',
      });
      expect({ route: op.route, status: res.statusCode }).toEqual({ route: op.route, status: 400 });
      expect(res.json().field).toBe('body');
    }
  });
});
