/** Channels Herald delivers on. Each has a plugin in activities/channels/. */
export const CHANNELS = ['email', 'sms', 'push', 'telegram', 'slack', 'discord', 'voice', 'webhook', 'in_app'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The longest text each channel's providers take, in characters: Twilio refuses an SMS body over 1,600
 * and says a call's words over 4,096, Telegram takes 4,096, Discord 2,000, Slack 40,000, FCM's whole
 * payload 4 KiB. A longer message is refused when it is accepted rather than failing at the provider.
 */
export const TEXT_LIMITS: Partial<Record<Channel, number>> = {
  sms: 1600,
  voice: 4096,
  telegram: 4096,
  discord: 2000,
  slack: 40_000,
  push: 3500,
};

export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}
