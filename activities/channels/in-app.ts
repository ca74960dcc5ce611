import type { ChannelPlugin } from './channel';

export const inAppChannel: ChannelPlugin = {
  channel: 'in_app',
  render: (message) => ({ ...message }),
};
