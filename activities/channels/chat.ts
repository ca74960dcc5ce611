import type { Contact } from '../../domain/notification';
import { single, type ChannelPlugin } from './channel';

/** Telegram, Slack and Discord read the same message: a title, the text and the actions as buttons or links. */
function chatChannel(
  channel: 'telegram' | 'slack' | 'discord',
  address: (contact: Contact) => string | undefined,
  missingAddress: string,
): ChannelPlugin {
  return {
    channel,
    addressesOf: (contact) => single(address(contact)),
    missingAddress,
    render: (message) => ({ subject: message.subject, text: message.text, actions: message.actions }),
  };
}

export const telegramChannel = chatChannel('telegram', (c) => c.telegramChatId, 'recipient has no Telegram chat id');
export const slackChannel = chatChannel('slack', (c) => c.slackWebhookUrl, 'recipient has no Slack webhook URL');
export const discordChannel = chatChannel(
  'discord',
  (c) => c.discordWebhookUrl,
  'recipient has no Discord webhook URL',
);
