import type { ChannelPlugin } from './channel';

export const pushChannel: ChannelPlugin = {
  channel: 'push',
  // The newest token is the device the recipient used last.
  addressOf: (contact) => contact.pushTokens?.at(-1),
  missingAddress: 'recipient has no push token',
  render: (message) => ({ subject: message.subject, text: message.text }),
};
