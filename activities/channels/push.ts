import type { ChannelPlugin } from './channel';

export const pushChannel: ChannelPlugin = {
  channel: 'push',
  render: (message) => ({ subject: message.subject, text: message.text, actions: message.actions }),
};
