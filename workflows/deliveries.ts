import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliverInput, DeliveryFailureDetails, SendOutcome } from '../activities';
import { chunksOf } from '../domain/broadcast';
import type { Channel } from '../domain/channels';
import { channelTaskQueue, DELIVERY_RETRY, MANY_SENDS, SEND_BATCH_MAX } from '../domain/delivery-policy';
import {
  advanceByReceipt,
  receiptOutcome,
  type Contact,
  type Delivery,
  type NotificationRequest,
  type NotificationSnapshot,
  type NotificationStatus,
  type Receipt,
} from '../domain/notification';
import type { RunnerCarry } from './continuation';
import { searchAttributes } from './definitions';
import { gatherer } from './gather';

function deliverOn(channel: Channel) {
  return proxyActivities<Activities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    startToCloseTimeout: '30s',
    retry: DELIVERY_RETRY,
  }).deliver;
}

function deliverBatchOn(channel: Channel) {
  return proxyActivities<Activities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    ...MANY_SENDS,
  }).deliverBatch;
}

/** What a send carries beyond the request: which step it belongs to and which links it offers. */
export type SendExtras = Pick<DeliverInput, 'step' | 'acknowledgeable' | 'unsubscribable'>;

/**
 * Sends deliveries and folds receipts into them: the part every version of the notification workflow
 * shares. `failover` is the provider-failover patch: each provider of a channel its own activity.
 * `batches` is the batched-sends patch: sends of one channel started together go in one activity.
 * `carried` is what an earlier run of the same notification knew, when this one continues it.
 */
