import type { ChannelPlugin } from './channel';

export const pushChannel: ChannelPlugin = {
  channel: 'push',
  // The newest token is the device the recipient used last; older ones are tried if it is gone.
  addressesOf: (contact) => [...(contact.pushTokens ?? [])].reverse(),
  missingAddress: 'recipient has no push token',
  render: (message) => ({ subject: message.subject, text: message.text, actions: message.actions }),
};
