import {
  afterChange,
  fitsView,
  inCategories,
  inGroup,
  newestFirst,
  takenByAll,
  type LocalTarget,
  type MessageFilter,
} from './message-state';
import type { InboxChange, InboxGroup, InboxMessage, InboxPage, InboxView } from './types';

/** What a list shows: a view of some categories (a feed's resolved to its categories), or of one group. */
export interface ListScope extends MessageFilter {
  view: InboxView;
  /** Each group one entry: its newest message, with the group's count. */
  grouped?: boolean;
}

/** A group's count and unread count, as the server last gave them and as changes since have moved them. */
interface Tally {
  count: number;
  unread: number;
  stamp: number;
}

/**
 * One list of an inbox as a tab keeps it, from pages, stream events and other tabs' changes.
 *
 * Each of those arrives with a stamp: when it was known true, on the machine's clock, which every tab of
 * the browser shares (a page or change: when it was asked for; a stream event: when it came). What is
 * known of a message is replaced only by something stamped as late or later, so an answer overtaken on
 * the way, by the stream or by another tab, changes nothing. A deleted message keeps its stamp too, so a
 * page read before the delete cannot bring it back.
 *
 * A grouped list shows a group at its newest message. Its count comes from the server's pages, and moves
 * with what this list sees happen to messages it knows: a message added to the group, one it knows read,
 * archived or deleted. A change to a message of the group it never loaded waits for the next page.
 */
export class LiveList {
  private known = new Map<number, { message?: InboxMessage; stamp: number }>();
  private tallies = new Map<string, Tally>();
  /** The last message loaded while more pages remain: an older one belongs to a later page, not here yet. */
  private floor?: InboxMessage;
  next?: string;

  constructor(readonly scope: ListScope) {}

  /** Starts over from a first page, keeping only what was heard after it was asked for. */
  firstPage(page: InboxPage, stamp: number): void {
    this.known = new Map([...this.known].filter(([, entry]) => entry.stamp > stamp));
    this.tallies = new Map([...this.tallies].filter(([, tally]) => tally.stamp > stamp));
    this.nextPage(page, stamp);
  }

  nextPage(page: InboxPage, stamp: number): void {
    this.put(page.messages, stamp);
    this.next = page.next;
    this.floor = page.next ? page.messages.at(-1) : undefined;
  }

  /**
   * Messages as they are now (stream events carry their current state). `added`: new to the inbox, so a
   * group this list counts has one more.
   */
  put(messages: InboxMessage[], stamp: number, added = false): void {
    for (const message of messages) {
      if (message.group) this.setTally(message.group, stamp);
      const before = this.known.get(message.id);
      // A message never seen before that is not new was counted by the server, in a state unknown here.
      const counted = before !== undefined || added;
      if (this.set(message.id, message, stamp) && counted && !message.group)
        this.recount(before?.message, message, stamp);
    }
  }

  delete(ids: number[], stamp: number): void {
    for (const id of ids) {
      const before = this.known.get(id)?.message;
      if (this.set(id, undefined, stamp)) this.recount(before, undefined, stamp);
    }
  }

  /** A change this tab or another made, applied to what this list knows. */
  change(change: InboxChange, target: LocalTarget, stamp: number, until?: string): void {
    const at = new Date(stamp).toISOString();
    const now = Date.now();
    const groupsTaken = new Set<string>();
    for (const [id, { message }] of this.known) {
      if (!message) continue;
      const taken = 'ids' in target ? target.ids.includes(id) : takenByAll(message, change, target, now);
      if (!taken) continue;
      const after = afterChange(message, change, at, until);
      if (this.set(id, after, stamp)) this.recount(message, after, stamp);
      if (!('ids' in target) && message.group_key) groupsTaken.add(message.group_key);
    }
    // `all` took the group's messages this list never loaded as well.
    for (const key of groupsTaken) this.settle(key, change, stamp);
  }

  /** Groups of these messages this list has no count for: it cannot show how many they hold. */
  uncounted(messages: InboxMessage[]): string[] {
    if (!this.scope.grouped) return [];
    return [...new Set(messages.flatMap((m) => (m.group_key ? [m.group_key] : [])))].filter(
      (key) => !this.tallies.has(key),
    );
  }

  /** What the list shows, newest first; in a grouped list, each group once with its count. */
  messages(now = Date.now()): InboxMessage[] {
    const shown: InboxMessage[] = [];
    for (const { message } of this.known.values())
      if (message && this.fits(message, now) && (!this.floor || newestFirst(message, this.floor) <= 0))
        shown.push(message);
    shown.sort(newestFirst);
    return this.scope.grouped ? this.folded(shown) : shown;
  }

  private fits(message: InboxMessage, now: number): boolean {
    return (
      fitsView(message, this.scope.view, now) &&
      inCategories(message, this.scope) &&
      inGroup(message, this.scope.groupKey)
    );
  }

  /** Each group at its newest message, with its count; other messages as they are. */
  private folded(shown: InboxMessage[]): InboxMessage[] {
    const placed = new Set<string>();
    const entries: InboxMessage[] = [];
    for (const message of shown) {
      const key = message.group_key;
      if (!key) {
        entries.push(message);
        continue;
      }
      if (placed.has(key)) continue;
      placed.add(key);
      const tally = this.tallies.get(key);
      const group: InboxGroup = tally
        ? { key, count: Math.max(1, tally.count), unread: Math.max(0, Math.min(tally.count, tally.unread)) }
        : { key, count: 1, unread: message.read_at === null ? 1 : 0 };
      entries.push({ ...message, group });
    }
    return entries;
  }

  private setTally(group: InboxGroup, stamp: number): void {
    const tally = this.tallies.get(group.key);
    if (!tally || tally.stamp <= stamp) this.tallies.set(group.key, { ...group, stamp });
  }

  /** Moves a group's count by what one message's change did to it in this list's view. */
  private recount(before: InboxMessage | undefined, after: InboxMessage | undefined, stamp: number): void {
    const key = after?.group_key ?? before?.group_key;
    const tally = key ? this.tallies.get(key) : undefined;
    if (!tally) return;
    const now = Date.now();
    const share = (m: InboxMessage | undefined) =>
      m && this.fits(m, now) ? { count: 1, unread: m.read_at === null ? 1 : 0 } : { count: 0, unread: 0 };
    const [was, is] = [share(before), share(after)];
    tally.count += is.count - was.count;
    tally.unread += is.unread - was.unread;
    tally.stamp = Math.max(tally.stamp, stamp);
  }

  /** After a change of `all` took a group: its unread count as the change left all of its messages. */
  private settle(key: string, change: InboxChange, stamp: number): void {
    const tally = this.tallies.get(key);
    if (!tally) return;
    if (change === 'read' || change === 'interacted') tally.unread = 0;
    if (change === 'unread') tally.unread = tally.count;
    tally.stamp = Math.max(tally.stamp, stamp);
  }

  /** Whether the message was stored: false when what is known of it is stamped later. */
  private set(id: number, message: InboxMessage | undefined, stamp: number): boolean {
    const entry = this.known.get(id);
    if (entry && entry.stamp > stamp) return false;
    this.known.set(id, { message, stamp });
    return true;
  }
}
