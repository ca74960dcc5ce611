/**
 * The end checks, against the providers' own logs: every accepted notification settled, every
 * delivery that should have gone reached its provider, duplicates counted and explained by the
 * fault that opened their window, no status claims what no provider saw, nothing reached anyone it
 * should not, and acknowledged escalations ran no later step.
 */
import { SENDS_IN_FLIGHT } from '../../domain/delivery-policy';
import type { FaultEvent, FaultKind } from './faults';
import type { Mode } from './plan';
import type { BroadcastOrder, Order, Recipient } from './load';
import type { Arrival, ChaosChannel } from './providers';
import { settled, type BroadcastSnapshot, type Outcome, type StatusSnapshot } from './settle';

/** A delivery of the broadcast as Herald recorded it (its deliveries table). */
export interface RecordedDelivery {
  recipientId: string;
  channel: string;
  status: string;
}

export interface Inputs {
  orders: Order[];
  outcomes: Map<Order, Outcome>;
  broadcast?: { order: BroadcastOrder; snapshot?: BroadcastSnapshot; recorded: RecordedDelivery[] };
  arrivals: Arrival[];
  faults: FaultEvent[];
  /** Turns wall-clock times into the run's clock for messages. */
  clock: (at: number) => string;
}

export interface Duplicate {
  delivery: string;
  arrivals: { provider: string; at: string; sender?: number }[];
  /** The fault between the arrivals that explains the second, or undefined. */
  explanation?: string;
  /** Its first send's worker is known and no fault stopped it: the crash windows around it are all there is. */
  senderNotStopped?: true;
}

export interface ChannelFigures {
  expected: number;
  reached: number;
  lost: number;
  duplicates: number;
}

export interface Findings {
  requests: {
    sent: number;
    acceptedAnswered: number;
    /** Accepted although no try had an answer: found afterwards by its id. */
    acceptedUnanswered: number;
    neverAccepted: number;
    refused: { tag: string; status: number; body: unknown }[];
    /** Tries that ended without an answer and were sent again. */
    retriedTries: number;
  };
  byKind: Record<string, number>;
  channels: Record<string, ChannelFigures>;
  notFinal: string[];
  lost: string[];
  duplicates: Duplicate[];
  phantoms: string[];
  unexpected: string[];
  ackViolations: string[];
  acknowledged: number;
  /** Faults during the run that can make a provider take a message twice. */
  crashFaults: number;
}

/** Faults that can make a provider take a message twice: the sender's result lost between the send and its record. */
const CRASH_WINDOWS: Partial<Record<FaultKind, string>> = {
  'worker-sigkill': 'killed after the provider took it and before Temporal had the result; the retry sent it again',
  'worker-sigterm': 'stopped with the send in flight past its grace time; the retry sent it again',
  'unasked-exit': 'exited on its own with the send in flight',
  'temporal-restart': 'the result could not reach the restarting Temporal server; the retry sent it again',
  'postgres-restart': 'the send could not be recorded while PostgreSQL restarted; the retry sent it again',
};

const TAKEN = new Set(['sent', 'delivered', 'opened', 'clicked']);

