import { CircuitBreakingProvider } from '../../activities/providers/circuit-breaker';
import type { OutboundMessage } from '../../activities/providers/provider';
import { SmtpEmailProvider } from '../../activities/providers/smtp';
import { registry } from '../../observability/metrics';
import { FakeSmtpServer } from '../fakes/smtp-server';

describe('a provider behind a circuit breaker', () => {
  let smtp: FakeSmtpServer;
  let provider: CircuitBreakingProvider;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
  });
  beforeEach(() => {
    provider = new CircuitBreakingProvider(new SmtpEmailProvider(smtp.url, 'herald@test'), {
      errorThresholdPercentage: 50,
      volumeThreshold: 3,
      resetTimeoutMs: 60_000,
    });
  });
  afterEach(() => provider.close());
  afterAll(() => smtp?.stop());

  const message = (n: number): OutboundMessage => ({
    tenantId: 't',
    notificationId: `n${n}`,
    recipientId: 'r',
    channel: 'email',
    to: 'x@example.com',
    subject: `s${n}`,
    text: 'x',
    deliveryKey: `k${n}`,
  });
  const signal = new AbortController().signal;
  const gauge = async () => (await registry.getSingleMetric('herald_provider_circuit_open')!.get()).values[0]?.value;

  it('does not count permanent rejections against the provider', async () => {
    smtp.script.push(...Array.from({ length: 3 }, () => ({ code: 550, message: 'No such user' })));
    for (const n of [1, 2, 3]) await expect(provider.send(message(n), signal)).rejects.toThrow(/No such user/);
    expect(provider.opened).toBe(false);
  });

  it('opens after repeated transient failures, then fails fast without calling the provider', async () => {
    smtp.script.push(...Array.from({ length: 3 }, () => ({ code: 421, message: 'Service not available' })));
    for (const n of [4, 5, 6]) await expect(provider.send(message(n), signal)).rejects.toThrow(/Service not available/);
    expect(provider.opened).toBe(true);
    expect(await gauge()).toBe(1);

    const calls = smtp.mailFromCount;
    await expect(provider.send(message(7), signal)).rejects.toThrow(/open/i);
    expect(smtp.mailFromCount).toBe(calls);
  });
});
