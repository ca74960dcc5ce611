import type { Channel } from './channels';
import type { Contact } from './notification';

const single = (address: string | undefined): string[] => (address ? [address] : []);

/**
 * Where each channel reaches a contact, best first (a recipient with several devices has several push
 * tokens, the newest last given), the recipient field the API names it by, and why a contact without
 * one cannot be reached. `in_app` and `webhook` need only the recipient's id (the webhook goes to the
 * tenant's endpoint).
 */
const ADDRESSES: Record<Channel, { field?: string; of: (contact: Contact) => string[]; missing: string }> = {
  email: { field: 'email', of: (c) => single(c.email), missing: 'recipient has no email address' },
  sms: { field: 'phone', of: (c) => single(c.phone), missing: 'recipient has no phone number' },
  voice: { field: 'phone', of: (c) => single(c.phone), missing: 'recipient has no phone number' },
  push: {
    field: 'push_tokens',
    of: (c) => [...(c.pushTokens ?? [])].reverse(),
    missing: 'recipient has no push token',
  },
  telegram: {
    field: 'telegram_chat_id',
    of: (c) => single(c.telegramChatId),
    missing: 'recipient has no Telegram chat id',
  },
  slack: {
    field: 'slack_webhook_url',
    of: (c) => single(c.slackWebhookUrl),
    missing: 'recipient has no Slack webhook URL',
  },
  discord: {
    field: 'discord_webhook_url',
    of: (c) => single(c.discordWebhookUrl),
    missing: 'recipient has no Discord webhook URL',
  },
  in_app: { of: (c) => single(c.id), missing: 'recipient has no id' },
  webhook: { of: (c) => single(c.id), missing: 'recipient has no id' },
};

/** Where the contact is reached on the channel, best first; empty when it cannot be. */
export function addressesOn(contact: Contact, channel: Channel): string[] {
  return ADDRESSES[channel].of(contact);
}

/** Why a contact cannot be reached on the channel, for the delivery's error. */
export function missingAddressOn(channel: Channel): string {
  return ADDRESSES[channel].missing;
}

export function reachableOn(contact: Contact, channel: Channel): boolean {
  return addressesOn(contact, channel).length > 0;
}

/** The recipient fields that would make a contact reachable on one of these channels, each named once. */
export function addressFieldsFor(channels: readonly Channel[]): string[] {
  return [...new Set(channels.flatMap((c) => ADDRESSES[c].field ?? []))];
}
