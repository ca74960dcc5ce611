import type { Database } from '../../db/connect';
import { CHANNELS, type Channel } from '../../domain/channels';
import { DISCORD_ORIGIN, DiscordWebhookProvider, SLACK_ORIGIN, SlackWebhookProvider } from './chat-webhooks';
import { CircuitBreakingProvider, type CircuitSettings } from './circuit-breaker';
import { DevOutboxProvider } from './dev-outbox';
import { FcmPushProvider, type FcmSettings } from './fcm';
import { InboxProvider } from './inbox';
import { PermanentProviderError, type Provider, type SendResult } from './provider';
import { SendGridEmailProvider } from './sendgrid';
import { SmtpEmailProvider } from './smtp';
import { StandardWebhookProvider } from './standard-webhook';
import { TelegramProvider, type TelegramSettings } from './telegram';
import { twilioClient, TwilioSmsProvider, TwilioVoiceProvider, type TwilioSettings } from './twilio';
import { VonageSmsProvider, type VonageSettings } from './vonage';

/** Every provider's credentials and base URL, from the environment; a provider without credentials is off. */
export interface ProviderSettings {
  smtpUrl?: string;
  emailFrom: string;
  sendgrid?: { apiKey: string; baseUrl: string };
  twilio?: TwilioSettings;
  vonage?: VonageSettings;
  fcm?: FcmSettings;
  telegram?: TelegramSettings;
  /** Stand-ins for hooks.slack.com and discord.com (a proxy, a fake); recipients keep the official URLs. */
  slackBaseUrl?: string;
  discordBaseUrl?: string;
  /** Failover order by provider name for channels with more than one, e.g. `{ sms: ['vonage', 'twilio'] }`. */
  order?: Partial<Record<Channel, string[]>>;
  /** Where unconfigured channels deliver: the dev outbox (embedded mode), or nowhere (a permanent failure). */
  devOutbox?: boolean;
  circuit?: CircuitSettings;
  /** Lets tenants' webhook URLs reach private, loopback and link-local addresses (services on a private network). */
  webhookAllowPrivate?: boolean;
}

/** Each channel's providers in failover order; never empty. */
export type ProvidersByChannel = Record<Channel, Provider[]>;

/** The providers each channel may use, by name, when their credentials are configured. */
function available(db: Database, s: ProviderSettings): Record<Channel, Provider[]> {
  const twilio = s.twilio ? twilioClient(s.twilio) : undefined;
  const external = (provider: Provider) => new CircuitBreakingProvider(provider, s.circuit);
  const present = <T>(value: T | undefined, make: (value: T) => Provider) => (value ? [external(make(value))] : []);
  return {
    email: [
      ...present(s.smtpUrl, (url) => new SmtpEmailProvider(url, s.emailFrom)),
      ...present(s.sendgrid, (sg) => new SendGridEmailProvider({ ...sg, from: s.emailFrom })),
    ],
    sms: [
      ...present(s.twilio, (settings) => new TwilioSmsProvider(settings, twilio)),
      ...present(s.vonage, (settings) => new VonageSmsProvider(settings)),
    ],
    push: present(s.fcm, (settings) => new FcmPushProvider(settings)),
    telegram: present(s.telegram, (settings) => new TelegramProvider(settings)),
    // A chat webhook URL is its own credential: these work as soon as a recipient has one.
    slack: [external(new SlackWebhookProvider(s.slackBaseUrl))],
    discord: [external(new DiscordWebhookProvider(s.discordBaseUrl))],
    voice: present(s.twilio, (settings) => new TwilioVoiceProvider(settings, twilio)),
    webhook: [external(new StandardWebhookProvider(db, { allowPrivate: s.webhookAllowPrivate }))],
    in_app: [new InboxProvider(db)],
  };
}

export function buildProviders(db: Database, settings: ProviderSettings): ProvidersByChannel {
  const all = available(db, settings);
  const outbox = new DevOutboxProvider(db);
  const entries = CHANNELS.map((channel): [Channel, Provider[]] => {
    const ordered = inOrder(channel, all[channel], settings.order?.[channel]);
    if (ordered.length > 0) return [channel, ordered];
    return [channel, [settings.devOutbox === false ? new UnconfiguredProvider(channel) : outbox]];
  });
  return Object.fromEntries(entries) as ProvidersByChannel;
}

function inOrder(channel: Channel, providers: Provider[], order: string[] | undefined): Provider[] {
  if (!order) return providers;
  return order.map((name) => {
    const provider = providers.find((p) => p.name === name);
    if (!provider) throw new Error(`${channel} provider "${name}" is named in the order but not configured`);
    return provider;
  });
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
  await Promise.all([...new Set(Object.values(providers).flat())].map((p) => p.close?.()));
}

export { SLACK_ORIGIN, DISCORD_ORIGIN };