export function deliveryRunner(
  request: NotificationRequest,
  state: NotificationSnapshot,
  failover: boolean,
  batches = false,
  carried?: RunnerCarry,
) {
  // Receipts may overtake the send's own reply; they wait here until their delivery knows its id.
  const unmatchedReceipts = new Map<string, Receipt[]>(carried?.earlyReceipts);
  let receiptsApplied = carried?.receiptsApplied ?? 0;

  const applyReceipt = (receipt: Receipt) => {
    const delivery = state.deliveries.find((d) => d.providerMessageId === receipt.providerMessageId);
    if (!delivery) {
      unmatchedReceipts.set(receipt.providerMessageId, [
        ...(unmatchedReceipts.get(receipt.providerMessageId) ?? []),
        receipt,
      ]);
      return;
    }
    // Duplicates and receipts out of order (a late `sent` after `delivered`) change nothing.
    const outcome = failover ? advanceByReceipt(delivery, receipt) : receiptOutcome(receipt);
    if (!outcome) return;
    Object.assign(delivery, outcome);
    receiptsApplied++;
  };
  const applyEarlyReceipts = (providerMessageId: string) => {
    const early = unmatchedReceipts.get(providerMessageId);
    unmatchedReceipts.delete(providerMessageId);
    early?.forEach(applyReceipt);
  };

  const setStatus = (status: NotificationStatus) => {
    if (state.status === status) return;
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.status, value: status }]);
  };

  const failedChannels = new Set<Channel>(carried?.failedChannels);
  const markDeadLetter = (channel: Channel) => {
    if (failedChannels.has(channel)) return;
    failedChannels.add(channel);
    upsertSearchAttributes([{ key: searchAttributes.failedChannels, value: [...failedChannels] }]);
  };

  const failDelivery = (delivery: Delivery, error: string, provider?: string) => {
    delivery.status = 'failed';
    delivery.error = error;
    if (provider) delivery.provider = provider;
    markDeadLetter(delivery.channel);
  };

  const deliverInput = (delivery: Delivery, recipient: Contact, extras?: SendExtras): DeliverInput => ({
    tenantId: request.tenantId,
    notificationId: request.notificationId,
    channel: delivery.channel,
    recipient,
    message: request.message,
    category: request.category,
    priority: request.priority,
    acceptedAt: request.createdAt,
    ...extras,
  });

  /** Before failover: one activity, one provider. */
  const deliverOnce = async (delivery: Delivery, recipient: Contact) => {
    delivery.status = 'sending';
    try {
      const result = await deliverOn(delivery.channel)(deliverInput(delivery, recipient));
      Object.assign(delivery, result);
      applyEarlyReceipts(result.providerMessageId);
    } catch (error) {
      delivery.status = 'failed';
      delivery.error = failureReason(error);
      const details = failureDetails(error);
      delivery.attempts = details?.attempts ?? delivery.attempts;
      delivery.provider = details?.provider ?? delivery.provider;
    }
  };

  /** Each provider of the channel in turn, as an activity of its own, until one takes the message. */
  const deliverWithFailover = async (delivery: Delivery, recipient: Contact, extras?: SendExtras) => {
    delivery.status = 'sending';
    delivery.providersTried = [];
    let providerIndex = 0;
    for (;;) {
      try {
        const result = await deliverOn(delivery.channel)({
          ...deliverInput(delivery, recipient, extras),
          providerIndex,
          providersTried: [...delivery.providersTried],
        });
        const { providerIndex: _used, passedOver = [], ...outcome } = result;
        delivery.providersTried.push(...passedOver, result.provider);
        Object.assign(delivery, outcome, { attempts: delivery.attempts + result.attempts });
        applyEarlyReceipts(result.providerMessageId);
        return;
      } catch (error) {
        const details = failureDetails(error);
        delivery.attempts += details?.attempts ?? 1;
        if (details?.provider) {
          delivery.provider = details.provider;
          delivery.providersTried.push(...(details.passedOver ?? []), details.provider);
        }
        if (details?.failover) {
          providerIndex = (details.providerIndex ?? providerIndex) + 1;
          continue;
        }
        failDelivery(delivery, failureReason(error));
        return;
      }
    }
  };

  interface Send {
    delivery: Delivery;
    recipient: Contact;
    extras?: SendExtras;
    done: () => void;
    fail: (error: unknown) => void;
  }
  interface Try {
    send: Send;
    providerIndex: number;
    attempt: number;
  }

  /** Sends of one channel in one activity, again for those a later try may heal; each is done when it settles. */
  const deliverBatch = async (channel: Channel, sends: Send[]) => {
    const { recipient: _first, ...shared } = deliverInput(sends[0]!.delivery, sends[0]!.recipient);
    let tries: Try[] = sends.map((send) => ({ send, providerIndex: 0, attempt: 1 }));
    while (tries.length > 0) {
      let outcomes: SendOutcome[];
      try {
        outcomes = await deliverBatchOn(channel)({
          send: shared,
          items: tries.map(({ send, providerIndex, attempt }) => ({
            recipient: send.recipient,
            ...send.extras,
            providersTried: [...send.delivery.providersTried!],
            providerIndex,
            attempt,
          })),
        });
      } catch (error) {
        for (const { send } of tries) {
          failDelivery(send.delivery, failureReason(error));
          send.done();
        }
        return;
      }
      const again: Try[] = [];
      let waitMs = 0;
      outcomes.forEach((outcome, i) => {
        const { send } = tries[i]!;
        const delivery = send.delivery;
        delivery.attempts += outcome.tries;
        delivery.providersTried!.push(...outcome.providersDone);
        if (outcome.retry) {
          again.push({ send, providerIndex: outcome.retry.providerIndex, attempt: outcome.retry.attempt });
          waitMs = Math.max(waitMs, outcome.retry.afterMs);
          return;
        }
        if (outcome.sent) {
          const { providerIndex: _used, attempts: _tries, ...sent } = outcome.sent;
          Object.assign(delivery, sent);
          applyEarlyReceipts(sent.providerMessageId);
        } else failDelivery(delivery, outcome.failed!.error, outcome.failed!.provider);
        send.done();
      });
      if (again.length > 0) await sleep(waitMs);
      tries = again;
    }
  };

  // Sends started in one activation gather here by channel, then go as one batch when there are several.
  const gatherSend = gatherer<Channel, Send>(async (channel, sends) => {
    await Promise.all(
      chunksOf(sends, SEND_BATCH_MAX).map(async (batch) => {
        try {
          if (batch.length > 1) await deliverBatch(channel, batch);
          else {
            await deliverWithFailover(batch[0]!.delivery, batch[0]!.recipient, batch[0]!.extras);
            batch[0]!.done();
          }
        } catch (error) {
          // A cancelled wait: whatever has not settled fails as a lone send's would.
          batch.forEach((send) => send.fail(error));
        }
      }),
    );
  });
  const deliverGathered = (delivery: Delivery, recipient: Contact, extras?: SendExtras) =>
    new Promise<void>((done, fail) => {
      delivery.status = 'sending';
      delivery.providersTried = [];
      gatherSend(delivery.channel, { delivery, recipient, extras, done, fail });
    });

  return {
    applyReceipt,
    setStatus,
    deliver: batches ? deliverGathered : failover ? deliverWithFailover : deliverOnce,
    receiptsApplied: () => receiptsApplied,
    carry: (): RunnerCarry => ({
      receiptsApplied,
      earlyReceipts: [...unmatchedReceipts],
      failedChannels: [...failedChannels],
    }),
  };
}

function failureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

function failureDetails(error: unknown): DeliveryFailureDetails | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure ? (cause.details?.[0] as DeliveryFailureDetails | undefined) : undefined;
}
