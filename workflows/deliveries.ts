import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliverInput, DeliveryFailureDetails } from '../activities';
import type { Channel } from '../domain/channels';
import { channelTaskQueue, DELIVERY_RETRY } from '../domain/delivery-policy';
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
import { searchAttributes } from './definitions';

function deliverOn(channel: Channel) {
  return proxyActivities<Activities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    startToCloseTimeout: '30s',
    retry: DELIVERY_RETRY,
  }).deliver;
}

/** What a send carries beyond the request: which step it belongs to and which links it offers. */
export type SendExtras = Pick<DeliverInput, 'step' | 'acknowledgeable' | 'unsubscribable'>;

/**
 * Sends deliveries and folds receipts into them: the part every version of the notification workflow
 * shares. `failover` is the provider-failover patch: each provider of a channel its own activity.
 */
export function deliveryRunner(request: NotificationRequest, state: NotificationSnapshot, failover: boolean) {
  // Receipts may overtake the send's own reply; they wait here until their delivery knows its id.
  const unmatchedReceipts = new Map<string, Receipt[]>();
  let receiptsApplied = 0;

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

  const failedChannels = new Set<Channel>();
  const markDeadLetter = (channel: Channel) => {
    if (failedChannels.has(channel)) return;
    failedChannels.add(channel);
    upsertSearchAttributes([{ key: searchAttributes.failedChannels, value: [...failedChannels] }]);
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
        const { providerIndex: _used, ...outcome } = result;
        delivery.providersTried.push(result.provider);
        Object.assign(delivery, outcome, { attempts: delivery.attempts + result.attempts });
        applyEarlyReceipts(result.providerMessageId);
        return;
      } catch (error) {
        const details = failureDetails(error);
        delivery.attempts += details?.attempts ?? 1;
        if (details?.provider) {
          delivery.provider = details.provider;
          delivery.providersTried.push(details.provider);
        }
        if (details?.failover) {
          providerIndex = (details.providerIndex ?? providerIndex) + 1;
          continue;
        }
        delivery.status = 'failed';
        delivery.error = failureReason(error);
        markDeadLetter(delivery.channel);
        return;
      }
    }
  };

  return {
    applyReceipt,
    setStatus,
    deliver: failover ? deliverWithFailover : deliverOnce,
    receiptsApplied: () => receiptsApplied,
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
