import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliveryFailureDetails } from '../activities';
import type { Channel } from '../domain/channels';
import { channelTaskQueue, DELIVERY_RETRY } from '../domain/delivery-policy';
import {
  advanceByReceipt,
  overallStatus,
  receiptOutcome,
  type Contact,
  type Delivery,
  type NotificationRequest,
  type NotificationSnapshot,
  type NotificationStatus,
  type Receipt,
} from '../domain/notification';
import { PATCHES, receiptSignal, searchAttributes, statusQuery } from './definitions';

const { recordNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

function deliverOn(channel: Channel) {
  return proxyActivities<Activities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    startToCloseTimeout: '30s',
    retry: DELIVERY_RETRY,
  }).deliver;
}

/** One notification: every recipient on every channel, retried, recorded, and open to receipts. */
export async function notificationWorkflow(request: NotificationRequest): Promise<NotificationSnapshot> {
  const state: NotificationSnapshot = {
    notificationId: request.notificationId,
    tenantId: request.tenantId,
    status: 'accepted',
    priority: request.priority,
    channels: request.channels,
    category: request.category,
    requestHash: request.requestHash,
    createdAt: request.createdAt,
    deliveries: request.recipients.flatMap((recipient) =>
      request.channels.map((channel): Delivery => ({
        recipientId: recipient.id,
        channel,
        status: 'pending',
        attempts: 0,
      })),
    ),
  };
  const failover = patched(PATCHES.providerFailover);
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

  setHandler(statusQuery, () => state);
  setHandler(receiptSignal, applyReceipt);

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

  const deliverInput = (delivery: Delivery, recipient: Contact) => ({
    tenantId: request.tenantId,
    notificationId: request.notificationId,
    channel: delivery.channel,
    recipient,
    message: request.message,
    category: request.category,
    priority: request.priority,
    acceptedAt: request.createdAt,
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
  const deliverWithFailover = async (delivery: Delivery, recipient: Contact) => {
    delivery.status = 'sending';
    delivery.providersTried = [];
    let providerIndex = 0;
    for (;;) {
      try {
        const result = await deliverOn(delivery.channel)({
          ...deliverInput(delivery, recipient),
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
  const deliver = failover ? deliverWithFailover : deliverOnce;

  await recordNotification(state);
  setStatus('sending');
  const contacts = new Map(request.recipients.map((r) => [r.id, r]));
  await Promise.all(state.deliveries.map((d) => deliver(d, contacts.get(d.recipientId)!)));

  let recordedReceipts = 0;
  const recordOutcome = async () => {
    recordedReceipts = receiptsApplied;
    setStatus(overallStatus(state.deliveries));
    await recordNotification(state);
  };
  await recordOutcome();

  // Messages a provider only accepted stay open to receipts until the window closes.
  const deadline = Date.now() + request.receiptWindowMs;
  const awaitingReceipts = () => state.deliveries.some((d) => d.status === 'sent') && Date.now() < deadline;
  const unrecorded = () => receiptsApplied > recordedReceipts;
  while (awaitingReceipts() || unrecorded()) {
    if (unrecorded() || (await condition(unrecorded, deadline - Date.now()))) await recordOutcome();
  }
  return state;
}

function failureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

function failureDetails(error: unknown): DeliveryFailureDetails | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure ? (cause.details?.[0] as DeliveryFailureDetails | undefined) : undefined;
}
