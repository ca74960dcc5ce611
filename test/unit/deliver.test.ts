import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  createDeliver,
  type DeliverInput,
  type DeliverResult,
  type DeliveryFailureDetails,
} from '../../activities/deliver';
import { createDeliverBatch, type DeliverBatchInput, type SendOutcome } from '../../activities/deliver-batch';
import { channelSendGates } from '../../activities/pacing';
import { CircuitBreakingProvider } from '../../activities/providers/circuit-breaker';
import type { ProvidersByChannel } from '../../activities/providers';
import {
  InvalidAddressError,
  PermanentProviderError,
  ProviderRefusedError,
  TransientProviderError,
  type OutboundMessage,
  type Provider,
  type SendResult,
} from '../../activities/providers/provider';
import { upsertTenant } from '../../api/tenants';
import type { DatabaseHandle } from '../../db/connect';
import { recipients } from '../../db/schema';
import { FAILOVER, PERMANENT_FAILURE, TRANSIENT_FAILURE } from '../../domain/delivery-policy';
import { testDatabase } from '../support/herald';

/** Provider message ids are unique across the database the test runs share. */
const RUN = randomUUID().slice(0, 8);
let sends = 0;

/** A provider whose next answers the test sets: an error to throw, or success. */
class ScriptedProvider implements Provider {
  readonly sent: OutboundMessage[] = [];
  readonly script: (Error | 'ok')[] = [];
  constructor(readonly name: string) {}
  async send(message: OutboundMessage): Promise<SendResult> {
    this.sent.push(message);
    const next = this.script.shift() ?? 'ok';
    if (next !== 'ok') throw next;
    return { providerMessageId: `${this.name}-${RUN}-${++sends}`, status: 'sent' };
  }
}

/** The provider behind a circuit that one failed send opens, for a minute. */
const opensOnFirstFailure = (provider: Provider) =>
  new CircuitBreakingProvider(provider, { errorThresholdPercentage: 50, volumeThreshold: 1, resetTimeoutMs: 60_000 });

