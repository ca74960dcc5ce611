import { setMaxListeners } from 'node:events';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Database } from '../db/connect';
import { inTenant } from '../db/tenant-scope';
import { recordedDeliveries } from '../db/deliveries';
import { DELIVERY_RETRY, FAILOVER, PERMANENT_FAILURE, retryDelayMs, SENDS_IN_FLIGHT } from '../domain/delivery-policy';
import { hasSucceeded, type DeliveryStatus } from '../domain/notification';
import { pool } from '../domain/pool';
import type { DeliverAttempt, DeliverInput, DeliverResult, DeliveryFailureDetails } from './deliver';

/** One send of a batch: whom, from which provider on, and which try of that provider this is. */
export type BatchItem = Pick<
  DeliverInput,
  'recipient' | 'step' | 'acknowledgeable' | 'unsubscribable' | 'providersTried'
> & { providerIndex: number; attempt: number };

/** Sends of one notification on one channel: what they share, and each one's own part. */
export interface DeliverBatchInput {
  send: Omit<DeliverInput, keyof BatchItem>;
  items: BatchItem[];
}

/** How one send went; exactly one of `sent`, `failed` and `retry` is set. */
export interface SendOutcome {
  /** Tries made, over every provider. */
  tries: number;
  /** Providers finished with, in order: those failed over from, then the one that sent or failed for good. */
  providersDone: string[];
  sent?: DeliverResult;
  failed?: { error: string; provider?: string };
  /** A failure a later try may heal: try again after `afterMs`, from this provider, as its try number `attempt`. */
  retry?: { afterMs: number; providerIndex: number; attempt: number };
}

/** How a send's tries are counted: a batch's next provider starts from its first try, a broadcast chunk's at the chunk's try. */
interface Tries {
  attempt: number;
  freshAfterFailover: boolean;
  signal: AbortSignal;
}

/**
 * One send through the channel's providers from `input.providerIndex` on: a provider that gives up
 * fails over at once to the next; a failure a later try may heal is handed back.
 */
export async function sendWithFailover(
  deliverAttempt: DeliverAttempt,
  input: DeliverInput,
  { attempt, freshAfterFailover, signal }: Tries,
): Promise<SendOutcome> {
  const providersDone: string[] = [];
  let providerIndex = input.providerIndex ?? 0;
  for (let tries = 1; ; tries++) {
    const providersTried = [...(input.providersTried ?? []), ...providersDone];
    try {
      const { passedOver = [], ...sent } = await deliverAttempt({ ...input, providerIndex, providersTried }, attempt);
      return { tries, providersDone: [...providersDone, ...passedOver, sent.provider], sent };
    } catch (error) {
      if (signal.aborted) throw error;
      const failure = error instanceof ApplicationFailure ? error : undefined;
      const details = failure?.details?.[0] as DeliveryFailureDetails | undefined;
      providersDone.push(...(details?.passedOver ?? []));
      if (failure?.type === FAILOVER) {
        providersDone.push(details!.provider!);
        providerIndex = (details?.providerIndex ?? providerIndex) + 1;
        if (freshAfterFailover) attempt = 1;
        continue;
      }
      if (failure?.type !== PERMANENT_FAILURE && attempt < DELIVERY_RETRY.maximumAttempts!) {
        const afterMs = typeof failure?.nextRetryDelay === 'number' ? failure.nextRetryDelay : retryDelayMs(attempt);
        const retry = { afterMs, providerIndex: details?.providerIndex ?? providerIndex, attempt: attempt + 1 };
        return { tries, providersDone, retry };
      }
      const provider = details?.provider;
      return {
        tries,
        providersDone: provider ? [...providersDone, provider] : providersDone,
        failed: { error: (error as Error).message, provider },
      };
    }
  }
}

/**
 * Sends of one notification on one channel in one activity: a bulk notification costs the Temporal
 * server one activity per channel and hundred recipients instead of one per recipient. Each send's
 * outcome comes back on its own; the workflow waits and hands those a later try may heal to the next
 * batch. A retried activity (its worker died) skips the sends its record shows sent.
 */
export function createDeliverBatch(db: Database, deliverAttempt: DeliverAttempt) {
  return async function deliverBatch({ send, items }: DeliverBatchInput): Promise<SendOutcome[]> {
    const context = Context.current();
    // Every send in flight listens for the activity's cancellation, a few times (its wait, its provider's session).
    setMaxListeners(SENDS_IN_FLIGHT * 4, context.cancellationSignal);
    const earlier = context.info.attempt > 1 ? await sentEarlier(db, send, items) : new Map<string, SendOutcome>();
    const outcomes: SendOutcome[] = [];
    let finished = 0;
    await pool(items.length, SENDS_IN_FLIGHT, async (i) => {
      const item = items[i]!;
      const { attempt, ...own } = item;
      outcomes[i] =
        earlier.get(itemKey(item)) ??
        (await sendWithFailover(
          deliverAttempt,
          { ...send, ...own },
          { attempt, freshAfterFailover: true, signal: context.cancellationSignal },
        ));
      context.heartbeat(++finished);
    });
    return outcomes;
  };
}

const itemKey = (item: Pick<BatchItem, 'recipient' | 'step'>) => `${item.recipient.id}\n${item.step ?? 0}`;

/** The sends of this batch that a try before this one sent, from the record each send writes at once. */
async function sentEarlier(
  db: Database,
  send: DeliverBatchInput['send'],
  items: BatchItem[],
): Promise<Map<string, SendOutcome>> {
  const rows = await inTenant(db, send.tenantId, (tx) =>
    recordedDeliveries(
      tx,
      send,
      items.map((i) => i.recipient.id),
    ),
  );
  const wanted = new Map(items.map((i) => [itemKey(i), i]));
  const earlier = new Map<string, SendOutcome>();
  for (const row of rows) {
    const key = itemKey({ recipient: { id: row.recipientId }, step: row.step });
    const item = wanted.get(key);
    const status = row.status as DeliveryStatus;
    if (!item || !hasSucceeded({ status }) || !row.provider || !row.providerMessageId) continue;
    earlier.set(key, {
      tries: 0,
      providersDone: (row.providersTried ?? [row.provider]).slice(item.providersTried?.length ?? 0),
      sent: {
        status: status === 'delivered' ? 'delivered' : 'sent',
        provider: row.provider,
        providerMessageId: row.providerMessageId,
        attempts: row.attempts,
        ...(row.details ? { details: row.details } : {}),
      },
    });
  }
  return earlier;
}
