import type { Channel } from '../../domain/channels';

/** One message to one address, as a channel plugin built it for a provider. */
export interface OutboundMessage {
  tenantId: string;
  notificationId: string;
  channel: Channel;
  to: string;
  subject?: string;
  text: string;
  html?: string;
  category?: string;
  /** Stable across retries of the same delivery, so providers that dedupe can. */
  deliveryKey: string;
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

/** A failure that retrying cannot heal: a bad address, a permanent rejection. */
export class PermanentProviderError extends Error {
  override readonly name = 'PermanentProviderError';
}
