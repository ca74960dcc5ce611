import {
  condition,
  makeContinueAsNewFunc,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BOOKKEEPING } from '../domain/delivery-policy';
import type { Channel } from '../domain/channels';
import { MAX_REOPENS } from '../domain/plan-size';
import {
  hasSucceeded,
  initialSnapshot,
  plannedStatus,
  type Contact,
  type NotificationRequest,
  type NotificationSnapshot,
} from '../domain/notification';
import { planSteps, recipientReached, type Condition, type Step, type TimelineEvent } from '../domain/orchestration';
import { historyFull, type Continuation, type RecipientCursor } from './continuation';
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
import type { notification } from './notification';
import { recipientWaits } from './recipient-waits';

const { recordNotification } = proxyActivities<Activities>(BOOKKEEPING);

// A few tries in the worker, then the regular activity above: a local activity retried without end
// would hold its workflow task, and a stopping worker, for as long as the database is away.
const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumInterval: '2s', maximumAttempts: 3 },
});

type StepCursor = Extract<RecipientCursor, { at: 'step' }>;

/** Thrown at a safe point of a recipient's plan once the run must carry on as a new one: where it stopped. */
class Parked {
  constructor(readonly cursor: RecipientCursor) {}
}

/**
 * A notification with a plan: it waits for its send time, holds through each recipient's quiet hours,
 * honours their preferences, sends the primaries, falls back and escalates until a condition is met or
 * someone acknowledges, and stays open for an operator's retry when it fails. Each wait is a timer and
 * each decision a signal, so the workflow history is the audit trail. A history grown long carries on as
 * a new run from where it stands (`carried`), so no notification outgrows Temporal's limits.
 */
