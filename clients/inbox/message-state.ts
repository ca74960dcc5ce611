import type { InboxChange, InboxMessage, InboxView } from './types';

/** Which categories a list or a change takes: one, those of a feed, or every one when neither is set. */
export interface CategoryFilter {
  category?: string;
  categories?: string[];
}

/** Categories, and one group's messages when `groupKey` is set. */
export interface MessageFilter extends CategoryFilter {
  groupKey?: string;
}

/** A change's messages as a tab applies it: ids, or all of the feed's with the feed's categories resolved. */
export type LocalTarget = { ids: number[] } | ({ all: true } & MessageFilter);

const inFeed = (m: InboxMessage, now: number) =>
  m.archived_at === null && (m.snoozed_until === null || Date.parse(m.snoozed_until) <= now);

/** Whether the message belongs in a view, as the server's list judges it. */
export function fitsView(m: InboxMessage, view: InboxView, now: number): boolean {
  switch (view) {
    case 'feed':
      return inFeed(m, now);
    case 'unread':
      return inFeed(m, now) && m.read_at === null;
    case 'unseen':
      return inFeed(m, now) && m.seen_at === null;
    case 'archived':
      return m.archived_at !== null;
    case 'snoozed':
      return m.archived_at === null && m.snoozed_until !== null && Date.parse(m.snoozed_until) > now;
    case 'all':
      return true;
  }
}

export function inCategories(m: InboxMessage, { category, categories }: CategoryFilter): boolean {
  return (
    (category === undefined || m.category === category) &&
    (categories === undefined || (m.category !== undefined && categories.includes(m.category)))
  );
}

export function inGroup(m: InboxMessage, groupKey: string | undefined): boolean {
  return groupKey === undefined || m.group_key === groupKey;
}

/** Whether a change of `all` takes the message: the feed's (the archive's, to unarchive), of its categories and group. */
export function takenByAll(m: InboxMessage, change: InboxChange, filter: MessageFilter, now: number): boolean {
  return (change === 'unarchive' || inFeed(m, now)) && inCategories(m, filter) && inGroup(m, filter.groupKey);
}

/** The message after a change made at `at`; a state set again keeps its first time, as the server keeps it. */
export function afterChange(m: InboxMessage, change: InboxChange, at: string, until?: string): InboxMessage {
  switch (change) {
    case 'seen':
      return { ...m, seen_at: m.seen_at ?? at };
    case 'read':
      return { ...m, read_at: m.read_at ?? at, seen_at: m.seen_at ?? at };
    case 'interacted':
      return { ...m, interacted_at: m.interacted_at ?? at, read_at: m.read_at ?? at, seen_at: m.seen_at ?? at };
    case 'unread':
      return { ...m, read_at: null };
    case 'archive':
      return { ...m, archived_at: m.archived_at ?? at };
    case 'unarchive':
      return { ...m, archived_at: null };
    case 'snooze':
      return m.archived_at === null && until !== undefined ? { ...m, snoozed_until: until } : m;
  }
}

/** Newest first, as the server orders a list: by creation time, then id. */
export function newestFirst(a: InboxMessage, b: InboxMessage): number {
  return Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id;
}
