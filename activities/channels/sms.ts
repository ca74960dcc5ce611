import { smsSegments } from '../../domain/sms-segments';
import { withActionLinks, type ChannelPlugin } from './channel';

export const smsChannel: ChannelPlugin = {
  channel: 'sms',
  render: (message) => {
    const text = withActionLinks(
      message.subject ? `${message.subject}: ${message.text}` : message.text,
      message.actions,
    );
    return { text, details: smsSegments(text) };
  },
};
