import type { Channel } from './channels';

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const NOTIFICATION_STATUSES = [
  'accepted',
  'scheduled',
  'sending',
  'delivered',
  'partially_delivered',
  'failed',
  'cancelled',
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
}

export interface DeliveryDetails {
  segments?: number;
  encoding?: 'GSM-7' | 'UCS-2';
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
}

const SETTLED: ReadonlySet<DeliveryStatus> = new Set(['sent', 'delivered', 'opened', 'clicked', 'failed', 'cancelled']);
const SUCCEEDED: ReadonlySet<DeliveryStatus> = new Set(['sent', 'delivered', 'opened', 'clicked']);

export function isSettled(delivery: Pick<Delivery, 'status'>): boolean {
  return SETTLED.has(delivery.status);
}

/** The notification's status as its deliveries imply it once none is pending. */
export function overallStatus(deliveries: readonly Pick<Delivery, 'status'>[]): NotificationStatus {
  if (deliveries.some((d) => !isSettled(d))) return 'sending';
  const succeeded = deliveries.filter((d) => SUCCEEDED.has(d.status)).length;
  if (succeeded === deliveries.length) return 'delivered';
  if (succeeded > 0) return 'partially_delivered';
  return deliveries.every((d) => d.status === 'cancelled') ? 'cancelled' : 'failed';
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
