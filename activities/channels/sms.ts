import type { ChannelPlugin } from './channel';

export const smsChannel: ChannelPlugin = {
  channel: 'sms',
  addressOf: (contact) => contact.phone,
  missingAddress: 'recipient has no phone number',
  render: (message) => ({ text: message.subject ? `${message.subject}: ${message.text}` : message.text }),
};
