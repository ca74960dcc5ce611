import type { Database } from '../../db/connect';
import type { ProvidersByChannel } from '../deliver';
import { DevOutboxProvider } from './dev-outbox';
import { SmtpEmailProvider } from './smtp';

export interface ProviderSettings {
  smtpUrl?: string;
  emailFrom: string;
}

/** A configured provider serves its channel; every other channel delivers into the dev outbox. */
export function buildProviders(db: Database, settings: ProviderSettings): ProvidersByChannel {
  const outbox = new DevOutboxProvider(db);
  return {
    email: settings.smtpUrl ? new SmtpEmailProvider(settings.smtpUrl, settings.emailFrom) : outbox,
    sms: outbox,
    push: outbox,
  };
}

export async function closeProviders(providers: ProvidersByChannel): Promise<void> {
  await Promise.all([...new Set(Object.values(providers))].map((p) => p.close?.()));
}