export async function plannedNotification(
  scheduled: NotificationRequest,
  takes: ChangeGate,
  carried?: Continuation,
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
  const state: NotificationSnapshot = carried?.state ?? {
    ...initial,
    deliveries: initial.deliveries.map((d) => ({ ...d, step: 0 })),
    timeline: [],
    cancellable: true,
    retryable: false,
  };
  // One recipient's sends go to different channels and never share a batch: only several recipients ask for the patch.
  const batches = request.recipients.length > 1 && takes(PATCHES.batchedSends);
  const runner = deliveryRunner(request, state, true, batches, carried?.runner);
  const waits = recipientWaits(request, takes);
  const note = (event: Omit<TimelineEvent, 'at'>) => state.timeline!.push({ at: new Date().toISOString(), ...event });
  let cancelled = carried?.cancelled ?? false;
  // Deleted recipients: nothing more goes to them. With none, `gone` is `cancelled`: the same commands.
  const forgotten = new Set<string>(carried?.forgotten);
  const gone = (recipientId: string) => cancelled || forgotten.has(recipientId);
  let resolved = carried?.resolved ?? false;
  let retryRequested = carried?.retryRequested ?? false;
  let reopens = carried?.reopens ?? 0;

  // Once the history is long, each recipient's plan stops at its next safe point (between sends) and a new
  // run carries on. Its length is read only where replay sees the same: in signal handlers and after timers and
  // activities, never right after a local activity, whose result a replay may hand over a workflow task early.
  const bounded = request.boundedHistory === true || carried !== undefined;
  let draining = false;
  const noteHistoryLength = () => {
    if (bounded && !draining && historyFull()) draining = true;
  };
  const parked = new Map<string, RecipientCursor>();

  // Once the plan has run, the status is what the deliveries imply: a receipt that lands while the
  // outcome is being recorded shows in it at once, not after the record.
  let planRun = carried?.phase === 'outcome';
  setHandler(statusQuery, () => (planRun ? { ...state, status: plannedStatus(state.deliveries) } : state));
  setHandler(receiptSignal, (receipt) => {
    noteHistoryLength();
    runner.applyReceipt(receipt);
  });
  setHandler(cancelSignal, (action) => {
    noteHistoryLength();
    if (!state.cancellable) return;
    cancelled = true;
    state.cancellable = false;
    note({ event: 'cancelled', by: action?.by ?? 'operator', reason: action?.reason });
  });
  setHandler(acknowledgeSignal, (ack) => {
    noteHistoryLength();
    if (state.acknowledgement || cancelled) return;
    state.acknowledgement = ack;
    note({ event: 'acknowledged', by: ack.by, channels: ack.channel ? [ack.channel] : undefined, reason: ack.note });
  });
  setHandler(resolveSignal, (action) => {
    noteHistoryLength();
    if (resolved || !state.acknowledgement) return;
    resolved = true;
    note({ event: 'resolved', by: action?.by ?? 'operator' });
  });
  setHandler(forgetRecipientSignal, ({ recipientId, by }) => {
    noteHistoryLength();
    if (forgotten.has(recipientId) || !request.recipients.some((r) => r.id === recipientId)) return;
    forgotten.add(recipientId);
    note({ event: 'forgotten', recipientId, by });
  });
  setHandler(retrySignal, (action) => {
    noteHistoryLength();
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
    if (ms > 0) await waits.until(instant, ms, () => gone(recipientId) || draining);
    if (draining && !gone(recipientId)) throw new Parked({ at: 'hold', reason, until: instant });
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

  const blockedFor = new Map<string, Set<Channel>>(
    Object.entries(carried?.blocked ?? {}).map(([id, channels]) => [id, new Set(channels)]),
  );
  const stepsTaken = new Map<string, number>(Object.entries(carried?.stepsTaken ?? {}));

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

  /** The plan for one recipient, repeated while escalation says so and nobody acknowledges; `from` resumes it. */
  const runSteps = async (contact: Contact, from?: StepCursor) => {
    const escalation = request.escalation;
    for (let round = from?.round ?? 0; ; round++) {
      const first =
        from && round === from.round ? from.step : round === 0 ? 0 : steps.findIndex((s) => s.kind === 'escalation');
      for (let i = first; i < steps.length; i++) {
        if (gone(contact.id)) return;
        const step = steps[i]!;
        // A step resumed in a new run was numbered, and its wait's end fixed, by the run before.
        const resumed = from && round === from.round && i === from.step ? from : undefined;
        const stepNumber = resumed ? resumed.stepNumber : (stepsTaken.get(contact.id) ?? 0);
        if (!resumed) stepsTaken.set(contact.id, stepNumber + 1);
        const waitUntil = resumed
          ? resumed.waitUntil
          : stepNumber > 0 && step.afterMs > 0
            ? new Date(Date.now() + step.afterMs).toISOString()
            : undefined;
        const park = () => new Parked({ at: 'step', round, step: i, stepNumber, waitUntil });
        noteHistoryLength();
        if (draining) throw park();
        if (stepNumber > 0) {
          const unless = step.unless;
          const done = () => unless !== undefined && met(contact.id, unless);
          const waitMs = waitUntil ? Date.parse(waitUntil) - Date.now() : 0;
          const skipped =
            done() || (waitMs > 0 && (await condition(() => gone(contact.id) || done() || draining, waitMs)));
          if (gone(contact.id)) return;
          // The wait ended for the run to carry on: the new run waits out the rest.
          if (skipped && !done()) throw park();
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

  /** Send time, quiet hours and preferences for one recipient, then its plan; `from` resumes it. */
  const runRecipient = async (contact: Contact, from?: RecipientCursor) => {
    if (from?.at === 'step') return runSteps(contact, from);
    const heldUntil = from?.reason === 'held' ? from.until : undefined;
    const sendAt = sendAtOf(contact);
    // What the API read at accept holds while nothing has waited; after a wait, read again.
    let known =
      !from && plansAtAccept && request.recipientPlans
        ? (request.recipientPlans[contact.id] ?? { blockedChannels: [] })
        : undefined;
    if (!heldUntil && sendAt && Date.parse(sendAt) > Date.now()) {
      known = undefined;
      if (!(await holdUntil(contact.id, 'scheduled', sendAt))) return;
    }
    if (!request.critical) {
      if (heldUntil && !(await holdUntil(contact.id, 'held', heldUntil))) return;
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

  /** Runs recipients' plans, from where an earlier run left them when given; those parked wait in `parked`. */
  const runUntilParked = (
    entries: [Contact, RecipientCursor | undefined][],
    run: (contact: Contact, from?: RecipientCursor) => Promise<void>,
  ) =>
    Promise.all(
      entries.map(async ([contact, from]) => {
        try {
          await run(contact, from);
        } catch (error) {
          if (!(error instanceof Parked)) throw error;
          parked.set(contact.id, error.cursor);
        }
      }),
    );
  const everyone = () => request.recipients.map((r): [Contact, undefined] => [r, undefined]);
  const stillRunning = () =>
    request.recipients
      .filter((r) => carried?.cursors[r.id])
      .map((r): [Contact, RecipientCursor] => [r, carried!.cursors[r.id]!]);

  const continueAsNew = makeContinueAsNewFunc<typeof notification>({ workflowType: 'notification' });
  /** Ends this run; a new one carries on from the same state (its search attributes go with it). */
  const carryOn = (phase: Continuation['phase'], more: Partial<Continuation> = {}) =>
    continueAsNew(request, {
      phase,
      state,
      runner: runner.carry(),
      cursors: Object.fromEntries(parked),
      stepsTaken: Object.fromEntries(stepsTaken),
      blocked: Object.fromEntries([...blockedFor].map(([id, channels]) => [id, [...channels]])),
      forgotten: [...forgotten],
      cancelled,
      resolved,
      retryRequested,
      reopens,
      ...more,
    });
  const phase = carried?.phase ?? 'plan';

  if (!carried) {
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
    await runUntilParked(everyone(), runRecipient);
  } else if (phase === 'plan') await runUntilParked(stillRunning(), runRecipient);
  if (parked.size > 0) await carryOn('plan');

  // An acknowledgement nobody resolves in time re-opens the escalation, as on-call tools do, a bounded number of times.
  const ackTimeoutMs = request.escalation?.ackTimeoutMs;
  if (phase === 'reopened') {
    await runUntilParked(stillRunning(), (contact, from) => runSteps(contact, from as StepCursor));
    if (parked.size > 0) await carryOn('reopened');
  }
  let ackWaitUntil = phase === 'ack-wait' ? Date.parse(carried!.ackWaitUntil!) : undefined;
  while (phase !== 'outcome' && ackTimeoutMs && state.acknowledgement && !resolved && !cancelled) {
    if (bounded && reopens >= MAX_REOPENS) {
      note({ event: 'reopen-limit', reason: `re-opened ${MAX_REOPENS} times, the most an escalation is` });
      break;
    }
    const until = ackWaitUntil ?? Date.now() + ackTimeoutMs;
    ackWaitUntil = undefined;
    noteHistoryLength();
    if (await condition(() => resolved || cancelled || draining, Math.max(until - Date.now(), 1))) {
      if (!resolved && !cancelled) await carryOn('ack-wait', { ackWaitUntil: new Date(until).toISOString() });
      break;
    }
    note({ event: 'reopened', by: state.acknowledgement.by });
    state.acknowledgement = undefined;
    reopens++;
    await runUntilParked(everyone(), (contact) => runSteps(contact));
    if (parked.size > 0) await carryOn('reopened');
  }

  let recordedReceipts = carried?.recordedReceipts ?? -1;
  const recordOutcome = async () => {
    recordedReceipts = runner.receiptsApplied();
    runner.setStatus(plannedStatus(state.deliveries));
    state.retryable = !!request.retryWindowMs && (state.status === 'failed' || state.status === 'partially_delivered');
    await record(state);
  };
  if (phase !== 'outcome') {
    state.cancellable = false;
    for (const d of state.deliveries) if (d.status === 'pending') d.status = 'cancelled';
    planRun = true;
    await recordOutcome();
  }

  // Open to receipts for messages a provider only accepted, and to an operator's retry when it failed.
  let receiptDeadline = carried?.receiptDeadline
    ? Date.parse(carried.receiptDeadline)
    : Date.now() + request.receiptWindowMs;
  let retryDeadline = carried?.retryDeadline
    ? Date.parse(carried.retryDeadline)
    : Date.now() + (request.retryWindowMs ?? 0);
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
      noteHistoryLength();
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
    if (draining) {
      await carryOn('outcome', {
        receiptDeadline: new Date(receiptDeadline).toISOString(),
        retryDeadline: new Date(retryDeadline).toISOString(),
        recordedReceipts,
      });
    }
    const until = Math.max(awaitingReceipts ? receiptDeadline : 0, awaitingRetry ? retryDeadline : 0);
    await condition(() => unrecorded() || retryRequested || draining, until - Date.now());
  }
  state.retryable = false;
  return state;
}
