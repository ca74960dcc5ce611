/**
 * The load: a steady stream of notifications of every kind the fakes can receive (single sends on
 * each channel, several recipients, fallback, escalation acknowledged at random or not at all,
 * send_at a little ahead) and one broadcast. Each carries a tag in its text, which is how the
 * providers' logs are matched back to it, and an idempotency key, which is how a request that had
 * no answer is sent again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { idFromKey } from '../../api/idempotency';
import type { Answer, HeraldClient, NoAnswer } from './client';
import type { ChaosChannel } from './providers';

export type Kind = 'email' | 'sms' | 'webhook' | 'several' | 'fallback' | 'escalation' | 'scheduled';
const MIX: Kind[] = ['email', 'email', 'sms', 'sms', 'webhook', 'several', 'fallback', 'escalation', 'scheduled'];

export interface Recipient {
  id: string;
  email?: string;
  phone?: string;
}

export interface Order {
  kind: Kind;
  tag: string;
  key: string;
  /** The notification's id: from the answer, or derived from the key as Herald derives it. */
  id: string;
  channels: ChaosChannel[];
  recipients: Recipient[];
  /** The channels of each later step (a fallback, or escalation steps), in order. */
  steps: ChaosChannel[][];
  sentAt: number;
  answer?: Answer | NoAnswer;
  /** An acknowledgement the load sent, and Herald's answer to it. */
  ack?: { sentAt: number; answeredAt?: number; status?: number };
}

export interface BroadcastOrder {
  tag: string;
  key: string;
  id?: string;
  recipients: Recipient[];
  sentAt: number;
  answer?: Answer | NoAnswer;
}

/** Numbers Herald takes as valid; a notification's recipients each get another one. */
const phone = (i: number) => `+1415555${String(100 + (i % 100)).padStart(4, '0')}`;
/** Steps of a fallback or escalation wait this long each. */
const STEP_AFTER = '4s';
/** An escalation is acknowledged at a random moment up to this long after its accept, or not at all. */
const ACK_WITHIN_MS = 12_000;

export class Load {
  readonly orders: Order[] = [];
  broadcast: BroadcastOrder | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private seq = 0;

  constructor(
    private readonly client: HeraldClient,
    private readonly tenantId: string,
  ) {}

  /** Sends `perSecond` notifications a second for `seconds`, then waits for their answers. */
  async run(seconds: number, perSecond: number): Promise<void> {
    const start = Date.now();
    for (let i = 0; Date.now() - start < seconds * 1000; i++) {
      this.track(this.send(MIX[Math.floor(Math.random() * MIX.length)]!));
      await sleep(Math.max(0, start + ((i + 1) * 1000) / perSecond - Date.now()));
    }
    await this.settled();
  }

  /** Waits for every request under way, acknowledgements included. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** `count` single emails at once, all to one API: what an API has in hand when it is stopped. */
  burst(count: number, api: number): Promise<Order[]> {
    return Promise.all(Array.from({ length: count }, () => this.track(this.send('email', api))));
  }

  async sendBroadcast(size: number): Promise<BroadcastOrder> {
    const tag = 'bcast';
    const order: BroadcastOrder = {
      tag,
      key: `chaos-${tag}`,
      recipients: Array.from({ length: size }, (_, i) => ({ id: `b${i}`, email: `b${i}@chaos.test` })),
      sentAt: Date.now(),
    };
    this.broadcast = order;
    order.answer = await this.client.call(
      'POST',
      '/broadcasts',
      { channels: ['email'], recipients: order.recipients, message: messageFor(tag) },
      { idempotencyKey: order.key, budgetMs: 300_000, timeoutMs: 60_000 },
    );
    order.id =
      (order.answer.status === 202 ? (order.answer.body as { broadcast_id: string }).broadcast_id : undefined) ??
      undefined;
    return order;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
    return promise;
  }

  private async send(kind: Kind, api?: number): Promise<Order> {
    const n = this.seq++;
    const tag = `n${n}`;
    const key = `chaos-${tag}`;
    const { body, recipients, channels, steps } = request(kind, tag, n);
    const order: Order = {
      kind,
      tag,
      key,
      id: idFromKey(this.tenantId, key),
      channels,
      recipients,
      steps,
      sentAt: Date.now(),
    };
    this.orders.push(order);
    order.answer = await this.client.call('POST', '/notify', body, { idempotencyKey: key, firstApi: api });
    if (order.answer.status === 202) order.id = (order.answer.body as { notification_id: string }).notification_id;
    if (kind === 'escalation' && order.answer.status === 202 && Math.random() < 2 / 3)
      this.track(this.acknowledge(order, Math.random() * ACK_WITHIN_MS));
    return order;
  }

  private async acknowledge(order: Order, afterMs: number): Promise<void> {
    await sleep(afterMs);
    order.ack = { sentAt: Date.now() };
    const answer = await this.client.call(
      'POST',
      `/notifications/${order.id}/ack`,
      { by: 'chaos' },
      { budgetMs: 90_000 },
    );
    order.ack.answeredAt = Date.now();
    order.ack.status = answer.status;
  }
}

function messageFor(tag: string) {
  return { subject: `chaos ${tag}`, text: `chaos ${tag}` };
}

const PRIORITIES = ['high', 'normal', 'normal', 'normal', 'normal', 'normal', 'normal', 'low', 'low', 'normal'];

/** The POST /notify body of one notification of `kind`, and what it should reach. */
function request(kind: Kind, tag: string, n: number) {
  const full = (i: number): Recipient => ({ id: `r${i}`, email: `${tag}.r${i}@chaos.test`, phone: phone(i) });
  const priority = PRIORITIES[n % PRIORITIES.length];
  const base = { message: messageFor(tag), priority };
  const single = (channel: ChaosChannel) => ({
    channels: [channel],
    recipients: [full(0)],
    steps: [] as ChaosChannel[][],
    body: { ...base, channels: [channel], recipients: [full(0)] },
  });
  switch (kind) {
    case 'email':
    case 'sms':
    case 'webhook':
      return single(kind);
    case 'several': {
      const recipients = Array.from({ length: 3 + (n % 3) }, (_, i) => full(i));
      const channels: ChaosChannel[] = ['email', 'sms'];
      return { channels, recipients, steps: [], body: { ...base, channels, recipients } };
    }
    case 'fallback': {
      const recipients = [full(0), full(1)];
      return {
        channels: ['email'] as ChaosChannel[],
        recipients,
        steps: [['sms']] as ChaosChannel[][],
        body: {
          ...base,
          channels: ['email'],
          recipients,
          fallback: { channels: ['sms'], after: STEP_AFTER, unless: 'sent' },
        },
      };
    }
    case 'escalation':
      return {
        channels: ['webhook'] as ChaosChannel[],
        recipients: [full(0)],
        steps: [['email'], ['sms']] as ChaosChannel[][],
        body: {
          ...base,
          channels: ['webhook'],
          recipients: [full(0)],
          escalation: {
            steps: [
              { after: STEP_AFTER, channels: ['email'] },
              { after: STEP_AFTER, channels: ['sms'] },
            ],
          },
        },
      };
    case 'scheduled': {
      const one = single((['email', 'sms', 'webhook'] as const)[n % 3]!);
      return { ...one, body: { ...one.body, send_at: new Date(Date.now() + 5_000 + (n % 10) * 1000).toISOString() } };
    }
  }
}
