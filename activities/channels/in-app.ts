import type { ChannelPlugin } from './channel';

export const inAppChannel: ChannelPlugin = {
  channel: 'in_app',
  addressesOf: (contact) => [contact.id],
  missingAddress: 'recipient has no id',
  render: (message) => ({ ...message }),
};
