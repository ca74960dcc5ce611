import type { Channel } from './channels';

export interface ChannelSwitches {
  enabled?: boolean;
  channels?: Partial<Record<Channel, boolean>>;
}

/** What a recipient wants: everything on unless switched off, the most specific switch winning. */
export interface Preferences extends ChannelSwitches {
  categories?: Record<string, ChannelSwitches>;
  quietHours?: QuietHours;
}

/** A daily window, `22:00`–`07:00`, in the recipient's time zone (or the one given here). */
export interface QuietHours {
  start: string;
  end: string;
  timezone?: string;
}

/**
 * Whether the recipient takes this category on this channel. `enabled: false` at the top is "unsubscribe
 * from everything" and nothing below overrides it; otherwise category-channel beats category beats channel.
 */
export function channelAllowed(preferences: Preferences, category: string | undefined, channel: Channel): boolean {
  if (preferences.enabled === false) return false;
  const inCategory = category ? preferences.categories?.[category] : undefined;
  return inCategory?.channels?.[channel] ?? inCategory?.enabled ?? preferences.channels?.[channel] ?? true;
}

/** What one-click unsubscribe switches off: a category if the message had one, else everything. */
export function unsubscribed(preferences: Preferences, category: string | undefined): Preferences {
  if (!category) return { ...preferences, enabled: false };
  const categories = preferences.categories ?? {};
  return { ...preferences, categories: { ...categories, [category]: { ...categories[category], enabled: false } } };
}
