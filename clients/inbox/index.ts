import { inboxHttp, InboxError, type Connection } from './http';
import { LiveList, type ListScope } from './live-list';
import type { LocalTarget } from './message-state';
import { openStream, type EventSourceClass, type StreamListener } from './stream';
import { tabSync, type BroadcastChannelClass, type TabMessage } from './tab-sync';
import type {
  ChangeResult,
  ChangeTarget,
  InboxChange,
  InboxCounts,
  InboxFeed,
  InboxMessage,
  ListFilter,
} from './types';

export type * from './types';
export { InboxError, type TokenSource } from './http';
export { webSocketEventSource } from './stream';

export interface InboxOptions extends Connection {
  /** Messages per page of the kept list; 20 when absent. */
  pageSize?: number;
  /** Each group one entry in the kept list: its newest message, with `group` (its count); `expand` opens one. */
  grouped?: boolean;
  /** The browser's own when absent: given in tests, or where there is none. */
  EventSource?: EventSourceClass;
  BroadcastChannel?: BroadcastChannelClass;
}

export interface InboxState {
  /** The kept list, newest first. */
  messages: readonly InboxMessage[];
  /** As the server last counted them; absent until it has. */
  counts?: InboxCounts;
  filter: ListFilter;
  hasMore: boolean;
  loading: boolean;
  /** Why the last page could not be loaded. */
  error?: Error;
  /** The live stream is open. */
  live: boolean;
  /** The group opened with `expand`: its messages, newest first. */
  expanded?: ExpandedGroup;
}

export interface ExpandedGroup {
  key: string;
  messages: readonly InboxMessage[];
  hasMore: boolean;
  loading: boolean;
  error?: Error;
}

export type InboxListener = (state: InboxState) => void;
export type Inbox = ReturnType<typeof createInbox>;

/** How long the list waits for the stream before it loads without it. */
const STREAM_WAIT_MS = 2000;

/**
 * A recipient's inbox in the browser: its routes, and, while someone subscribes, one list kept in step
 * with the live stream and with this browser's other tabs. Counts are always the server's.
 */
