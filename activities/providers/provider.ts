import type { Channel } from '../../domain/channels';
import type { DeliveryDetails, MessageAction } from '../../domain/notification';

/** One message to one address, as a channel plugin built it for a provider. */
export interface OutboundMessage {
  tenantId: string;
  notificationId: string;
  recipientId: string;
  channel: Channel;
  to: string;
  subject?: string;
  text: string;
  html?: string;
  actions?: MessageAction[];
  category?: string;
  /** One-click unsubscribe (RFC 8058): email carries it as `List-Unsubscribe` headers. */
  unsubscribeUrl?: string;
  /** Stable across retries of the same delivery, so providers that dedupe can. */
  deliveryKey: string;
  /** What the channel measured of the message (SMS segments), kept with the delivery. */
  details?: DeliveryDetails;
  /** From a template: a push message's data, a webhook's payload, Slack's blocks. */
  data?: Record<string, string>;
  payload?: unknown;
  blocks?: unknown[];
  /** The notification's `group_key`, which the in-app inbox stores; other providers ignore it. */
  groupKey?: string;
}

export interface SendResult {
  providerMessageId: string;
  /** `delivered` when the provider confirms on the spot, `sent` when a receipt will tell. */
  status: 'sent' | 'delivered';
}

export interface Provider {
  readonly name: string;
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult>;
  close?(): Promise<void>;
}

/** A failure that no retry and no other provider can heal: a bad address, an unsubscribed recipient. */
export class PermanentProviderError extends Error {
  override readonly name: string = 'PermanentProviderError';
}

/** The address itself is dead (an unregistered push token): the channel drops it and tries the next one. */
export class InvalidAddressError extends PermanentProviderError {
  override readonly name = 'InvalidAddressError';
}

/**
 * The provider refused Herald rather than the message (bad credentials, a suspended account): retrying
 * it cannot help, another provider may.
 */
export class ProviderRefusedError extends Error {
  override readonly name = 'ProviderRefusedError';
}

/** A failure that may heal: a 5xx, a timeout, a rate limit that says when to come back. */
export class TransientProviderError extends Error {
  override readonly name: string = 'TransientProviderError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The provider's circuit is open after repeated failures: it is skipped until a trial send succeeds. */
export class CircuitOpenError extends TransientProviderError {
  override readonly name = 'CircuitOpenError';
}

/** Headers every email carries: its notification, and one-click unsubscribe when it may be refused. */
export function emailHeaders(message: OutboundMessage): Record<string, string> {
  return {
    'X-Herald-Notification-Id': message.notificationId,
    ...(message.unsubscribeUrl
      ? { 'List-Unsubscribe': `<${message.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
      : {}),
  };
}
