import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';

/** Routes outside any tenant, and why no tenant's data is behind them. */
const OUTSIDE_TENANTS: Record<string, string> = {
  'GET /healthz': 'process health',
  'GET /readyz': 'process readiness',
  'POST /webhook/callback': "providers' signed receipts, matched by provider message id",
  'POST /webhook/twilio': "Twilio's signed callbacks",
  'POST /webhook/sendgrid': "SendGrid's signed events",
  'GET /ack/{token}': 'a signed link carries its tenant',
  'POST /ack/{token}': 'a signed link carries its tenant',
  'GET /unsubscribe/{token}': 'a signed link carries its tenant',
  'POST /unsubscribe/{token}': 'a signed link carries its tenant',
  'GET /r/{id}': 'a tracked link: its id carries its tenant',
};

const UNLIMITED = { ratePerSecond: 100_000, burst: 100_000, dailyQuota: null };

describe("every tenant route: tenant B can neither see nor touch tenant A's data", () => {
  let herald: TestHerald;
  let a: TestTenant;
  let b: TestTenant;
  const ids = { notification: '', key: '', webhookSecret: '', broadcast: '', experiment: '', inboxMessage: '' };

  const call = (as: TestTenant, method: Method, url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: as.auth, payload });

  // Herald's start takes a minute or more on a loaded machine (the workflows are bundled for its worker).
  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_ADMIN_TOKEN: 'admin-token-isolation-0123456789' });
    // Limits out of the way: the walk makes many calls a second, and limits have tests of their own.
    a = await herald.createTenant(UNLIMITED);
    await call(a, 'PUT', '/recipients/ada', { email: 'ada@example.com' });
    await call(a, 'PUT', '/recipients/ada/preferences', { channels: { sms: false } });
    await call(a, 'PUT', '/escalation-policies/oncall', { steps: [{ after: '5m', channels: ['sms'] }] });
    await call(a, 'PUT', '/settings/inbox', { feeds: [{ name: 'alerts', categories: ['oncall'] }] });
    ids.webhookSecret = (
      await call(a, 'PUT', '/settings/webhook', { url: 'https://hooks.example.com/a' })
    ).json().secret;
    ids.key = (await call(a, 'POST', '/keys', { name: 'ci', scopes: ['read'] })).json().id;
    await call(a, 'PUT', '/templates/welcome', { sms: { text: 'Welcome, {{ name }}' } });
    await call(a, 'PUT', '/templates/welcome', { sms: { text: 'Hi {{ name }}, welcome' } });
    const experiment = await call(a, 'POST', '/templates/welcome/experiments', {
      variants: [
        { name: 'a', version: 1 },
        { name: 'b', version: 2 },
      ],
      metric: 'clicked',
    });
    expect(experiment.statusCode).toBe(201);
    ids.experiment = experiment.json().id;
    const schedule = await call(a, 'POST', '/schedules', {
      id: 'nightly',
      cron: '0 3 * * *',
      notification: { channels: ['in_app'], recipient_ids: ['ada'], message: 'nightly' },
    });
    expect(schedule.statusCode).toBe(201);
    ids.broadcast = (
      await call(a, 'POST', '/broadcasts', {
        channels: ['email'],
        recipients: [{ email: 'ada@example.com' }],
        message: 'all',
      })
    ).json().broadcast_id;
    const inbox = await call(a, 'POST', '/notify', { channels: ['in_app'], recipient_ids: ['ada'], message: 'a' });
    const delivered = inbox.json().notification_id;
    await eventually(
      () => call(a, 'GET', `/status/${delivered}`).then((r) => r.json()),
      (s) => s.status === 'delivered',
    );
    ids.inboxMessage = String((await call(a, 'GET', '/recipients/ada/inbox')).json().messages[0].id);
    const pending = await call(a, 'POST', '/notify', {
      channels: ['email'],
      recipient_ids: ['ada'],
      message: 'later',
      category: 'oncall',
      send_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    ids.notification = pending.json().notification_id;
    await eventually(
      () => call(a, 'GET', `/status/${ids.notification}`).then((r) => r.json()),
      (s) => s.status === 'scheduled',
    );
  }, 180_000);
  // A new tenant B for each attempt: what B made in one attempt does not meet the next.
  beforeEach(async () => {
    b = await herald.createTenant(UNLIMITED);
  });
  afterAll(() => herald?.stop());

  const n = () => ids.notification;
  /** What B tries on each route, and what it must get: 404, or (in B's own namespace) nothing of A's. */
  const attempts: Record<string, { url: () => string; body?: object; expect: 401 | 404 | 422 | 'nothing of A' }> = {
    // A's stored recipient is no recipient of B's.
    'POST /notify': {
      url: () => '/notify',
      body: { channels: ['email'], recipient_ids: ['ada'], message: 'x' },
      expect: 422,
    },
    'GET /status/{notification_id}': { url: () => `/status/${n()}`, expect: 404 },
    'POST /notifications/{notification_id}/cancel': { url: () => `/notifications/${n()}/cancel`, expect: 404 },
    'POST /notifications/{notification_id}/ack': { url: () => `/notifications/${n()}/ack`, expect: 404 },
    'POST /notifications/{notification_id}/resolve': { url: () => `/notifications/${n()}/resolve`, expect: 404 },
    'POST /notifications/{notification_id}/retry': { url: () => `/notifications/${n()}/retry`, expect: 404 },
    'GET /broadcasts/{broadcast_id}': { url: () => `/broadcasts/${ids.broadcast}`, expect: 404 },
    'POST /broadcasts/{broadcast_id}/cancel': { url: () => `/broadcasts/${ids.broadcast}/cancel`, expect: 404 },
    'POST /broadcasts': {
      url: () => '/broadcasts',
      body: { channels: ['in_app'], recipients: [{ id: 'b-member' }], message: 'b' },
      expect: 'nothing of A',
    },
    'GET /recipients/{id}': { url: () => '/recipients/ada', expect: 404 },
    'DELETE /recipients/{id}': { url: () => '/recipients/ada', expect: 404 },
    'GET /recipients/{id}/inbox': { url: () => '/recipients/ada/inbox', expect: 'nothing of A' },
    'GET /recipients/{id}/inbox/counts': { url: () => '/recipients/ada/inbox/counts', expect: 'nothing of A' },
    'GET /settings/inbox': { url: () => '/settings/inbox', expect: 'nothing of A' },
    // A key opens no live inbox; B's token for its own `ada` hears only B's (the live inbox suite checks).
    'GET /inbox/stream': { url: () => '/inbox/stream', expect: 401 },
    'PUT /settings/inbox': { url: () => '/settings/inbox', body: { feeds: [{ name: 'b' }] }, expect: 'nothing of A' },
    // A token B makes for its own `ada`: it opens B's inbox, never A's (the recipient tokens suite reads with it).
    'POST /recipients/{id}/tokens': { url: () => '/recipients/ada/tokens', body: {}, expect: 'nothing of A' },
    ...Object.fromEntries(
      ['seen', 'read', 'interacted', 'unread', 'archive', 'unarchive', 'snooze'].map((action) => [
        `POST /recipients/{id}/inbox/${action}`,
        {
          url: () => `/recipients/ada/inbox/${action}`,
          // A's message, by its id, known once the setup has run.
          get body() {
            return {
              ids: [Number(ids.inboxMessage)],
              ...(action === 'snooze' ? { until: '2099-01-01T00:00:00Z' } : {}),
            };
          },
          expect: 'nothing of A' as const,
        },
      ]),
    ),
    'DELETE /recipients/{id}/inbox/messages/{message_id}': {
      url: () => `/recipients/ada/inbox/messages/${ids.inboxMessage}`,
      expect: 404,
    },
    'GET /recipients/{id}/preferences': { url: () => '/recipients/ada/preferences', expect: 'nothing of A' },
    'PUT /recipients/{id}': {
      url: () => '/recipients/ada',
      body: { email: 'mallory@example.com' },
      expect: 'nothing of A',
    },
    'PUT /recipients/{id}/preferences': {
      url: () => '/recipients/ada/preferences',
      body: { enabled: false },
      expect: 'nothing of A',
    },
    'POST /recipients/{id}/unsubscribe': { url: () => '/recipients/ada/unsubscribe', body: {}, expect: 'nothing of A' },
    'GET /escalation-policies/{category}': { url: () => '/escalation-policies/oncall', expect: 404 },
    'DELETE /escalation-policies/{category}': { url: () => '/escalation-policies/oncall', expect: 404 },
    'PUT /escalation-policies/{category}': {
      url: () => '/escalation-policies/oncall',
      body: { steps: [{ after: '1m', channels: ['voice'] }] },
      expect: 'nothing of A',
    },
    'GET /settings/webhook': { url: () => '/settings/webhook', expect: 404 },
    'PUT /settings/webhook': {
      url: () => '/settings/webhook',
      body: { url: 'https://hooks.example.com/b' },
      expect: 'nothing of A',
    },
    'GET /schedules': { url: () => '/schedules', expect: 'nothing of A' },
    'GET /schedules/{id}': { url: () => '/schedules/nightly', expect: 404 },
    'DELETE /schedules/{id}': { url: () => '/schedules/nightly', expect: 404 },
    'POST /schedules/{id}/pause': { url: () => '/schedules/nightly/pause', expect: 404 },
    'POST /schedules/{id}/unpause': { url: () => '/schedules/nightly/unpause', expect: 404 },
    'POST /schedules/{id}/trigger': { url: () => '/schedules/nightly/trigger', expect: 404 },
    'GET /audit': { url: () => `/audit?notification_id=${n()}`, expect: 'nothing of A' },
    'GET /keys': { url: () => '/keys', expect: 'nothing of A' },
    'POST /keys': { url: () => '/keys', body: {}, expect: 'nothing of A' },
    'DELETE /keys/{key_id}': { url: () => `/keys/${ids.key}`, expect: 404 },
    'GET /dev/outbox': { url: () => '/dev/outbox', expect: 'nothing of A' },
    'GET /metrics': { url: () => '/metrics', expect: 'nothing of A' },
    // B's own template under A's key.
    'PUT /templates/{key}': { url: () => '/templates/welcome', body: { sms: { text: 'B' } }, expect: 'nothing of A' },
    'GET /templates': { url: () => '/templates', expect: 'nothing of A' },
    'GET /templates/{key}': { url: () => '/templates/welcome', expect: 404 },
    'DELETE /templates/{key}': { url: () => '/templates/welcome', expect: 404 },
    'GET /templates/{key}/versions/{version}': { url: () => '/templates/welcome/versions/1', expect: 404 },
    'POST /templates/{key}/publish': { url: () => '/templates/welcome/publish', body: { version: 2 }, expect: 404 },
    'POST /templates/{key}/preview': { url: () => '/templates/welcome/preview', body: { channel: 'sms' }, expect: 404 },
    'POST /templates/{key}/experiments': {
      url: () => '/templates/welcome/experiments',
      body: {
        variants: [
          { name: 'a', version: 1 },
          { name: 'b', version: 2 },
        ],
        metric: 'clicked',
      },
      expect: 404,
    },
    'GET /experiments': { url: () => '/experiments', expect: 'nothing of A' },
    'GET /experiments/{id}': { url: () => `/experiments/${ids.experiment}`, expect: 404 },
    'POST /experiments/{id}/stop': { url: () => `/experiments/${ids.experiment}/stop`, expect: 404 },
    'GET /settings/templates': { url: () => '/settings/templates', expect: 'nothing of A' },
    'PUT /settings/templates': {
      url: () => '/settings/templates',
      body: { click_tracking: false },
      expect: 'nothing of A',
    },
    // One of B's own under A's schedule id.
    'POST /schedules': {
      url: () => '/schedules',
      body: {
        id: 'nightly',
        cron: '0 4 * * *',
        notification: { channels: ['in_app'], recipients: [{ id: 'x' }], message: 'b' },
      },
      expect: 'nothing of A',
    },
  };

  /** A's data is as A left it, whatever B tried. */
  async function expectAAsItWas() {
    const status = (await call(a, 'GET', `/status/${n()}`)).json();
    expect(status.status).toBe('scheduled');
    expect(status.timeline.map((e: { event: string }) => e.event)).toEqual(['scheduled']);
    expect((await call(a, 'GET', '/recipients/ada')).json()).toMatchObject({ email: 'ada@example.com' });
    expect((await call(a, 'GET', '/recipients/ada/preferences')).json()).toMatchObject({
      version: 1,
      channels: { sms: false },
    });
    expect((await call(a, 'GET', '/recipients/ada/inbox')).json().messages).toEqual([
      expect.objectContaining({
        seen_at: null,
        read_at: null,
        interacted_at: null,
        archived_at: null,
        snoozed_until: null,
      }),
    ]);
    expect((await call(a, 'GET', '/escalation-policies/oncall')).json()).toMatchObject({
      steps: [{ after: '5m', channels: ['sms'] }],
    });
    expect((await call(a, 'GET', '/settings/webhook')).json()).toEqual({
      url: 'https://hooks.example.com/a',
      secret: ids.webhookSecret,
    });
    expect((await call(a, 'GET', '/schedules/nightly')).json()).toMatchObject({ cron: '0 3 * * *', paused: false });
    const keys = (await call(a, 'GET', '/keys')).json().keys;
    expect(keys.find((k: { id: string }) => k.id === ids.key).revoked_at).toBeUndefined();
    const broadcast = await eventually(
      () => call(a, 'GET', `/broadcasts/${ids.broadcast}`).then((r) => r.json()),
      (p) => p.status === 'completed',
    );
    expect(broadcast).toMatchObject({ recipients: 1, deliveries: { delivered: 1 } });
    expect((await call(a, 'GET', '/templates/welcome')).json()).toMatchObject({
      live_version: 1,
      versions: [{ version: 2 }, { version: 1 }],
    });
    expect((await call(a, 'GET', `/experiments/${ids.experiment}`)).json()).toMatchObject({ state: 'running' });
    expect((await call(a, 'GET', '/settings/templates')).json()).toEqual({ click_tracking: true });
    expect((await call(a, 'GET', '/settings/inbox')).json()).toEqual({
      feeds: [{ name: 'alerts', categories: ['oncall'] }],
    });
    const audit = (await call(a, 'GET', `/audit?notification_id=${n()}`)).json().events;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['notification.created']);
  }

  it('covers every route the API serves', async () => {
    const doc = (await herald.api.inject({ method: 'GET', url: '/docs/json' })).json();
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const tenantRoutes = routes.filter((r) => !(r in OUTSIDE_TENANTS) && !r.includes(' /admin/'));
    expect(tenantRoutes.filter((r) => !(r in attempts))).toEqual([]);
  });

  it.each(Object.keys(attempts))('%s', async (route) => {
    const attempt = attempts[route]!;
    const method = route.split(' ')[0] as Method;
    const res = await call(b, method, attempt.url(), attempt.body);
    if (attempt.expect === 'nothing of A') {
      expect(res.statusCode).toBeLessThan(300);
      // A's ids appear nowhere in what B gets back (a 404 may echo the id B itself asked for).
      for (const id of [ids.notification, ids.key, ids.broadcast, ids.experiment]) expect(res.body).not.toContain(id);
    } else {
      expect(res.statusCode).toBe(attempt.expect);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    for (const secret of [ids.webhookSecret, 'ada@example.com', 'hooks.example.com/a'])
      expect(res.body).not.toContain(secret);
    await expectAAsItWas();
  });
});
