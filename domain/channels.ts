/** Channels Herald delivers on. Each has a plugin in activities/channels/. */
export const CHANNELS = ['email', 'sms', 'push', 'telegram', 'slack', 'discord', 'voice', 'webhook', 'in_app'] as const;
export type Channel = (typeof CHANNELS)[number];

export function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}
