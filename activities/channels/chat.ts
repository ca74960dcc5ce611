import type { ChannelPlugin } from './channel';

/** Telegram, Slack and Discord read the same message: a title, the text and the actions as buttons or links. */
function chatChannel(channel: 'telegram' | 'slack' | 'discord'): ChannelPlugin {
  return {
    channel,
    render: (message) => ({ subject: message.subject, text: message.text, actions: message.actions }),
  };
}

export const telegramChannel = chatChannel('telegram');
export const slackChannel = chatChannel('slack');
export const discordChannel = chatChannel('discord');
