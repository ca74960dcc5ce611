import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

const RECIPIENTS = 120;
const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({
  id: `shopper-${i}`,
  phone: `+1415555${String(1000 + i).padStart(4, '0')}`,
}));

describe('experiments: consistent assignment, outcomes from clicks, and a winner made live', () => {
  let herald: TestHerald;
  let tenant: TestTenant;

  beforeAll(async () => {
    herald = await startTestHerald({ HERALD_EXPERIMENT_EVALUATE_SECONDS: '1' });
    tenant = await herald.createTenant();
  }, 180_000);
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    herald.api.inject({ method, url, headers: tenant.auth, ...(payload ? { payload } : {}) });
  const settled = (id: string) =>
    eventually(
      () => call('GET', `/status/${id}`).then((r) => r.json()),
      (s) => !['accepted', 'sending'].includes(s.status),
    );
  const send = async (template: string) => {
    const res = await call('POST', '/notify', { channels: ['sms'], recipients, template });
    expect(res.statusCode).toBe(202);
    return settled(res.json().notification_id);
  };

  async function twoVersions(key: string) {
    await call('PUT', `/templates/${key}`, { sms: { text: 'Our deal: https://shop.example/a' } });
    await call('PUT', `/templates/${key}`, { sms: { text: 'A better deal: https://shop.example/b' } });
  }

  it('assigns each recipient a variant once, counts clicks, and publishes the winner', async () => {
    await twoVersions('promo');
    const created = await call('POST', '/templates/promo/experiments', {
      variants: [
        { name: 'control', version: 1, weight: 1 },
        { name: 'better', version: 2, weight: 1 },
      ],
      metric: 'clicked',
      min_samples: 30,
      // Tuned to a large lift, so a few dozen recipients per variant can show it.
      expected_lift: 3,
    });
    expect(created.statusCode).toBe(201);
    const experiment = created.json();
    expect(experiment).toMatchObject({ template: 'promo', metric: 'clicked', state: 'running' });
    const again = await call('POST', '/templates/promo/experiments', {
      variants: [
        { name: 'a', version: 1 },
        { name: 'b', version: 2 },
      ],
      metric: 'clicked',
    });
    expect(again.statusCode).toBe(409);

    const first = await send('promo');
    const variantOf = new Map<string, string>(
      first.deliveries.map((d: { recipient_id: string; variant: string }) => [d.recipient_id, d.variant]),
    );
    expect(new Set(variantOf.values())).toEqual(new Set(['control', 'better']));
    for (const d of first.deliveries) expect(d.version).toBe(d.variant === 'control' ? 1 : 2);
    // A second send to the same people: everyone keeps the variant they had.
    const second = await send('promo');
    for (const d of second.deliveries) expect(d.variant).toBe(variantOf.get(d.recipient_id));

    const exposed = (await call('GET', `/experiments/${experiment.id}`)).json();
    const count = (name: string) => [...variantOf.values()].filter((v) => v === name).length;
    expect(exposed.variants).toEqual([
      expect.objectContaining({ name: 'control', exposed: count('control'), outcomes: 0 }),
      expect.objectContaining({ name: 'better', exposed: count('better'), outcomes: 0 }),
    ]);

    // Everyone who got the better version clicks it, one in ten of the control's do; some click twice.
    const outbox = (await call('GET', `/dev/outbox?notification_id=${first.notification_id}&limit=1000`)).json()
      .messages;
    expect(outbox).toHaveLength(RECIPIENTS);
    let clicks = { control: 0, better: 0 };
    for (const [i, message] of (outbox as { recipient: string; text: string }[]).entries()) {
      const who = recipients.find((r) => r.phone === message.recipient)!.id;
      const variant = variantOf.get(who) as 'control' | 'better';
      if (variant === 'control' && i % 10 !== 0) continue;
      const token = /\/r\/(\S+)/.exec(message.text)![1]!;
      for (let n = 0; n < (i % 2) + 1; n++) {
        const res = await herald.api.inject({ method: 'GET', url: `/r/${token}` });
        expect(res.headers.location).toBe(variant === 'better' ? 'https://shop.example/b' : 'https://shop.example/a');
      }
      clicks = { ...clicks, [variant]: clicks[variant] + 1 };
    }
    const decided = await eventually(
      () => call('GET', `/experiments/${experiment.id}`).then((r) => r.json()),
      (e) => e.state !== 'running',
      60_000,
    );
    expect(decided).toMatchObject({ state: 'winner', winner: 'better' });
    // It may decide before the last clicks: those come after and count no more.
    expect(decided.variants.map((v: { state: string }) => v.state)).toEqual(['control', 'winner']);
    expect(decided.variants[0].outcomes).toBeLessThanOrEqual(clicks.control);
    expect(decided.variants[1].outcomes).toBeLessThanOrEqual(clicks.better);
    expect(decided.variants[1].outcomes).toBeGreaterThan(decided.variants[0].outcomes);
    const better = decided.variants[1];
    expect(better.p_value).toBeLessThan(0.05);
    expect(better.interval[0]).toBeGreaterThan(0);
    expect(decided.reason).toMatch(/better/);

    expect((await call('GET', '/templates/promo')).json().live_version).toBe(2);
    const audit = (await call('GET', '/audit?action=experiment.decided')).json().events;
    expect(audit).toEqual([
      expect.objectContaining({ actor: 'experiment', target: 'promo@2', detail: decided.reason }),
    ]);
  });

  it('refuses a control nobody would see, and ends an experiment whose template is deleted', async () => {
    await twoVersions('flyer');
    const variants = [
      { name: 'control', version: 1, weight: 0 },
      { name: 'b', version: 2 },
    ];
    const unseen = await call('POST', '/templates/flyer/experiments', { variants, metric: 'clicked' });
    expect(unseen.statusCode).toBe(422);
    expect(unseen.json().field).toBe('variants[0].weight');
    const unknown = await call('POST', '/templates/flyer/experiments', {
      variants: [
        { name: 'a', version: 1 },
        { name: 'b', version: 7 },
      ],
      metric: 'clicked',
    });
    expect(unknown.json()).toMatchObject({ status: 422, field: 'variants[1].version' });
    const started = await call('POST', '/templates/flyer/experiments', {
      variants: [
        { name: 'a', version: 1 },
        { name: 'b', version: 2 },
      ],
      metric: 'clicked',
    });
    expect(started.statusCode).toBe(201);
    expect(
      (await herald.api.inject({ method: 'DELETE', url: '/templates/flyer', headers: tenant.auth })).statusCode,
    ).toBe(204);
    expect((await call('GET', `/experiments/${started.json().id}`)).json()).toMatchObject({ state: 'no_winner' });
  });

  it("refuses at accept a channel one variant has no body for, naming the variant's version", async () => {
    await call('PUT', '/templates/reminder', {
      sms: { text: 'Your visit is tomorrow' },
      push: { title: 'Visit', body: 'Tomorrow' },
    });
    await call('PUT', '/templates/reminder', { sms: { text: 'See you tomorrow' } });
    const started = await call('POST', '/templates/reminder/experiments', {
      variants: [
        { name: 'control', version: 1 },
        { name: 'sms-only', version: 2 },
      ],
      metric: 'delivered',
    });
    expect(started.statusCode).toBe(201);
    const push = await call('POST', '/notify', {
      channels: ['push'],
      recipients: [{ id: 'patient-1', push_tokens: ['token-1'] }],
      template: 'reminder',
    });
    expect(push.statusCode).toBe(422);
    expect(push.json()).toMatchObject({
      field: 'channels',
      detail: 'Template reminder (version 2) has no push body: add one, or leave push out',
    });
    const sms = await call('POST', '/notify', {
      channels: ['sms'],
      recipients: recipients.slice(0, 2),
      template: 'reminder',
    });
    expect(sms.statusCode).toBe(202);
  });

  it('keeps the control when stopped without a winner, and says so', async () => {
    await twoVersions('nudge');
    const experiment = (
      await call('POST', '/templates/nudge/experiments', {
        variants: [
          { name: 'control', version: 1 },
          { name: 'shorter', version: 2 },
        ],
        metric: 'delivered',
        min_samples: 1000,
      })
    ).json();
    await send('nudge');
    const running = (await call('GET', `/experiments/${experiment.id}`)).json();
    expect(running.state).toBe('running');
    expect(running.variants.reduce((n: number, v: { exposed: number }) => n + v.exposed, 0)).toBe(RECIPIENTS);

    const stopped = await call('POST', `/experiments/${experiment.id}/stop`);
    expect(stopped.statusCode).toBe(200);
    expect(stopped.json()).toMatchObject({ state: 'no_winner', ended_at: expect.any(String) });
    expect(stopped.json().reason).toMatch(/control/i);
    expect((await call('GET', '/templates/nudge')).json().live_version).toBe(1);
    const list = (await call('GET', '/experiments?template=nudge')).json().experiments;
    expect(list).toEqual([expect.objectContaining({ id: experiment.id, state: 'no_winner' })]);
  });
});
