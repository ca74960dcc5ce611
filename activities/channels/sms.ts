import { smsSegments } from '../../domain/sms-segments';
import { single, withActionLinks, type ChannelPlugin } from './channel';

export const smsChannel: ChannelPlugin = {
  channel: 'sms',
  addressesOf: (contact) => single(contact.phone),
  missingAddress: 'recipient has no phone number',
  render: (message) => {
    const text = withActionLinks(
      message.subject ? `${message.subject}: ${message.text}` : message.text,
      message.actions,
    );
    return { text, details: smsSegments(text) };
  },
};
