import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { eventually } from '../support/herald';
import { registry } from '../../observability/metrics';

/** How Herald treats a provider that fails, stalls or must not be sent to too fast: a Herald of its own for each. */
const sms = (n: number) => ({
  channels: ['sms'],
  recipients: [{ id: `p${n}`, phone: `+1415555${String(n).padStart(4, '0')}` }],
  message: 'Hi',
});
/** Herald's start takes a minute or more on a loaded machine (the workflows are bundled for its worker). */
const STARTUP_MS = 180_000;

describe('provider health: circuit breaking', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({
      // Three: the circuit cannot open before the third failed try, when the send fails over anyway, so
      // where its rolling window's one-second buckets fall between the retries does not matter.
      HERALD_CIRCUIT_MIN_REQUESTS: '3',
      HERALD_CIRCUIT_RESET_SECONDS: '2',
    });
  }, STARTUP_MS);
  afterAll(() => h?.stop());

  const circuitGauge = async () =>
    (await registry.getSingleMetric('herald_provider_circuit_open')!.get()).values.find(
      (v) => v.labels.provider === 'twilio',
    )?.value;
  const twilioFailovers = async () =>
    (await registry.getSingleMetric('herald_provider_failovers_total')!.get()).values.find(
      (v) => v.labels.channel === 'sms' && v.labels.provider === 'twilio',
    )?.value ?? 0;
  let next = 1;
  /** One SMS, settled, and whether Twilio heard of it. */
  const smsSent = async () => {
    const asked = h.fakes.twilio.requests.length;
    const s = await h.settled(await h.notify(sms(next++)));
    return { delivery: s.deliveries[0]!, twilioAsked: h.fakes.twilio.requests.length > asked };
  };

  it('opens the circuit of a failing provider, skips it while open, and closes it once a trial send succeeds', async () => {
    const failoversBefore = await twilioFailovers();
    h.fakes.twilio.down = { status: 503, body: { code: 20500, message: 'Service unavailable' } };
    const first = await smsSent();
    expect(first.delivery).toMatchObject({ status: 'sent', provider: 'vonage', providers_tried: ['twilio', 'vonage'] });
    expect(await circuitGauge()).toBe(1);
    expect((await twilioFailovers()) - failoversBefore).toBe(1);

    // While the circuit is open Twilio is not even asked: the send goes straight to Vonage. (A send that
    // comes after the reset time is the trial, fails on Twilio, still down, and opens the circuit again.)
    const skipped = await eventually(smsSent, (s) => !s.twilioAsked, 30_000);
    expect(skipped.delivery).toMatchObject({ status: 'sent', provider: 'vonage', providers_tried: ['vonage'] });

    // Twilio recovers; after the reset time one trial send goes through and closes the circuit.
    h.fakes.twilio.down = undefined;
    const lastFailure = h.fakes.twilio.requests.at(-1)!.at;
    const trial = await eventually(smsSent, (s) => s.twilioAsked, 30_000);
    expect(trial.delivery).toMatchObject({ provider: 'twilio', providers_tried: ['twilio'] });
    expect(await circuitGauge()).toBe(0);
    // The circuit opened on Twilio's last failed answer: the trial waited the reset time from it at least.
    expect(h.fakes.twilio.requests.at(-1)!.at - lastFailure).toBeGreaterThanOrEqual(2000);
  });
});

describe('provider health: channel isolation', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({ HERALD_CHANNEL_CONCURRENCY: 'sms=2' });
  }, STARTUP_MS);
  afterAll(() => h?.stop());

  it('keeps email flowing while a stalled SMS provider holds every SMS slot', async () => {
    h.fakes.twilio.down = { hang: true };
    const stuck = await Promise.all([10, 11, 12].map((n) => h.notify(sms(n))));
    const atTwilio = () => h.fakes.twilio.requests.filter((r) => /001[012]$/.test(r.form.To ?? '')).length;
    // Two slots (HERALD_CHANNEL_CONCURRENCY=sms=2), both waiting on Twilio.
    await h.fakes.twilio.waitFor(() => atTwilio() === 2);

    const email = await h.settled(
      await h.notify({
        channels: ['email'],
        recipients: [{ id: 'mail', email: 'flow@example.com' }],
        message: 'Still here',
      }),
    );
    expect(email.status).toBe('delivered');
    // When the email reached its server, both SMS slots were still held by sends Twilio never answered
    // (each gives up after the provider timeout), and the third SMS had not yet had a slot.
    const mailAt = h.fakes.smtp.received.find((m) => m.to.includes('flow@example.com'))!.receivedAt;
    const smsBefore = h.fakes.twilio.requests.filter((r) => /001[012]$/.test(r.form.To ?? '') && r.at < mailAt);
    expect(smsBefore).toHaveLength(2);
    for (const r of smsBefore) expect(r.closedAt === undefined || r.closedAt > mailAt).toBe(true);
    for (const id of stuck) expect((await h.status(id)).status).toBe('sending');
  });
});

describe('provider health: rate limits', () => {
  const limit = 5;
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({ HERALD_RATE_LIMITS: `telegram=${limit}` });
  }, STARTUP_MS);
  afterAll(() => h?.stop());

  it('never sends to a rate-limited provider faster than its limit, a burst included', async () => {
    const began = performance.now();
    const recipients = Array.from({ length: 30 }, (_, i) => ({ id: `tg${i}`, telegram_chat_id: String(1000 + i) }));
    const s = await h.settled(await h.notify({ channels: ['telegram'], recipients, message: 'Burst' }));
    expect(s.status).toBe('delivered');
    const times = h.fakes.telegram.requests.map((r) => r.at);
    expect(times).toHaveLength(30);
    // The worker's limiter saves a second's worth at most, however long it sat idle: the other 25 sends
    // take 5 s at least. A loaded machine only makes them slower.
    expect(times.at(-1)! - began).toBeGreaterThanOrEqual(((30 - limit) / limit) * 1000);
    // No one-second window holds more than a second's worth saved and a second's worth refilled.
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(2 * limit);
  });
});

describe("a provider's circuit that opens between two tries of one send", () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    // One failed send opens the circuit: the first try's own failure.
    h = await startHeraldOnFakes({ HERALD_CIRCUIT_MIN_REQUESTS: '1', HERALD_CIRCUIT_RESET_SECONDS: '60' });
  }, STARTUP_MS);
  afterAll(() => h?.stop());

  it('counts the provider the retry passes over among those the delivery tried', async () => {
    h.fakes.twilio.faults.push({ status: 503, body: { code: 20500, message: 'Service unavailable' } });
    const id = await h.notify({
      channels: ['sms'],
      recipients: [{ id: 'p', phone: '+14155550199' }],
      message: 'Hi',
    });
    const settled = await h.settled(id);
    expect(settled.deliveries[0]).toMatchObject({
      status: 'sent',
      provider: 'vonage',
      attempts: 2,
      providers_tried: ['twilio', 'vonage'],
    });
    expect(h.fakes.twilio.requests).toHaveLength(1);
  });
});
