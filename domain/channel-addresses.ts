import type { Channel } from './channels';
import type { Contact } from './notification';

/**
 * The recipient field each channel reaches a contact by, as the API names it; `in_app` and `webhook`
 * need only the recipient's id (the webhook goes to the tenant's endpoint).
 */
const ADDRESS_FIELDS: Record<Channel, { field?: string; has: (contact: Contact) => boolean }> = {
  email: { field: 'email', has: (c) => Boolean(c.email) },
  sms: { field: 'phone', has: (c) => Boolean(c.phone) },
  voice: { field: 'phone', has: (c) => Boolean(c.phone) },
  push: { field: 'push_tokens', has: (c) => (c.pushTokens?.length ?? 0) > 0 },
  telegram: { field: 'telegram_chat_id', has: (c) => Boolean(c.telegramChatId) },
  slack: { field: 'slack_webhook_url', has: (c) => Boolean(c.slackWebhookUrl) },
  discord: { field: 'discord_webhook_url', has: (c) => Boolean(c.discordWebhookUrl) },
  in_app: { has: () => true },
  webhook: { has: () => true },
};

export function reachableOn(contact: Contact, channel: Channel): boolean {
  return ADDRESS_FIELDS[channel].has(contact);
}

/** The recipient fields that would make a contact reachable on one of these channels, each named once. */
export function addressFieldsFor(channels: readonly Channel[]): string[] {
  return [...new Set(channels.flatMap((c) => ADDRESS_FIELDS[c].field ?? []))];
}
