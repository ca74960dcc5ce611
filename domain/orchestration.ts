import type { Channel } from './channels';
import type { Delivery, DeliveryStatus } from './notification';

/**
 * What must have happened for a later step to be skipped: a provider took a message (`sent`), it was
 * confirmed (`delivered`), the recipient engaged (`opened`, `clicked`), or someone acknowledged it.
 */
/** `read`: opened on some channel (an email opened, an in-app message read), as `opened` is. */
export const CONDITIONS = ['sent', 'delivered', 'opened', 'read', 'clicked', 'acknowledged'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** `any`: one primary channel reaching the recipient is enough; `all`: every primary must. */
export const STRATEGIES = ['any', 'all'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Channels tried in order, one after another fails, once the primaries have not done it in time. */
export interface Fallback {
  channels: Channel[];
  afterMs: number;
  unless: Condition;
}

export interface EscalationStep {
  /** How long after the previous step this one runs. */
  afterMs: number;
  channels: Channel[];
  unless: Condition;
}

export interface EscalationPolicy {
  steps: EscalationStep[];
  /** How many more times the steps run, from the first, while nobody acknowledges. */
  repeat: number;
  /** An acknowledgement not followed by a resolve within this long re-opens the escalation. */
  ackTimeoutMs?: number;
}

export type StepKind = 'primary' | 'fallback' | 'escalation';

export interface Step {
  kind: StepKind;
  channels: Channel[];
  afterMs: number;
  unless?: Condition;
}

/** The notification's steps for one recipient: primaries at once, then the fallback, then escalation. */
export function planSteps(
  channels: Channel[],
  fallback: Fallback | undefined,
  escalation: EscalationPolicy | undefined,
): Step[] {
  return [
    { kind: 'primary', channels, afterMs: 0 },
    ...(fallback ? [{ kind: 'fallback' as const, ...fallback }] : []),
    ...(escalation?.steps ?? []).map((s) => ({ kind: 'escalation' as const, ...s })),
  ];
}

export interface Acknowledgement {
  /** Who: the key's tenant user, or the recipient a signed link was sent to. */
  by: string;
  at: string;
  via: 'api' | 'link';
  channel?: Channel;
  note?: string;
}

/** Each thing that happened to a notification, in order: its audit trail next to the workflow history. */
export interface TimelineEvent {
  at: string;
  event:
    | 'scheduled'
    | 'held'
    | 'step'
    | 'skipped'
    | 'suppressed'
    | 'acknowledged'
    | 'reopened'
    /** An acknowledgement left unresolved re-opened the escalation the most times it may; it stays acknowledged. */
    | 'reopen-limit'
    | 'resolved'
    | 'cancelled'
    | 'retried'
    | 'forgotten';
  recipientId?: string;
  step?: number;
  kind?: StepKind;
  channels?: Channel[];
  until?: string;
  reason?: string;
  by?: string;
}

const LEVEL: Record<DeliveryStatus, number> = {
  pending: 0,
  sending: 0,
  failed: 0,
  cancelled: 0,
  suppressed: 0,
  sent: 1,
  delivered: 2,
  opened: 3,
  clicked: 4,
};
const REQUIRED: Record<Exclude<Condition, 'acknowledged'>, number> = {
  sent: 1,
  delivered: 2,
  opened: 3,
  read: 3,
  clicked: 4,
};

/**
 * Whether one recipient's deliveries meet a condition. Under `all`, every primary delivery must meet it
 * (or a later step's delivery stands in for them); under `any`, one delivery is enough.
 */
export function recipientReached(
  deliveries: readonly Pick<Delivery, 'status' | 'step'>[],
  condition: Exclude<Condition, 'acknowledged'>,
  strategy: Strategy,
): boolean {
  const reached = (d: Pick<Delivery, 'status'>) => LEVEL[d.status] >= REQUIRED[condition];
  if (strategy === 'any') return deliveries.some(reached);
  const primaries = deliveries.filter((d) => !d.step && d.status !== 'suppressed');
  return (primaries.length > 0 && primaries.every(reached)) || deliveries.some((d) => !!d.step && reached(d));
}

/** Parses `90s`, `5m`, `2h`, `1d` or `250ms` into milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new RangeError(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}
export const DURATION_PATTERN = '^[0-9]{1,9}(ms|s|m|h|d)$';
