/** Every word the widget shows or speaks, in English; set `strings` to replace any of them. `{count}` is filled in. */
export const ENGLISH = {
  bell: 'Notifications',
  title: 'Notifications',
  unreadBadge: '{count} unread',
  noneUnread: 'No unread notifications',
  /** Before an unread message's title, for screen readers. */
  unread: 'Unread:',
  feeds: 'Feeds',
  markAllRead: 'Mark all as read',
  markRead: 'Mark as read',
  markUnread: 'Mark as unread',
  archive: 'Archive',
  snooze: 'Snooze for an hour',
  loading: 'Loading…',
  empty: 'Nothing here yet',
  loadFailed: 'Notifications could not be loaded.',
  retry: 'Try again',
  changeFailed: 'That did not work. Try again in a moment.',
  /** A group's control, on its newest message: how many more it holds, and what the control does. */
  groupMore: '+{count} more',
  groupShow: 'Show {count} more like this',
  groupLess: 'Show less',
  /** The opened group's messages, for screen readers. */
  groupItems: '{count} notifications in this group',
  groupNextPage: 'Show more of this group',
};

/** A tab's label is `strings['feed:<name>']` when set, else the feed's name. */
export type InboxStrings = typeof ENGLISH & Record<`feed:${string}`, string>;

export function fill(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