export function createInbox(options: InboxOptions) {
  const http = inboxHttp(options);
  const pageSize = options.pageSize ?? 20;
  const globals = globalThis as unknown as { EventSource?: EventSourceClass; BroadcastChannel?: BroadcastChannelClass };
  const listeners = new Set<InboxListener>();
  let filter: ListFilter = { view: 'feed' };
  const grouped = options.grouped === true;
  let list = new LiveList({ view: 'feed', grouped });
  /** The group opened, kept in step like the list. */
  let group: { key: string; list: LiveList; loading: boolean; error?: Error } | undefined;
  let counts: InboxCounts | undefined;
  let countsStamp = -Infinity;
  let loading = false;
  let synced = false;
  let live = false;
  let error: Error | undefined;
  /** Bumped by every first page: an answer to an older one is dropped. */
  let generation = 0;
  let feeds: Promise<InboxFeed[]> | undefined;
  let stream: { close(): void } | undefined;
  let streamWait: ReturnType<typeof setTimeout> | undefined;
  let tabs: ReturnType<typeof tabSync> | undefined;
  let state = snapshot();

  function snapshot(): InboxState {
    return {
      messages: list.messages(),
      counts,
      filter,
      hasMore: list.next !== undefined,
      loading,
      error,
      live,
      ...(group ? { expanded: expandedOf(group) } : {}),
    };
  }

  function expandedOf({ key, list: kept, loading: busy, error: failed }: NonNullable<typeof group>): ExpandedGroup {
    return {
      key,
      messages: kept.messages(),
      hasMore: kept.next !== undefined,
      loading: busy,
      ...(failed ? { error: failed } : {}),
    };
  }

  /** Every list this tab keeps: the feed's, and the open group's. */
  function lists(): LiveList[] {
    return group ? [list, group.list] : [list];
  }

  function emit() {
    state = snapshot();
    for (const listener of listeners) listener(state);
  }

  function setCounts(value: InboxCounts | undefined, stamp: number) {
    if (!value || stamp < countsStamp) return;
    counts = value;
    countsStamp = stamp;
  }

  /** Asked for once; a failed answer is not kept. */
  function loadFeeds(): Promise<InboxFeed[]> {
    if (!feeds) {
      const asked = http.feeds();
      asked.catch(() => feeds === asked && (feeds = undefined));
      feeds = asked;
    }
    return feeds;
  }

  async function scopeOf({ view = 'feed', feed, category }: ListFilter): Promise<ListScope> {
    return { view, category, grouped, ...(feed === undefined ? {} : { categories: await categoriesOf(feed) }) };
  }

  async function categoriesOf(feed: string) {
    const found = (await loadFeeds()).find((f) => f.name === feed);
    if (!found) throw new InboxError(422, `This inbox has no feed "${feed}"`);
    return found.categories;
  }

  /** A page of the kept list: the first (anew), or the next. */
  async function load(first: boolean) {
    const started = first ? ++generation : generation;
    const current = () => started === generation;
    const stamp = Date.now();
    loading = true;
    emit();
    try {
      const [page, fresh] = await Promise.all([
        http.list({
          ...filter,
          limit: pageSize,
          ...(grouped ? { grouped } : {}),
          ...(first ? {} : { after: list.next }),
        }),
        // The stream counts on connecting; without it, ask.
        first && !live ? http.counts() : undefined,
      ]);
      if (!current()) return;
      if (first) list.firstPage(page, stamp);
      else list.nextPage(page, stamp);
      setCounts(fresh, stamp);
      synced = true;
      error = undefined;
    } catch (failure) {
      if (current()) error = failure as Error;
    } finally {
      if (current()) {
        loading = false;
        emit();
      }
    }
  }

  function receive(message: TabMessage) {
    for (const kept of lists())
      if (message.type === 'change') kept.change(message.change, message.target, message.stamp, message.until);
      else kept.delete(message.ids, message.stamp);
    if (message.type === 'change') setCounts(message.counts, message.stamp);
    emit();
  }

  /**
   * Counts groups a new message arrived in that the list has no count for (not loaded yet): they are at
   * the top now, so the first entries of a grouped first page are theirs.
   */
  async function countGroups(keys: string[]) {
    const stamp = Date.now();
    const kept = list;
    const page = await http
      .list({ ...filter, grouped: true, limit: Math.min(200, keys.length) })
      .catch(() => undefined);
    if (!page || kept !== list) return;
    kept.put(
      page.messages.filter((m) => m.group && keys.includes(m.group.key)),
      stamp,
    );
    emit();
  }

  /** A page of the open group's messages: the first, or the next. */
  async function loadGroup(first: boolean) {
    const opened = group;
    if (!opened) return;
    const stamp = Date.now();
    opened.loading = true;
    emit();
    try {
      const page = await http.list({
        ...filter,
        group_key: opened.key,
        limit: pageSize,
        ...(first ? {} : { after: opened.list.next }),
      });
      if (first) opened.list.firstPage(page, stamp);
      else opened.list.nextPage(page, stamp);
      opened.error = undefined;
    } catch (failure) {
      opened.error = failure as Error;
    } finally {
      opened.loading = false;
      if (group === opened) emit();
    }
  }

  function channel() {
    return (tabs ??= tabSync(
      `herald-inbox ${options.baseUrl} ${options.recipientId}`,
      options.BroadcastChannel ?? globals.BroadcastChannel,
      receive,
    ));
  }

  /** Applies what this tab changed here, and tells the other tabs. */
  function share(message: TabMessage) {
    receive(message);
    channel().post(message);
  }

  const streamListener: StreamListener = {
    event(kind, data, fresh) {
      const stamp = Date.now();
      setCounts(data.counts, stamp);
      const added = kind === 'added';
      for (const kept of lists()) {
        if (added || kind === 'changed') kept.put(data.messages ?? [], stamp, added);
        if (kind === 'deleted') kept.delete(data.ids ?? [], stamp);
      }
      const uncounted = added ? list.uncounted(data.messages ?? []) : [];
      if (uncounted.length > 0 && !fresh) void countGroups(uncounted);
      // A connection that resumed nothing may have missed anything: the list starts over.
      if (fresh) void load(true);
      else emit();
    },
    live(open) {
      live = open;
      emit();
    },
    closed() {
      if (!synced && !loading) void load(true);
    },
  };

  function start() {
    channel();
    const EventSource = options.EventSource ?? globals.EventSource;
    if (!EventSource) return void load(true);
    stream = openStream((renew) => http.streamUrl(renew), EventSource, streamListener);
    streamWait = setTimeout(() => streamListener.closed(), STREAM_WAIT_MS);
  }

  function stop() {
    clearTimeout(streamWait);
    stream?.close();
    stream = undefined;
    live = false;
    synced = false;
  }

  return {
    /** The kept list and counts as they are now. */
    get state(): InboxState {
      return state;
    },

    /** Calls `listener` now and on every change; the first subscriber opens the stream, the last one's leaving closes it. */
    subscribe(listener: InboxListener): () => void {
      listeners.add(listener);
      listener(state);
      if (listeners.size === 1) start();
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) stop();
      };
    },

    /** Keeps another list (a view, a feed, a category) from its first page. */
    async show(next: ListFilter): Promise<void> {
      filter = { view: 'feed', ...next };
      const started = ++generation;
      loading = true;
      emit();
      try {
        const scope = await scopeOf(filter);
        if (started !== generation) return;
        list = new LiveList(scope);
        group = undefined;
        if (listeners.size > 0) return await load(true);
      } catch (failure) {
        if (started === generation) error = failure as Error;
      }
      if (started === generation) {
        loading = false;
        emit();
      }
    },

    /** The kept list's next page, when there is one and none is loading. */
    async loadMore(): Promise<void> {
      if (list.next !== undefined && !loading) await load(false);
    },

    /** The kept list again from its first page. */
    reload: () => load(true),

    /** Opens a group of a grouped list: its messages (in the list's view and feed), kept in step like the list. */
    async expand(key: string): Promise<void> {
      const scope = await scopeOf(filter);
      group = { key, list: new LiveList({ ...scope, grouped: false, groupKey: key }), loading: true };
      await loadGroup(true);
    },

    /** The open group's next page, when there is one and none is loading. */
    async loadMoreOfGroup(): Promise<void> {
      if (group && group.list.next !== undefined && !group.loading) await loadGroup(false);
    },

    collapse(): void {
      group = undefined;
      emit();
    },

    /** A page of any list, apart from the kept one. */
    list: http.list,
    counts: http.counts,
    /** The tenant's feeds: the inbox's tabs. */
    feeds: loadFeeds,

    /** Changes messages' state; this tab's list and the others' follow at once. `until` is for `snooze`. */
    async change(change: InboxChange, target: ChangeTarget, until?: Date): Promise<ChangeResult> {
      const stamp = Date.now();
      const result = await http.change(change, target, until);
      const local: LocalTarget | undefined =
        'ids' in target
          ? target
          : await scopeOf({ category: target.category, feed: target.feed }).then(
              ({ category, categories }) => ({ all: true, category, categories, groupKey: target.group_key }),
              () => undefined,
            );
      if (local)
        share({ type: 'change', change, target: local, until: until?.toISOString(), counts: result.counts, stamp });
      return result;
    },

    async remove(id: number): Promise<void> {
      const stamp = Date.now();
      await http.remove(id);
      share({ type: 'delete', ids: [id], stamp });
      // Deleting answers no counts: the stream brings them, or else ask.
      if (!live) setCounts(await http.counts(), stamp);
      emit();
    },

    /** Stops the stream and the other tabs' news. */
    close(): void {
      listeners.clear();
      stop();
      tabs?.close();
      tabs = undefined;
    },
  };
}
