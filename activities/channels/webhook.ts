import type { ChannelPlugin } from './channel';

export const webhookChannel: ChannelPlugin = {
  channel: 'webhook',
  // The tenant's endpoint receives it; the recipient is named in the payload.
  render: (message) => ({ ...message }),
};
