import type { Database } from '../../db/connect';
import type { ProvidersByChannel } from '../deliver';
import { DevOutboxProvider } from './dev-outbox';
import { SmtpEmailProvider } from './smtp';
import { CircuitBreakingProvider, type CircuitSettings } from './circuit-breaker';
import { PermanentProviderError, type Provider, type SendResult } from './provider';
import type { Channel } from '../../domain/channels';

export interface ProviderSettings {
  smtpUrl?: string;
  emailFrom: string;
  /** Where unconfigured channels deliver: the dev outbox (embedded mode), or nowhere (a permanent failure). */
  devOutbox?: boolean;
  circuit?: CircuitSettings;
}

/** A configured provider serves its channel; the others use the dev outbox or fail, as settings say. */
export function buildProviders(db: Database, settings: ProviderSettings): ProvidersByChannel {
  const fallback = (channel: Channel): Provider =>
    settings.devOutbox === false ? new UnconfiguredProvider(channel) : new DevOutboxProvider(db);
  return {
    email: settings.smtpUrl
      ? new CircuitBreakingProvider(new SmtpEmailProvider(settings.smtpUrl, settings.emailFrom), settings.circuit)
      : fallback('email'),
    sms: fallback('sms'),
    push: fallback('push'),
  };
}

/** Stands in for a channel nobody configured, so its deliveries fail with a reason an operator can act on. */
class UnconfiguredProvider implements Provider {
  readonly name = 'unconfigured';
  constructor(private readonly channel: Channel) {}
  async send(): Promise<SendResult> {
    throw new PermanentProviderError(`no provider is configured for the ${this.channel} channel`);
  }
}

export async function closeProviders(providers: ProvidersByChannel): Promise<void> {
  await Promise.all([...new Set(Object.values(providers))].map((p) => p.close?.()));
}
