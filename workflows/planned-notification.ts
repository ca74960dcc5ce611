import { condition, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING } from '../domain/delivery-policy';
import type { Channel } from '../domain/channels';
import {
  hasSucceeded,
  initialSnapshot,
  plannedStatus,
  type Contact,
  type NotificationRequest,
  type NotificationSnapshot,
} from '../domain/notification';
import { planSteps, recipientReached, type Condition, type Step, type TimelineEvent } from '../domain/orchestration';
import { deliveryRunner } from './deliveries';
import {
  PATCHES,
  acknowledgeSignal,
  cancelSignal,
  forgetRecipientSignal,
  receiptSignal,
  resolveSignal,
  retrySignal,
  statusQuery,
  type ChangeGate,
} from './definitions';
import { recipientWaits } from './recipient-waits';

const { recordNotification } = proxyActivities<Activities>(BOOKKEEPING);

// A few tries in the worker, then the regular activity above: a local activity retried without end
// would hold its workflow task, and a stopping worker, for as long as the database is away.
const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '2s', maximumAttempts: 3 },
});

/**
 * A notification with a plan: it waits for its send time, holds through each recipient's quiet hours,
 * honours their preferences, sends the primaries, falls back and escalates until a condition is met or
 * someone acknowledges, and stays open for an operator's retry when it fails. Each wait is a timer and
 * each decision a signal, so the workflow history is the audit trail.
 */
