import type { Channel } from '../../domain/channels';
import type { ChannelPlugin } from './channel';
import { emailChannel } from './email';
import { pushChannel } from './push';
import { smsChannel } from './sms';

export const channelPlugins: Record<Channel, ChannelPlugin> = {
  email: emailChannel,
  sms: smsChannel,
  push: pushChannel,
};
