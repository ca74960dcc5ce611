import { startHeraldOnFakes, type HeraldOnFakes } from '../support/fake-providers';
import { registry } from '../../observability/metrics';

/** How Herald treats a provider that fails, stalls or must not be sent to too fast. */
describe('provider health: circuit breaking, channel isolation, rate limits', () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    h = await startHeraldOnFakes({
      // Three: the circuit cannot open before the third failed try, when the send fails over anyway, so
      // where its rolling window's one-second buckets fall between the retries does not matter.
      HERALD_CIRCUIT_MIN_REQUESTS: '3',
      HERALD_CIRCUIT_RESET_SECONDS: '2',
      HERALD_CHANNEL_CONCURRENCY: 'sms=2',
      HERALD_RATE_LIMITS: 'telegram=5',
    });
  });
  afterAll(() => h?.stop());

  const notify = (body: object) => h.notify(body);
  const status = (id: string) => h.status(id);
  const settled = (id: string) => h.settled(id);
  const sms = (n: number) => ({
    channels: ['sms'],
    recipients: [{ id: `p${n}`, phone: `+1415555${String(n).padStart(4, '0')}` }],
    message: 'Hi',
  });
  const circuitGauge = async () =>
    (await registry.getSingleMetric('herald_provider_circuit_open')!.get()).values.find(
      (v) => v.labels.provider === 'twilio',
    )?.value;

  it('opens the circuit of a failing provider, skips it while open, and closes it once a trial send succeeds', async () => {
    h.fakes.twilio.down = { status: 503, body: { code: 20500, message: 'Service unavailable' } };
    const first = await settled(await notify(sms(1)));
    expect(first.deliveries[0]).toMatchObject({
      status: 'sent',
      provider: 'vonage',
      providers_tried: ['twilio', 'vonage'],
    });
    expect(await circuitGauge()).toBe(1);
    const failovers = await registry.getSingleMetric('herald_provider_failovers_total')!.get();
    expect(failovers.values).toContainEqual({ labels: { channel: 'sms', provider: 'twilio' }, value: 1 });

    // While the circuit is open Twilio is not even asked: the send goes straight to Vonage.
    const twilioRequests = h.fakes.twilio.requests.length;
    const second = await settled(await notify(sms(2)));
    expect(second.deliveries[0]).toMatchObject({ provider: 'vonage', providers_tried: ['vonage'] });
    expect(h.fakes.twilio.requests.length).toBe(twilioRequests);

    // Twilio recovers; after the reset time one trial send goes through and closes the circuit.
    h.fakes.twilio.down = undefined;
    await new Promise((r) => setTimeout(r, 2_200));
    const third = await settled(await notify(sms(3)));
    expect(third.deliveries[0]).toMatchObject({ provider: 'twilio', providers_tried: ['twilio'] });
    expect(await circuitGauge()).toBe(0);
  });

  it('keeps email flowing while a stalled SMS provider holds every SMS slot', async () => {
    h.fakes.twilio.down = { hang: true };
    const stuck = await Promise.all([10, 11, 12].map((n) => notify(sms(n))));
    // Two slots (HERALD_CHANNEL_CONCURRENCY=sms=2), both waiting on Twilio.
    await h.fakes.twilio.waitFor(
      () =>
        h.fakes.twilio.requests.filter(
          (r) => r.form.To?.endsWith('0010') || r.form.To?.endsWith('0011') || r.form.To?.endsWith('0012'),
        ).length === 2,
    );

    const email = await settled(
      await notify({
        channels: ['email'],
        recipients: [{ id: 'mail', email: 'flow@example.com' }],
        message: 'Still here',
      }),
    );
    expect(email.status).toBe('delivered');
    for (const id of stuck) expect((await status(id)).status).toBe('sending');
    h.fakes.twilio.down = undefined;
  });

  it('keeps the send rate to a rate-limited provider within 20% of its limit, a burst included', async () => {
    // Idle first, so the worker's limiter has saved tokens: the burst they allow must still be paced.
    await new Promise((r) => setTimeout(r, 3_000));
    const before = h.fakes.telegram.requests.length;
    const recipients = Array.from({ length: 30 }, (_, i) => ({ id: `tg${i}`, telegram_chat_id: String(1000 + i) }));
    const s = await settled(await notify({ channels: ['telegram'], recipients, message: 'Burst' }));
    expect(s.status).toBe('delivered');
    const times = h.fakes.telegram.requests.slice(before).map((r) => r.at);
    expect(times).toHaveLength(30);
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
    expect(rate).toBeGreaterThan(5 * 0.8);
    expect(rate).toBeLessThan(5 * 1.2);
    // No one-second window holds more than the limit (one more where a window starts on a send).
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(5 + 1);
  });
});

describe("a provider's circuit that opens between two tries of one send", () => {
  let h: HeraldOnFakes;
  beforeAll(async () => {
    // One failed send opens the circuit: the first try's own failure.
    h = await startHeraldOnFakes({ HERALD_CIRCUIT_MIN_REQUESTS: '1', HERALD_CIRCUIT_RESET_SECONDS: '60' });
  });
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
