import { CHANNELS, type Channel } from './channels';
import { quietHoursEnd } from './local-time';
import { channelAllowed, type Preferences } from './preferences';

/** What a recipient's preferences say about one notification at one instant. */
export interface RecipientPlan {
  /** Channels the preferences switch off for this category. */
  blockedChannels: Channel[];
  /** When the quiet hours the instant falls in end; absent outside them. */
  quietUntil?: string;
}

export function recipientPlan(
  preferences: Preferences,
  category: string | undefined,
  timezone: string | undefined,
  at: Date,
): RecipientPlan {
  const blockedChannels = CHANNELS.filter((channel) => !channelAllowed(preferences, category, channel));
  const quiet = preferences.quietHours;
  const end = quiet && quietHoursEnd(at, quiet, quiet.timezone ?? timezone ?? 'UTC');
  return { blockedChannels, ...(end ? { quietUntil: end.toISOString() } : {}) };
}