describe('the deliver activity: which provider, and what a failure means', () => {
  let database: DatabaseHandle;
  let first: ScriptedProvider;
  let second: ScriptedProvider;

  beforeAll(async () => {
    database = await testDatabase();
    await upsertTenant(database.db, 'tenant-deliver', 'Deliver tests', 'hk_deliver_tests');
  });
  afterAll(() => database?.close());
  beforeEach(() => {
    first = new ScriptedProvider('first');
    second = new ScriptedProvider('second');
  });

  const input = (overrides: Partial<DeliverInput> = {}): DeliverInput => ({
    tenantId: 'tenant-deliver',
    notificationId: `n-${Math.random().toString(16).slice(2)}`,
    channel: 'sms',
    recipient: { id: 'r', phone: '+14155550100' },
    message: { text: 'hi' },
    providerIndex: 0,
    ...overrides,
  });
  const deliverWith = (chain: Provider[], attempt = 1, overrides: Partial<DeliverInput> = {}) =>
    new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') }).run(
      createDeliver({ sms: chain, push: chain } as unknown as ProvidersByChannel, database.db).deliver,
      input(overrides),
    ) as Promise<DeliverResult>;
  const failureOf = async (run: Promise<unknown>) => {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    return { failure, details: failure.details?.[0] as DeliveryFailureDetails };
  };

  it('retries a transient failure on the same provider before the third try', async () => {
    first.script.push(new TransientProviderError('503'));
    const { failure, details } = await failureOf(deliverWith([first, second], 2));
    expect(failure).toMatchObject({ type: TRANSIENT_FAILURE, nonRetryable: false });
    expect(details).toMatchObject({ provider: 'first', providerIndex: 0, attempts: 2 });
    expect(details.failover).toBeUndefined();
  });

  it('fails over after the third transient failure when another provider follows', async () => {
    first.script.push(new TransientProviderError('503'));
    const { failure, details } = await failureOf(deliverWith([first, second], 3));
    expect(failure).toMatchObject({ type: FAILOVER, nonRetryable: true });
    expect(details).toMatchObject({ provider: 'first', providerIndex: 0, failover: true });
  });

  it('gives the last provider all six tries', async () => {
    second.script.push(new TransientProviderError('503'), new TransientProviderError('503'));
    const third = await failureOf(deliverWith([first, second], 3, { providerIndex: 1 }));
    expect(third.failure).toMatchObject({ type: TRANSIENT_FAILURE, nonRetryable: false });
    const sixth = await failureOf(deliverWith([first, second], 6, { providerIndex: 1 }));
    expect(sixth.failure.type).toBe(TRANSIENT_FAILURE);
    expect(sixth.details).toMatchObject({ provider: 'second', providerIndex: 1, attempts: 6 });
  });

  it("waits the provider's Retry-After, capped at five minutes, or fails over when it is longer", async () => {
    first.script.push(new TransientProviderError('429', 4_000));
    expect((await failureOf(deliverWith([first, second]))).failure.nextRetryDelay).toBe(4_000);
    first.script.push(new TransientProviderError('429', 3_600_000));
    expect((await failureOf(deliverWith([first]))).failure.nextRetryDelay).toBe(300_000);
    first.script.push(new TransientProviderError('429', 3_600_000));
    expect((await failureOf(deliverWith([first, second]))).failure.type).toBe(FAILOVER);
  });

  it('passes over a provider that refuses Herald at once, and fails for good when none follows', async () => {
    first.script.push(new ProviderRefusedError('401'), new ProviderRefusedError('401'));
    expect((await failureOf(deliverWith([first, second]))).failure.type).toBe(FAILOVER);
    expect((await failureOf(deliverWith([first]))).failure).toMatchObject({
      type: PERMANENT_FAILURE,
      nonRetryable: true,
    });
  });

  it('answers a retry with the send its record shows an earlier try made, instead of sending again', async () => {
    const same = input();
    const sent = await deliverWith([first, second], 1, same);
    // The try's result never reached Temporal (its worker was killed): Temporal runs the activity again.
    const retried = await deliverWith([first, second], 2, same);
    expect(retried).toMatchObject({ provider: 'first', providerMessageId: sent.providerMessageId, providerIndex: 0 });
    expect(first.sent).toHaveLength(1);
    // A later step on the same channel is another send.
    await deliverWith([first, second], 2, { ...same, step: 1 });
    expect(first.sent).toHaveLength(2);
  });

  it('never retries nor fails over a permanent error', async () => {
    first.script.push(new PermanentProviderError('21211 invalid number'));
    const { failure } = await failureOf(deliverWith([first, second]));
    expect(failure).toMatchObject({ type: PERMANENT_FAILURE, nonRetryable: true, message: '21211 invalid number' });
    expect(second.sent).toHaveLength(0);
  });

  it('skips a provider whose circuit is open, and says which one it used', async () => {
    const broken = opensOnFirstFailure(first);
    first.script.push(new TransientProviderError('503'));
    await failureOf(deliverWith([broken, second]));
    expect(broken.opened).toBe(true);
    const result = await deliverWith([broken, second]);
    expect(result).toMatchObject({ provider: 'second', providerIndex: 1 });
    expect(first.sent).toHaveLength(1);
    await broken.close();
  });

  it("retries a send to the last provider, whose circuit is open, once the circuit's trial send is due", async () => {
    const broken = opensOnFirstFailure(first);
    first.script.push(new TransientProviderError('503'));
    await failureOf(deliverWith([broken]));
    const { failure } = await failureOf(deliverWith([broken], 2));
    expect(failure.message).toMatch(/circuit is open/);
    // The circuit opened for a minute a moment ago: the next try waits for it, not the usual 2 s.
    expect(failure.nextRetryDelay).toBeGreaterThan(50_000);
    expect(failure.nextRetryDelay).toBeLessThanOrEqual(60_000);
    expect(first.sent).toHaveLength(1);
    await broken.close();
  });

  it('names a provider it passes over whose circuit opened after an earlier try had used it', async () => {
    const broken = opensOnFirstFailure(first);
    const deliver = createDeliver({ sms: [broken, second] } as unknown as ProvidersByChannel, database.db).deliver;
    const tryNumber = (attempt: number, heartbeatDetails?: unknown) => {
      const env = new MockActivityEnvironment({ attempt, heartbeatDetails }, { logger: new DefaultLogger('ERROR') });
      const heartbeats: unknown[] = [];
      env.on('heartbeat', (details: unknown) => heartbeats.push(details));
      return { heartbeats, run: env.run(deliver, input()) as Promise<DeliverResult> };
    };
    // The first try fails on `first`, which opens its circuit, and leaves its name for the next try.
    first.script.push(new TransientProviderError('503'));
    const firstTry = tryNumber(1);
    expect((await failureOf(firstTry.run)).failure.type).toBe(TRANSIENT_FAILURE);
    expect(firstTry.heartbeats).toEqual([['first']]);
    // The retry skips it and sends on `second`: `first` was tried all the same.
    expect(await tryNumber(2, ['first']).run).toMatchObject({ provider: 'second', passedOver: ['first'] });
    // A retry after a try that had skipped `first` too never tried it.
    expect((await tryNumber(2, []).run).passedOver).toBeUndefined();
    expect(first.sent).toHaveLength(1);
    await broken.close();
  });

  it('never fails over for a workflow from before failover (no provider index)', async () => {
    first.script.push(new TransientProviderError('503'));
    const { failure } = await failureOf(deliverWith([first, second], 3, { providerIndex: undefined }));
    expect(failure.type).toBe(TRANSIENT_FAILURE);
    expect(second.sent).toHaveLength(0);
  });

  it("drops a dead push token from the recipient's profile and sends to the next device", async () => {
    await database.db
      .insert(recipients)
      .values({ tenantId: 'tenant-deliver', id: 'phone-owner', pushTokens: ['old', 'new'] })
      .onConflictDoUpdate({ target: [recipients.tenantId, recipients.id], set: { pushTokens: ['old', 'new'] } });
    first.script.push(new InvalidAddressError('UNREGISTERED'));
    const result = await deliverWith([first], 1, {
      channel: 'push',
      recipient: { id: 'phone-owner', pushTokens: ['old', 'new'] },
    });
    expect(result.provider).toBe('first');
    expect(first.sent.map((m) => m.to)).toEqual(['new', 'old']);
    const [row] = await database.db
      .select({ tokens: recipients.pushTokens })
      .from(recipients)
      .where(and(eq(recipients.tenantId, 'tenant-deliver'), eq(recipients.id, 'phone-owner')));
    expect(row!.tokens).toEqual(['old']);
  });

  describe('deliverBatch: many sends of one channel, each with its own outcome', () => {
    const batch = (ids: string[], notificationId = `n-${Math.random().toString(16).slice(2)}`): DeliverBatchInput => ({
      send: { tenantId: 'tenant-deliver', notificationId, channel: 'sms', message: { text: 'hi' } },
      items: ids.map((id) => ({
        recipient: { id, ...(id === 'no-phone' ? {} : { phone: '+14155550100' }) },
        providerIndex: 0,
        providersTried: [],
        attempt: 1,
      })),
    });
    const run = (input: DeliverBatchInput, attempt = 1) => {
      const { attempt: deliverAttempt } = createDeliver(
        { sms: [first, second] } as unknown as ProvidersByChannel,
        database.db,
      );
      return new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') }).run(
        createDeliverBatch(database.db, deliverAttempt),
        input,
      ) as Promise<SendOutcome[]>;
    };

    it('sends each, fails over one in place, hands back one to retry and fails one for good', async () => {
      // Sends go in order of the batch, one provider call each, until a failure moves one on.
      first.script.push('ok', new TransientProviderError('busy'), new ProviderRefusedError('suspended'));
      const [sent, retry, failedOver, missing] = await run(batch(['sent', 'retry', 'failover', 'no-phone']));
      expect(sent).toMatchObject({ tries: 1, providersDone: ['first'], sent: { provider: 'first' } });
      expect(retry).toEqual({ tries: 1, providersDone: [], retry: { afterMs: 1000, providerIndex: 0, attempt: 2 } });
      expect(failedOver).toMatchObject({ tries: 2, providersDone: ['first', 'second'], sent: { provider: 'second' } });
      expect(missing).toMatchObject({ tries: 1, failed: { error: expect.stringMatching(/phone/) } });
    });

    it("keeps to the channel's sends in flight, however many the batch holds", async () => {
      let inFlight = 0;
      let most = 0;
      const slow: Provider = {
        name: 'slow',
        async send() {
          most = Math.max(most, ++inFlight);
          await new Promise((resolve) => setTimeout(resolve, 20));
          inFlight--;
          return { providerMessageId: `slow-${RUN}-${++sends}`, status: 'sent' };
        },
      };
      const { attempt } = createDeliver({ sms: [slow] } as unknown as ProvidersByChannel, database.db, {
        gates: channelSendGates({ sms: 3 }),
      });
      const outcomes = (await new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
        createDeliverBatch(database.db, attempt),
        batch(Array.from({ length: 12 }, (_, i) => `r${i}`)),
      )) as SendOutcome[];
      expect(outcomes.every((o) => o.sent)).toBe(true);
      expect(most).toBe(3);
    });

    it("names the provider a retried send passes over because its circuit opened after the send's last try", async () => {
      const broken = opensOnFirstFailure(first);
      const { attempt } = createDeliver({ sms: [broken, second] } as unknown as ProvidersByChannel, database.db);
      const runOn = (input: DeliverBatchInput) =>
        new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
          createDeliverBatch(database.db, attempt),
          input,
        ) as Promise<SendOutcome[]>;
      first.script.push(new TransientProviderError('503'));
      const input = batch(['circuit']);
      const [retry] = await runOn(input);
      expect(retry).toMatchObject({ providersDone: [], retry: { providerIndex: 0, attempt: 2 } });
      input.items[0] = { ...input.items[0]!, attempt: 2 };
      const [sent] = await runOn(input);
      expect(sent).toMatchObject({ providersDone: ['first', 'second'], sent: { provider: 'second' } });
      expect(sent!.sent).not.toHaveProperty('passedOver');
      await broken.close();
    });

    it('gives up on a send at its sixth try of the last provider', async () => {
      second.script.push(new TransientProviderError('still busy'));
      const input = batch(['late']);
      input.items[0] = { ...input.items[0]!, providerIndex: 1, attempt: 6 };
      const [outcome] = await run(input);
      expect(outcome).toMatchObject({ tries: 1, providersDone: ['second'], failed: { error: 'still busy' } });
    });

    it('gives a send whose provider never answers back to be retried, instead of holding the batch', async () => {
      // Silent until aborted, as an SMTP server that never replies to MAIL FROM.
      const silent: Provider = {
        name: 'silent',
        send: (_message, signal) =>
          new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      };
      const { attempt } = createDeliver({ sms: [silent] } as unknown as ProvidersByChannel, database.db, {
        sendTimeoutMs: 200,
      });
      const [outcome] = (await new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
        createDeliverBatch(database.db, attempt),
        batch(['hung']),
      )) as SendOutcome[];
      expect(outcome).toMatchObject({ tries: 1, retry: { providerIndex: 0, attempt: 2 } });
    }, 10_000);

    it('skips, when retried after its worker died, the sends its record shows sent', async () => {
      const input = batch(['a', 'b']);
      const firstRun = await run(input);
      expect(first.sent).toHaveLength(2);
      const again = await run(input, 2);
      expect(first.sent).toHaveLength(2);
      expect(again.map((o) => o.sent!.providerMessageId)).toEqual(firstRun.map((o) => o.sent!.providerMessageId));
      expect(again.every((o) => o.tries === 0)).toBe(true);
    });
  });
});
