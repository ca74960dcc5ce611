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

/** `sent`: a provider took it; `delivered`: confirmed by the provider or a receipt. */
export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Contact {
  id: string;
  email?: string;
  phone?: string;
  pushTokens?: string[];
  locale?: string;
  timezone?: string;
}

export interface Message {
  subject?: string;
  text: string;
  html?: string;
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

const SETTLED: ReadonlySet<DeliveryStatus> = new Set(['sent', 'delivered', 'failed', 'cancelled']);

export function isSettled(delivery: Pick<Delivery, 'status'>): boolean {
  return SETTLED.has(delivery.status);
}

/** The notification's status as its deliveries imply it once none is pending. */
export function overallStatus(deliveries: readonly Pick<Delivery, 'status'>[]): NotificationStatus {
  if (deliveries.some((d) => !isSettled(d))) return 'sending';
  const succeeded = deliveries.filter((d) => d.status === 'sent' || d.status === 'delivered').length;
  if (succeeded === deliveries.length) return 'delivered';
  if (succeeded > 0) return 'partially_delivered';
  return deliveries.every((d) => d.status === 'cancelled') ? 'cancelled' : 'failed';
}

/** Receipt statuses providers report, mapped to what they mean for a delivery. */
export const RECEIPT_STATUSES = ['delivered', 'failed', 'bounced', 'undelivered', 'rejected'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

export interface Receipt {
  providerMessageId: string;
  status: ReceiptStatus;
  error?: string;
}

/** What a receipt makes of its delivery: confirmed, or failed with the provider's reason. */
export function receiptOutcome(receipt: Receipt): { status: DeliveryStatus; error?: string } {
  return receipt.status === 'delivered'
    ? { status: 'delivered', error: undefined }
    : { status: 'failed', error: receipt.error ?? receipt.status };
}