export function check(inputs: Inputs): Findings {
  const byTag = new Map<string, Arrival[]>();
  for (const a of inputs.arrivals) byTag.set(a.tag, [...(byTag.get(a.tag) ?? []), a]);
  const findings: Findings = {
    requests: {
      sent: inputs.orders.length,
      acceptedAnswered: 0,
      acceptedUnanswered: 0,
      neverAccepted: 0,
      refused: [],
      retriedTries: 0,
    },
    byKind: {},
    channels: {},
    notFinal: [],
    lost: [],
    duplicates: [],
    phantoms: [],
    unexpected: [],
    ackViolations: [],
    acknowledged: 0,
    crashFaults: inputs.faults.filter((f) => CRASH_WINDOWS[f.kind]).length,
  };
  const figures = (channel: string) =>
    (findings.channels[channel] ??= { expected: 0, reached: 0, lost: 0, duplicates: 0 });

  /** Counts one delivery that should have gone: reached, lost or duplicated. */
  const expect = (channel: string, name: string, arrivals: Arrival[], herald: string) => {
    const f = figures(channel);
    f.expected++;
    if (arrivals.length === 0) {
      f.lost++;
      findings.lost.push(`${name}: no provider took it (Herald says ${herald})`);
      return;
    }
    f.reached++;
    if (arrivals.length > 1) {
      f.duplicates += arrivals.length - 1;
      findings.duplicates.push(duplicate(name, arrivals, inputs));
    }
  };

  for (const order of inputs.orders) {
    const retried = order.answer?.attempts.slice(0, -1) ?? [];
    findings.requests.retriedTries += retried.length;
    const outcome = inputs.outcomes.get(order);
    const arrivals = byTag.get(order.tag) ?? [];
    byTag.delete(order.tag);
    if (order.answer?.status !== undefined && order.answer.status !== 202) {
      findings.requests.refused.push({ tag: order.tag, status: order.answer.status, body: order.answer.body });
      continue;
    }
    if (!outcome?.found) {
      findings.requests.neverAccepted++;
      if (outcome?.status !== 404)
        findings.notFinal.push(`${order.tag} (${order.id}): status unreadable (${outcome?.status})`);
      for (const a of arrivals)
        findings.unexpected.push(`${order.tag}: never accepted, yet ${a.provider} took it for ${a.to}`);
      continue;
    }
    if (order.answer?.status === 202) findings.requests.acceptedAnswered++;
    else findings.requests.acceptedUnanswered++;
    findings.byKind[order.kind] = (findings.byKind[order.kind] ?? 0) + 1;
    checkNotification(order, outcome.snapshot, arrivals, findings, expect);
  }

  const broadcast = inputs.broadcast;
  if (broadcast) {
    const arrivals = byTag.get(broadcast.order.tag) ?? [];
    byTag.delete(broadcast.order.tag);
    checkBroadcast(broadcast, arrivals, findings, expect);
  }
  for (const [tag, arrivals] of byTag)
    for (const a of arrivals)
      findings.unexpected.push(`${a.provider} took a message of no request (${tag || 'no tag'}) for ${a.to}`);
  return findings;
}

type Expect = (channel: string, name: string, arrivals: Arrival[], herald: string) => void;

function checkNotification(
  order: Order,
  snapshot: StatusSnapshot,
  arrivals: Arrival[],
  findings: Findings,
  expect: Expect,
) {
  const name = (r: Recipient, channel: string, step: number) =>
    `${order.tag}/${r.id}/${channel}${step ? `/step ${step}` : ''}`;
  if (!settled(order, snapshot)) {
    // Its later steps are undecided: what should have gone is not known yet.
    findings.notFinal.push(`${order.tag} (${order.id}): ${snapshot.status}`);
    return;
  }
  const timeline = snapshot.timeline ?? [];
  const decision = (r: Recipient, step: number) =>
    timeline.find((e) => e.recipient_id === r.id && e.step === step && (e.event === 'step' || e.event === 'skipped'));
  const heraldSays = (r: Recipient, channel: string, step: number) =>
    snapshot.deliveries.find((d) => d.recipient_id === r.id && d.channel === channel && (d.step ?? 0) === step);

  // Each channel of each step: which recipient's address each arrival went to.
  const addressOf = (r: Recipient, channel: ChaosChannel) =>
    channel === 'email' ? r.email : channel === 'sms' ? r.phone : r.id;
  const claimed = new Set<Arrival>();
  const stepChannels = [order.channels, ...order.steps];
  stepChannels.forEach((channels, step) => {
    for (const r of order.recipients)
      for (const channel of channels) {
        const mine = arrivals.filter((a) => a.channel === channel && a.to === addressOf(r, channel));
        for (const a of mine) claimed.add(a);
        const herald = heraldSays(r, channel, step);
        const ran = step === 0 || decision(r, step)?.event === 'step';
        const dropped = herald && ['suppressed', 'cancelled'].includes(herald.status);
        if (ran && !dropped) expect(channel, name(r, channel, step), mine, herald ? herald.status : 'nothing');
        else if (mine.length > 0)
          findings.unexpected.push(
            `${name(r, channel, step)}: ${mine[0]!.provider} took it, though Herald ${ran ? `says ${herald?.status}` : 'skipped the step'}`,
          );
        if (herald && TAKEN.has(herald.status) && mine.length === 0)
          findings.phantoms.push(`${name(r, channel, step)}: Herald says ${herald.status}, no provider took it`);
      }
  });
  for (const a of arrivals)
    if (!claimed.has(a))
      findings.unexpected.push(`${order.tag}: ${a.provider} took it for ${a.to}, no recipient of it`);

  // An acknowledged escalation runs no step after the acknowledgement.
  const ack = snapshot.acknowledgement;
  if (order.kind === 'escalation' && ack) {
    findings.acknowledged++;
    const ackAt = Date.parse(ack.at);
    for (const e of timeline)
      if (e.event === 'step' && (e.step ?? 0) > 0 && Date.parse(e.at) > ackAt)
        findings.ackViolations.push(
          `${order.tag}: step ${e.step} began at ${e.at}, after the acknowledgement at ${ack.at}`,
        );
  }
}

