/** What Herald's inbox routes and live stream speak: the shapes of GET /recipients/:id/inbox and its kin. */

export type InboxView = 'feed' | 'unread' | 'unseen' | 'archived' | 'snoozed' | 'all';

/** A state change: `POST /recipients/:id/inbox/<change>`. */
export type InboxChange = 'seen' | 'read' | 'interacted' | 'unread' | 'archive' | 'unarchive' | 'snooze';

export interface MessageAction {
  label: string;
  url: string;
}

/** A grouped list's entry for a group: its key, and its messages (and unread ones) in the list's view. */
export interface InboxGroup {
  key: string;
  count: number;
  unread: number;
}

export interface InboxMessage {
  id: number;
  notification_id: string;
  category?: string;
  /** The `group_key` it was sent with; null (or absent, from an older server) when none. */
  group_key?: string | null;
  /** In a grouped list, on a group's newest message: the whole group. */
  group?: InboxGroup;
  subject?: string;
  text: string;
  html?: string;
  actions?: MessageAction[] | null;
  created_at: string;
  seen_at: string | null;
  read_at: string | null;
  interacted_at: string | null;
  archived_at: string | null;
  snoozed_until: string | null;
}

/** The feed's counts (neither archived nor snoozed), always as the server counted them. */
export interface InboxCounts {
  unread: number;
  unseen: number;
  total: number;
}

export interface InboxFeed {
  name: string;
  /** Every category when absent. */
  categories?: string[];
}

export interface InboxPage {
  messages: InboxMessage[];
  /** Pass as `after` for the next page; absent on the last. */
  next?: string;
}

/** Which messages a list shows. */
export interface ListFilter {
  view?: InboxView;
  /** One of the tenant's feeds (`GET /settings/inbox`). */
  feed?: string;
  category?: string;
}

export interface ListQuery extends ListFilter {
  /** 1 to 200. */
  limit?: number;
  after?: string;
  /** Each group one entry, its newest message with `group`. */
  grouped?: boolean;
  /** One group's messages. */
  group_key?: string;
}

/** The messages a change applies to: these ids, or all of the feed's (narrowed by a category, a feed or a group). */
export type ChangeTarget = { ids: number[] } | { all: true; category?: string; feed?: string; group_key?: string };

/** What a change answers. */
export interface ChangeResult {
  changed: number;
  counts: InboxCounts;
}

/** The `data` of a stream event; `counts` is in every one. */
export interface StreamData {
  counts?: InboxCounts;
  messages?: InboxMessage[];
  ids?: number[];
}

export type StreamEventKind = 'counts' | 'added' | 'changed' | 'deleted' | 'reset';
