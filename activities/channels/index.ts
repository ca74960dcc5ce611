import type { Channel } from '../../domain/channels';
import type { ChannelPlugin } from './channel';
import { discordChannel, slackChannel, telegramChannel } from './chat';
import { emailChannel } from './email';
import { inAppChannel } from './in-app';
import { pushChannel } from './push';
import { smsChannel } from './sms';
import { voiceChannel } from './voice';
import { webhookChannel } from './webhook';

export const channelPlugins: Record<Channel, ChannelPlugin> = {
  email: emailChannel,
  sms: smsChannel,
  push: pushChannel,
  telegram: telegramChannel,
  slack: slackChannel,
  discord: discordChannel,
  voice: voiceChannel,
  webhook: webhookChannel,
  in_app: inAppChannel,
};
