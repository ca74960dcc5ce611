import { condition, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING } from '../domain/delivery-policy';
import {
  initialSnapshot,
  overallStatus,
  type NotificationRequest,
  type NotificationSnapshot,
} from '../domain/notification';
import type { Continuation } from './continuation';
import { deliveryRunner } from './deliveries';
import { PATCHES, PATCHES_SINCE_CURRENT_TYPE, receiptSignal, statusQuery } from './definitions';
import { plannedNotification } from './planned-notification';

const { recordNotification } = proxyActivities<Activities>(BOOKKEEPING);

/** Every change since the first notification workflow: the current type has those before it without markers. */
const everyChange = (patchId: string) => !PATCHES_SINCE_CURRENT_TYPE.has(patchId) || patched(patchId);

/**
 * One notification, as started today: its plan (steps, send times, quiet hours, preferences, cancel,
 * acknowledgement, retry) over every recipient and channel. A workflow type of its own, so each run carries
 * none of the first type's patch markers (each one also a search attribute update on the server).
 * `continued`: the state an earlier run carried into this one when its history grew long.
 */
export async function notification(
  request: NotificationRequest,
  continued?: Continuation,
): Promise<NotificationSnapshot> {
  return plannedNotification(request, everyChange, continued);
}

/**
 * The first notification workflow type, kept for the workflows it started and their histories: those
 * started since steps, schedules and preferences arrived follow their plan, older ones finish as they began.
 */
export async function notificationWorkflow(request: NotificationRequest): Promise<NotificationSnapshot> {
  if (patched(PATCHES.orchestration)) return plannedNotification(request, patched);
  const state = initialSnapshot(request);
  const runner = deliveryRunner(request, state, patched(PATCHES.providerFailover));
  setHandler(statusQuery, () => state);
  setHandler(receiptSignal, runner.applyReceipt);

  await recordNotification(state);
  runner.setStatus('sending');
  const contacts = new Map(request.recipients.map((r) => [r.id, r]));
  await Promise.all(state.deliveries.map((d) => runner.deliver(d, contacts.get(d.recipientId)!)));

  let recordedReceipts = 0;
  const recordOutcome = async () => {
    recordedReceipts = runner.receiptsApplied();
    runner.setStatus(overallStatus(state.deliveries));
    await recordNotification(state);
  };
  await recordOutcome();

  // Messages a provider only accepted stay open to receipts until the window closes.
  const deadline = Date.now() + request.receiptWindowMs;
  const awaitingReceipts = () => state.deliveries.some((d) => d.status === 'sent') && Date.now() < deadline;
  const unrecorded = () => runner.receiptsApplied() > recordedReceipts;
  while (awaitingReceipts() || unrecorded()) {
    if (unrecorded() || (await condition(unrecorded, deadline - Date.now()))) await recordOutcome();
  }
  return state;
}
