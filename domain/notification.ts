import type { Channel } from './channels';
import {
  recipientReached,
  type Acknowledgement,
  type EscalationPolicy,
  type Fallback,
  type StepKind,
  type Strategy,
  type TimelineEvent,
} from './orchestration';
import type { RecipientPlan } from './recipient-plan';

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const NOTIFICATION_STATUSES = [
  'accepted',
  'scheduled',
  /** Waiting for the recipient's quiet hours to end. */
  'held',
  'sending',
  'delivered',
  'partially_delivered',
  'failed',
  'cancelled',
  /** Every recipient switched this off in their preferences. */
  'suppressed',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/**
 * `sent`: a provider took it; `delivered`: confirmed by the provider or a receipt; `opened` and
 * `clicked`: the recipient engaged with it (email tracking, read receipts).
 */
export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'failed',
  'cancelled',
  /** Not sent: the recipient's preferences turn this category or channel off. */
  'suppressed',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Contact {
  id: string;
  email?: string;
  phone?: string;
  pushTokens?: string[];
  locale?: string;
  timezone?: string;
  telegramChatId?: string;
  slackWebhookUrl?: string;
  discordWebhookUrl?: string;
}

/** A link the recipient can follow: a button in chat, a line in plain text. */
export interface MessageAction {
  label: string;
  url: string;
}

export interface Message {
  subject?: string;
  text: string;
  html?: string;
  actions?: MessageAction[];
  /** Rendered from a template for each recipient and channel when sent; `text` is then empty. */
  template?: TemplateRef;
  /**
   * The notification's `group_key`: the in-app inbox shows a group's messages as one entry. It rides with
   * the message so the in-app channel has it where it stores the row; other channels ignore it.
   */
  groupKey?: string;
}

/** A template's versions as they were live at accept: a retry, a later step or a replay renders these. */
export interface TemplatePin {
  key: string;
  version: number;
  /** The layouts and partials it renders, each at its version. */
  partials: Record<string, number>;
}

export interface TemplateRef extends TemplatePin {
  data: Record<string, unknown>;
  /** For recipients without a locale of their own. */
  locale?: string;
  /** The tenant's settings at accept: the locale before the template's own, and whether links count clicks. */
  tenantLocale?: string;
  trackClicks: boolean;
  /**
   * The experiment running on the template at accept: each recipient sees the variant recorded at their
   * first exposure (assigned then by their id); those without an id of their own see the control.
   */
  experiment?: { id: string; variants: { name: string; version: number; weight: number }[]; anonymous?: string[] };
}

/** Everything a notification workflow needs, resolved by the API at accept time. */
export interface NotificationRequest {
  notificationId: string;
  tenantId: string;
  channels: Channel[];
  recipients: Contact[];
  message: Message;
  priority: Priority;
  category?: string;
  metadata?: Record<string, unknown>;
  requestHash: string;
  createdAt: string;
  /** How long to keep listening for delivery receipts of messages a provider only accepted. */
  receiptWindowMs: number;
  strategy?: Strategy;
  fallback?: Fallback;
  escalation?: EscalationPolicy;
  /** OTP and security alerts: past preferences and quiet hours. */
  critical?: boolean;
  /** When to send, for every recipient, or for each by id when given as a local time in their time zones. */
  sendAt?: string;
  recipientSendAt?: Record<string, string>;
  /** How long a failed notification waits for an operator's `retry`. */
  retryWindowMs?: number;
  /**
   * The preferences of recipients who had some, as they stood at accept (a recipient absent here had
   * none), so a notification sent at once needs no activity to read them; after any wait the workflow
   * reads them again.
   */
  recipientPlans?: Record<string, RecipientPlan>;
  /** The API writes the notification's row when it accepts it: a workflow that sends at once need not first. */
  recordedByApi?: boolean;
  /**
   * Accepted since histories are bounded: the workflow carries on as a new run when its history grows long,
   * and an unresolved acknowledgement re-opens an escalation at most a few times. Workflows started before
   * run as they began (their input never changes, so replay stays deterministic without a patch marker).
   */
  boundedHistory?: boolean;
}

export interface Delivery {
  recipientId: string;
  channel: Channel;
  status: DeliveryStatus;
  provider?: string;
  attempts: number;
  providerMessageId?: string;
  error?: string;
  /** Every provider a send went to, in order: more than one when a provider failed over. */
  providersTried?: string[];
  /** What the channel measured of the message, such as SMS segments and encoding. */
  details?: DeliveryDetails;
  /** Which step of the plan sent it: 0 for the primaries, then fallback and escalation steps. */
  step?: number;
  kind?: StepKind;
}

export interface DeliveryDetails {
  segments?: number;
  encoding?: 'GSM-7' | 'UCS-2';
  /** What a templated message was rendered from. */
  template?: string;
  version?: number;
  locale?: string;
  variant?: string;
  experimentId?: string;
}

export interface NotificationSnapshot {
  notificationId: string;
  tenantId: string;
  status: NotificationStatus;
  priority: Priority;
  channels: Channel[];
  category?: string;
  requestHash: string;
  createdAt: string;
  deliveries: Delivery[];
  acknowledgement?: Acknowledgement;
  timeline?: TimelineEvent[];
  /** Steps remain or a send time is ahead: a cancel still changes something. */
  cancellable?: boolean;
  /** Failed, and an operator's `retry` would send the failed deliveries again. */
  retryable?: boolean;
}

/** A notification before anything happened: every recipient × channel pending. */
export function initialSnapshot(request: NotificationRequest): NotificationSnapshot {
  return {
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
}

/** Every status but the two a delivery passes through before its outcome is known. */
const SETTLED: ReadonlySet<DeliveryStatus> = new Set(
  DELIVERY_STATUSES.filter((s) => s !== 'pending' && s !== 'sending'),
);
const SUCCEEDED: ReadonlySet<DeliveryStatus> = new Set(['sent', 'delivered', 'opened', 'clicked']);

export function isSettled(delivery: Pick<Delivery, 'status'>): boolean {
  return SETTLED.has(delivery.status);
}

/** A provider took it, or better. */
export function hasSucceeded(delivery: Pick<Delivery, 'status'>): boolean {
  return SUCCEEDED.has(delivery.status);
}

/** The notification's status as its deliveries imply it once none is pending. */
export function overallStatus(deliveries: readonly Pick<Delivery, 'status'>[]): NotificationStatus {
  if (deliveries.some((d) => !isSettled(d))) return 'sending';
  const succeeded = deliveries.filter(hasSucceeded).length;
  if (succeeded === deliveries.length) return 'delivered';
  if (succeeded > 0) return 'partially_delivered';
  return deliveries.every((d) => d.status === 'cancelled') ? 'cancelled' : 'failed';
}

/**
 * The status of a notification with a plan. A recipient is fully reached when every primary delivery
 * succeeded or a later step (fallback, escalation) reached them instead; recipients who opted out of
 * everything do not count. The strategy decides when to fall back, not how the outcome is reported.
 */
export function plannedStatus(deliveries: readonly Delivery[]): NotificationStatus {
  if (deliveries.some((d) => !isSettled(d))) return 'sending';
  const byRecipient = new Map<string, Delivery[]>();
  for (const d of deliveries) byRecipient.set(d.recipientId, [...(byRecipient.get(d.recipientId) ?? []), d]);
  const counted = [...byRecipient.values()].filter((list) => list.some((d) => d.status !== 'suppressed'));
  if (counted.length === 0) return deliveries.length > 0 ? 'suppressed' : 'delivered';
  if (counted.every((list) => recipientReached(list, 'sent', 'all'))) return 'delivered';
  if (counted.some((list) => recipientReached(list, 'sent', 'any'))) return 'partially_delivered';
  return counted.every((list) => list.every((d) => d.status === 'cancelled' || d.status === 'suppressed'))
    ? 'cancelled'
    : 'failed';
}

/** Receipt statuses providers report, mapped to what they mean for a delivery. */
export const RECEIPT_STATUSES = [
  'sent',
  'delivered',
  'opened',
  'clicked',
  'failed',
  'bounced',
  'undelivered',
  'rejected',
] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

export interface Receipt {
  providerMessageId: string;
  status: ReceiptStatus;
  error?: string;
}

/** What a receipt makes of its delivery: confirmed, engaged with, or failed with the provider's reason. */
export function receiptOutcome(receipt: Receipt): { status: DeliveryStatus; error?: string } {
  switch (receipt.status) {
    case 'sent':
    case 'delivered':
    case 'opened':
    case 'clicked':
      return { status: receipt.status, error: undefined };
    default:
      return { status: 'failed', error: receipt.error ?? receipt.status };
  }
}

/**
 * How far along a delivery is. A receipt moves a delivery only forward, so duplicates and receipts
 * that arrive out of order (a late `sent` after `delivered`) change nothing.
 */
const PROGRESS: Record<DeliveryStatus, number> = {
  pending: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  failed: 3,
  cancelled: 3,
  suppressed: 3,
  opened: 4,
  clicked: 5,
};

/** The delivery's new state under a receipt, or undefined when the receipt changes nothing. */
export function advanceByReceipt(
  current: Pick<Delivery, 'status'>,
  receipt: Receipt,
): { status: DeliveryStatus; error?: string } | undefined {
  const outcome = receiptOutcome(receipt);
  return PROGRESS[outcome.status] > PROGRESS[current.status] ? outcome : undefined;
}