function checkBroadcast(
  broadcast: NonNullable<Inputs['broadcast']>,
  arrivals: Arrival[],
  findings: Findings,
  expect: Expect,
) {
  const { order, snapshot, recorded } = broadcast;
  if (!order.id) {
    findings.notFinal.push(`broadcast: never accepted (${order.answer?.status ?? 'no answer'})`);
    return;
  }
  if (!snapshot || ['accepted', 'sending'].includes(snapshot.status)) {
    // Chunks still sending: what went is not known yet.
    findings.notFinal.push(
      `broadcast ${order.id}: ${snapshot?.status ?? 'unreadable'}, ${arrivals.length} sent so far`,
    );
    return;
  }
  const byAddress = new Map<string, Arrival[]>();
  for (const a of arrivals) byAddress.set(a.to, [...(byAddress.get(a.to) ?? []), a]);
  const recordedBy = new Map(recorded.map((d) => [d.recipientId, d.status]));
  for (const r of order.recipients) {
    const mine = byAddress.get(r.email!) ?? [];
    byAddress.delete(r.email!);
    const herald = recordedBy.get(r.id);
    expect('email (broadcast)', `broadcast/${r.id}`, mine, herald ?? 'nothing');
    if (herald && TAKEN.has(herald) && mine.length === 0)
      findings.phantoms.push(`broadcast/${r.id}: Herald says ${herald}, no provider took it`);
  }
  for (const [to] of byAddress)
    findings.unexpected.push(`broadcast: the provider took a message for ${to}, no recipient of it`);
}

export function duplicate(name: string, arrivals: Arrival[], inputs: Inputs): Duplicate {
  const sorted = [...arrivals].sort((a, b) => a.at - b.at);
  const explanations: string[] = [];
  let senderNotStopped = false;
  for (let i = 1; i < sorted.length; i++) {
    const [first, next] = [sorted[i - 1]!, sorted[i]!];
    // The window opens as the first send leaves: a kill a moment before its arrival was logged still counts.
    const faults = inputs.faults.filter((f) => {
      const [from, to] = crashSpan(f);
      return CRASH_WINDOWS[f.kind] && to >= first.at - 1000 && from <= next.at;
    });
    if (faults.length === 0) continue;
    const cut = whichCut(first, faults, inputs);
    explanations.push(cut.text);
    senderNotStopped ||= !cut.certain;
  }
  return {
    delivery: name,
    arrivals: sorted.map((a) => ({
      provider: a.provider,
      at: inputs.clock(a.at),
      ...(a.sender !== undefined ? { sender: a.sender } : {}),
    })),
    explanation: explanations.length === sorted.length - 1 ? explanations.join('; ') : undefined,
    ...(senderNotStopped ? { senderNotStopped: true as const } : {}),
  };
}

/**
 * Of the crash windows around a send that went twice, the one that cut it: the stop of the worker that
 * sent it (the providers' logs name each sender's process), else a restarted server, whose absence cuts
 * every worker's sends. Without the sender (/proc could not tell), every window that could have.
 */
