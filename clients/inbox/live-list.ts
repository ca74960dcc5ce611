import {
  afterChange,
  fitsView,
  inCategories,
  newestFirst,
  takenByAll,
  type CategoryFilter,
  type LocalTarget,
} from './message-state';
import type { InboxChange, InboxMessage, InboxPage, InboxView } from './types';

/** What a list shows: a view of some categories (a feed's resolved to its categories). */
export interface ListScope extends CategoryFilter {
  view: InboxView;
}

/**
 * One list of an inbox as a tab keeps it, from pages, stream events and other tabs' changes.
 *
 * Each of those arrives with a stamp: when it was known true, on the machine's clock, which every tab of
 * the browser shares (a page or change: when it was asked for; a stream event: when it came). What is
 * known of a message is replaced only by something stamped as late or later, so an answer overtaken on
 * the way, by the stream or by another tab, changes nothing. A deleted message keeps its stamp too, so a
 * page read before the delete cannot bring it back.
 */
export class LiveList {
  private known = new Map<number, { message?: InboxMessage; stamp: number }>();
  /** The last message loaded while more pages remain: an older one belongs to a later page, not here yet. */
  private floor?: InboxMessage;
  next?: string;

  constructor(readonly scope: ListScope) {}

  /** Starts over from a first page, keeping only what was heard after it was asked for. */
  firstPage(page: InboxPage, stamp: number): void {
    this.known = new Map([...this.known].filter(([, entry]) => entry.stamp > stamp));
    this.nextPage(page, stamp);
  }

  nextPage(page: InboxPage, stamp: number): void {
    this.put(page.messages, stamp);
    this.next = page.next;
    this.floor = page.next ? page.messages.at(-1) : undefined;
  }

  /** Messages as they are now (stream events carry their current state). */
  put(messages: InboxMessage[], stamp: number): void {
    for (const message of messages) this.set(message.id, message, stamp);
  }

  delete(ids: number[], stamp: number): void {
    for (const id of ids) this.set(id, undefined, stamp);
  }

  /** A change this tab or another made, applied to what this list knows. */
  change(change: InboxChange, target: LocalTarget, stamp: number, until?: string): void {
    const at = new Date(stamp).toISOString();
    const now = Date.now();
    for (const [id, { message }] of this.known) {
      if (!message) continue;
      const taken = 'ids' in target ? target.ids.includes(id) : takenByAll(message, change, target, now);
      if (taken) this.set(id, afterChange(message, change, at, until), stamp);
    }
  }

  /** What the list shows, newest first. */
  messages(now = Date.now()): InboxMessage[] {
    const shown: InboxMessage[] = [];
    for (const { message } of this.known.values())
      if (
        message &&
        fitsView(message, this.scope.view, now) &&
        inCategories(message, this.scope) &&
        (!this.floor || newestFirst(message, this.floor) <= 0)
      )
        shown.push(message);
    return shown.sort(newestFirst);
  }

  private set(id: number, message: InboxMessage | undefined, stamp: number): void {
    const entry = this.known.get(id);
    if (!entry || entry.stamp <= stamp) this.known.set(id, { message, stamp });
  }
}