export async function plannedNotification(
  scheduled: NotificationRequest,
  takes: ChangeGate,
): Promise<NotificationSnapshot> {
  // A schedule's runs share one request: each is named after its own workflow id and start.
  const request = scheduled.notificationId
    ? scheduled
    : {
        ...scheduled,
        notificationId: workflowInfo().workflowId.split('/').pop()!,
        createdAt: new Date().toISOString(),
      };
  const plansAtAccept = takes(PATCHES.plansAtAccept);
  const recordsLocally = takes(PATCHES.localRecord);
  const record = async (snapshot: NotificationSnapshot) => {
    if (recordsLocally) {
      try {
        return await local.recordNotification(snapshot);
      } catch {
        // The regular activity takes over, retrying for as long as it takes.
      }
    }
    await recordNotification(snapshot);
  };
  const strategy = request.strategy ?? 'any';
  const steps = planSteps(request.channels, request.fallback, request.escalation);
  const initial = initialSnapshot(request);
  const state: NotificationSnapshot = {
    ...initial,
    deliveries: initial.deliveries.map((d) => ({ ...d, step: 0 })),
    timeline: [],
    cancellable: true,
    retryable: false,
  };
  // One recipient's sends go to different channels and never share a batch: only several recipients ask for the patch.
  const batches = request.recipients.length > 1 && takes(PATCHES.batchedSends);
  const runner = deliveryRunner(request, state, true, batches);
  const waits = recipientWaits(request, takes);
  const note = (event: Omit<TimelineEvent, 'at'>) => state.timeline!.push({ at: new Date().toISOString(), ...event });
  let cancelled = false;
  // Deleted recipients: nothing more goes to them. With none, `gone` is `cancelled`: the same commands.
  const forgotten = new Set<string>();
  const gone = (recipientId: string) => cancelled || forgotten.has(recipientId);
  let resolved = false;
  let retryRequested = false;

  // Once the plan has run, the status is what the deliveries imply: a receipt that lands while the
  // outcome is being recorded shows in it at once, not after the record.
  let planRun = false;
  setHandler(statusQuery, () => (planRun ? { ...state, status: plannedStatus(state.deliveries) } : state));
  setHandler(receiptSignal, runner.applyReceipt);
  setHandler(cancelSignal, (action) => {
    if (!state.cancellable) return;
    cancelled = true;
    state.cancellable = false;
    note({ event: 'cancelled', by: action?.by ?? 'operator', reason: action?.reason });
  });
  setHandler(acknowledgeSignal, (ack) => {
    if (state.acknowledgement || cancelled) return;
    state.acknowledgement = ack;
    note({ event: 'acknowledged', by: ack.by, channels: ack.channel ? [ack.channel] : undefined, reason: ack.note });
  });
  setHandler(resolveSignal, (action) => {
    if (resolved || !state.acknowledgement) return;
    resolved = true;
    note({ event: 'resolved', by: action?.by ?? 'operator' });
  });
  setHandler(forgetRecipientSignal, ({ recipientId, by }) => {
    if (forgotten.has(recipientId) || !request.recipients.some((r) => r.id === recipientId)) return;
    forgotten.add(recipientId);
    note({ event: 'forgotten', recipientId, by });
  });
  setHandler(retrySignal, (action) => {
    if (!state.retryable) return;
    retryRequested = true;
    state.retryable = false;
    note({ event: 'retried', by: action?.by ?? 'operator' });
  });

  /** Holds one recipient until an instant unless cancelled first; true when it is time to go on. */
  const holdUntil = async (recipientId: string, reason: 'scheduled' | 'held', instant: string) => {
    waiting.set(recipientId, reason);
    refreshStatus();
    const ms = Date.parse(instant) - Date.now();
    if (ms > 0) await waits.until(instant, ms, () => gone(recipientId));
    waiting.delete(recipientId);
    if (gone(recipientId)) return false;
    refreshStatus();
    return true;
  };
  const deliveriesOf = (recipientId: string) => state.deliveries.filter((d) => d.recipientId === recipientId);
  const met = (recipientId: string, condition: Condition) =>
    condition === 'acknowledged'
      ? state.acknowledgement !== undefined
      : recipientReached(deliveriesOf(recipientId), condition, strategy);

  // Why each recipient is not being sent to right now; the notification is `scheduled` or `held` while all wait.
  const waiting = new Map<string, 'scheduled' | 'held'>();
  const refreshStatus = () => {
    const waits = [...waiting.values()];
    if (waits.length === 0 || waits.length < request.recipients.length) runner.setStatus('sending');
    else runner.setStatus(waits.every((w) => w === 'scheduled') ? 'scheduled' : 'held');
  };

  /** What every send of this notification carries besides its step. */
  const extras = (step: number | undefined) => ({
    step,
    acknowledgeable: request.escalation !== undefined,
    unsubscribable: !request.critical,
  });
  const sendAtOf = (contact: Contact) => request.recipientSendAt?.[contact.id] ?? request.sendAt;

  const blockedFor = new Map<string, Set<Channel>>();
  const stepsTaken = new Map<string, number>();

  const sendStep = async (contact: Contact, stepNumber: number, step: Step) => {
    note({ event: 'step', recipientId: contact.id, step: stepNumber, kind: step.kind, channels: step.channels });
    const blocked = blockedFor.get(contact.id) ?? new Set();
    const send = async (channel: Channel) => {
      let delivery =
        stepNumber === 0 ? deliveriesOf(contact.id).find((d) => d.channel === channel && !d.step) : undefined;
      if (!delivery) {
        delivery = {
          recipientId: contact.id,
          channel,
          status: 'pending',
          attempts: 0,
          step: stepNumber,
          kind: step.kind,
        };
        state.deliveries.push(delivery);
      }
      if (blocked.has(channel)) delivery.status = 'suppressed';
      else await runner.deliver(delivery, contact, extras(stepNumber));
      return delivery;
    };
    if (step.kind !== 'fallback') {
      await Promise.all(step.channels.map(send));
      return;
    }
    // Fallback channels go one at a time: the next only when this one did not take the message.
    for (const channel of step.channels) {
      if (gone(contact.id)) return;
      if (hasSucceeded(await send(channel))) return;
    }
  };

  /** The plan for one recipient, repeated while escalation says so and nobody acknowledges. */
  const runSteps = async (contact: Contact) => {
    const escalation = request.escalation;
    for (let round = 0; ; round++) {
      const first = round === 0 ? 0 : steps.findIndex((s) => s.kind === 'escalation');
      for (let i = first; i < steps.length; i++) {
        if (gone(contact.id)) return;
        const step = steps[i]!;
        const stepNumber = stepsTaken.get(contact.id) ?? 0;
        stepsTaken.set(contact.id, stepNumber + 1);
        if (stepNumber > 0) {
          const unless = step.unless;
          const done = () => unless !== undefined && met(contact.id, unless);
          const skipped =
            done() || (step.afterMs > 0 && (await condition(() => gone(contact.id) || done(), step.afterMs)));
          if (gone(contact.id)) return;
          if (skipped) {
            note({ event: 'skipped', recipientId: contact.id, step: stepNumber, kind: step.kind, reason: unless });
            continue;
          }
        }
        await sendStep(contact, stepNumber, step);
      }
      if (!escalation || round >= escalation.repeat || state.acknowledgement || gone(contact.id)) return;
    }
  };

  /** Send time, quiet hours and preferences for one recipient, then its plan. */
  const runRecipient = async (contact: Contact) => {
    const sendAt = sendAtOf(contact);
    // What the API read at accept holds while nothing has waited; after a wait, read again.
    let known =
      plansAtAccept && request.recipientPlans
        ? (request.recipientPlans[contact.id] ?? { blockedChannels: [] })
        : undefined;
    if (sendAt && Date.parse(sendAt) > Date.now()) {
      known = undefined;
      if (!(await holdUntil(contact.id, 'scheduled', sendAt))) return;
    }
    if (!request.critical) {
      for (;;) {
        const plan = known ?? (await waits.planOf(contact));
        known = undefined;
        if (!plan.quietUntil) {
          blockedFor.set(contact.id, new Set(plan.blockedChannels));
          if (plan.blockedChannels.length > 0)
            note({ event: 'suppressed', recipientId: contact.id, channels: plan.blockedChannels });
          break;
        }
        // Quiet hours hold the notification, never drop it; preferences are read again when they end.
        note({ event: 'held', recipientId: contact.id, until: plan.quietUntil });
        if (!(await holdUntil(contact.id, 'held', plan.quietUntil))) return;
      }
    }
    await runSteps(contact);
  };

  if (request.sendAt && Date.parse(request.sendAt) > Date.now()) note({ event: 'scheduled', until: request.sendAt });
  for (const r of request.recipients) {
    const sendAt = sendAtOf(r);
    if (sendAt && Date.parse(sendAt) > Date.now()) waiting.set(r.id, 'scheduled');
  }
  refreshStatus();
  // A notification that waits is recorded as scheduled or held; one sent at once goes straight to its
  // sends when the API has recorded it (the marker keeps histories of workers that recorded replaying).
  const recordedAlready = waiting.size === 0 && request.recordedByApi && takes(PATCHES.recordedAtAccept);
  if (!recordedAlready) {
    waits.decideSharing();
    await record(state);
  }
  await Promise.all(request.recipients.map(runRecipient));

  // An acknowledgement nobody resolves in time re-opens the escalation, as on-call tools do.
  const ackTimeoutMs = request.escalation?.ackTimeoutMs;
  while (ackTimeoutMs && state.acknowledgement && !resolved && !cancelled) {
    if (await condition(() => resolved || cancelled, ackTimeoutMs)) break;
    note({ event: 'reopened', by: state.acknowledgement.by });
    state.acknowledgement = undefined;
    await Promise.all(request.recipients.map(runSteps));
  }
  state.cancellable = false;
  for (const d of state.deliveries) if (d.status === 'pending') d.status = 'cancelled';

  let recordedReceipts = -1;
  const recordOutcome = async () => {
    recordedReceipts = runner.receiptsApplied();
    runner.setStatus(plannedStatus(state.deliveries));
    state.retryable = !!request.retryWindowMs && (state.status === 'failed' || state.status === 'partially_delivered');
    await record(state);
  };
  planRun = true;
  await recordOutcome();

  // Open to receipts for messages a provider only accepted, and to an operator's retry when it failed.
  let receiptDeadline = Date.now() + request.receiptWindowMs;
  let retryDeadline = Date.now() + (request.retryWindowMs ?? 0);
  const contacts = new Map(request.recipients.map((r) => [r.id, r]));
  const unrecorded = () => runner.receiptsApplied() > recordedReceipts;
  for (;;) {
    if (retryRequested) {
      retryRequested = false;
      runner.setStatus('sending');
      const unreached = request.recipients.filter(
        (r) => !forgotten.has(r.id) && !recipientReached(deliveriesOf(r.id), 'sent', 'all'),
      );
      const again = unreached.flatMap((r) => deliveriesOf(r.id).filter((d) => d.status === 'failed'));
      await Promise.all(
        again.map((d) => {
          d.error = undefined;
          return runner.deliver(d, contacts.get(d.recipientId)!, extras(d.step));
        }),
      );
      receiptDeadline = Date.now() + request.receiptWindowMs;
      retryDeadline = Date.now() + (request.retryWindowMs ?? 0);
      await recordOutcome();
      continue;
    }
    if (unrecorded()) {
      await recordOutcome();
      continue;
    }
    const awaitingReceipts = state.deliveries.some((d) => d.status === 'sent') && Date.now() < receiptDeadline;
    const awaitingRetry = state.retryable && Date.now() < retryDeadline;
    if (!awaitingReceipts && !awaitingRetry) break;
    const until = Math.max(awaitingReceipts ? receiptDeadline : 0, awaitingRetry ? retryDeadline : 0);
    await condition(() => unrecorded() || retryRequested, until - Date.now());
  }
  state.retryable = false;
  return state;
}