function whichCut(first: Arrival, faults: FaultEvent[], inputs: Inputs): { text: string; certain: boolean } {
  const describe = (f: FaultEvent) =>
    `${f.kind} of ${f.target}${f.pid ? ` (pid ${f.pid})` : ''} at ${inputs.clock(f.at)} (${CRASH_WINDOWS[f.kind]})`;
  if (first.sender === undefined) return { text: faults.map(describe).join(' or '), certain: true };
  const own = faults.find((f) => f.pid === first.sender);
  if (own) return { text: `${describe(own)}: it sent the first`, certain: true };
  const servers = faults.filter((f) => f.kind === 'temporal-restart' || f.kind === 'postgres-restart');
  if (servers.length > 0) return { text: servers.map(describe).join(' or '), certain: true };
  return {
    text: `${faults.map(describe).join(' or ')}; the first was sent by pid ${first.sender}, which none of them stopped`,
    certain: false,
  };
}

/**
 * When a fault can cut a send between the provider's answer and its record: a kill's instant; a
 * SIGTERM's whole stop, as sends still in flight at its grace time's end are cut then; a restarted
 * server's whole absence.
 */
export function crashSpan(fault: FaultEvent): [number, number] {
  if (fault.kind === 'worker-sigterm') return [fault.at, fault.exitedAt ?? fault.at];
  if (fault.kind === 'temporal-restart' || fault.kind === 'postgres-restart')
    return [fault.at, fault.endedAt ?? fault.at];
  return [fault.at, fault.at];
}

/**
 * The target is 0.1 % of deliveries. A short run's thousand deliveries make that less than two, while
 * one crash re-sends what the process it hit had in flight: up to a broadcast chunk's sends in flight
 * (each send's record is written as the provider answers, so no more). There a crash fault may
 * account for that many; a full run is held to 0.1 %.
 */
export function duplicatesAllowed(mode: Mode, deliveries: number, crashFaults: number) {
  const target = deliveries * 0.001;
  if (mode === 'full') return { most: target, name: '0.1 % of deliveries' };
  return {
    most: Math.max(target, crashFaults * SENDS_IN_FLIGHT),
    name: `0.1 % of deliveries or the ${SENDS_IN_FLIGHT} sends one process has in flight per crash fault`,
  };
}

/** The verdicts the run exits on, each with what it measured. */
export function verdicts(
  findings: Findings,
  graceful: { workersOk: boolean; apisOk: boolean },
  everythingAnswered: boolean,
  mode: Mode,
) {
  const expected = Object.values(findings.channels).reduce((n, c) => n + c.expected, 0);
  const duplicates = Object.values(findings.channels).reduce((n, c) => n + c.duplicates, 0);
  // A full run holds each duplicate to the fault that cut its sender; the short mode, to a crash window.
  const unexplained = findings.duplicates.filter(
    (d) => !d.explanation || (mode === 'full' && d.senderNotStopped),
  ).length;
  const duplicateBound = duplicatesAllowed(mode, expected, findings.crashFaults);
  return [
    { check: 'every accepted notification reached a final state', ok: findings.notFinal.length === 0 },
    { check: 'every delivery that should have gone reached its provider (0 lost)', ok: findings.lost.length === 0 },
    {
      check: `duplicates ≤ ${duplicateBound.name} (${duplicates} of ${expected}, ${findings.crashFaults} crash faults) and each explained (${unexplained} unexplained)`,
      ok: duplicates <= duplicateBound.most && unexplained === 0,
    },
    { check: 'no status says sent or delivered for what no provider took', ok: findings.phantoms.length === 0 },
    { check: 'nothing reached anyone it should not', ok: findings.unexpected.length === 0 },
    { check: 'acknowledged escalations ran no later step', ok: findings.ackViolations.length === 0 },
    { check: 'no request refused (each was valid)', ok: findings.requests.refused.length === 0 },
    { check: 'every request was answered in the end (retried with its key)', ok: everythingAnswered },
    { check: 'a stopped worker exited 0 within its stop deadline (grace time + 15 s)', ok: graceful.workersOk },
    {
      // One sent after the signal on a keep-alive connection the closing server ends is never read: the
      // client sends it again elsewhere, as HTTP/1.1 asks of it (the report counts those).
      check: 'a stopped API answered every request it had when signalled, and exited 0',
      ok: graceful.apisOk,
    },
  ];
}
