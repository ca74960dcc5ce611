import { and, count, desc, eq, gt, inArray, isNotNull, isNull, lte, notExists, or, sql, type SQL } from 'drizzle-orm';
import { alias, type PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Database } from './connect';
import { inboxMessages } from './schema';

/**
 * What part of an inbox to look at: the feed (neither archived nor snoozed), the feed's unread or
 * unseen messages, the archived ones, the snoozed ones, or everything.
 */
export type InboxView = 'feed' | 'unread' | 'unseen' | 'archived' | 'snoozed' | 'all';

/** A position in an inbox, newest first: the last message of a page, exactly as the database orders it. */
export interface InboxKey {
  /** `created_at` in microseconds since 1970, as a decimal integer: exact, whatever the server's date style. */
  createdAtMicros: string;
  id: number;
}

/** Which categories to take: one (`?category=`), and those of a feed; every category when neither is given. */
export interface CategoryFilter {
  category?: string;
  categories?: string[];
}

/** Categories, and one group's messages (`group_key`) when `groupKey` is given. */
export interface MessageFilter extends CategoryFilter {
  groupKey?: string;
}

export interface InboxFilter extends MessageFilter {
  view: InboxView;
  /** The moment snoozes are judged by. */
  now: Date;
}

export type InboxAction = 'seen' | 'read' | 'interacted' | 'unread' | 'archive' | 'unarchive' | 'snooze';

/** The messages one change applies to: these ids, or every message of a view (of one category). */
export type InboxTarget = { ids: number[] } | ({ all: true } & MessageFilter);

export interface InboxCounts {
  unread: number;
  unseen: number;
  total: number;
}

/** A group's entry in a grouped list: its key, and its messages (and unread ones) in the list's view. */
export interface InboxGroup {
  key: string;
  count: number;
  unread: number;
}

const m = inboxMessages;
/** The same table again, for asking whether a group has a newer message than the one at hand. */
const newer = alias(inboxMessages, 'newer');
type Messages = typeof m | typeof newer;

const ofRecipient = (tenantId: string, recipientId: string, t: Messages = m) =>
  and(eq(t.tenantId, tenantId), eq(t.recipientId, recipientId))!;
const awake = (now: Date, t: Messages = m) => or(isNull(t.snoozedUntil), lte(t.snoozedUntil, now))!;
const inFeed = (now: Date, t: Messages = m) => and(isNull(t.archivedAt), awake(now, t))!;
const inCategories = ({ category, categories }: CategoryFilter, t: Messages = m) =>
  and(
    category !== undefined ? eq(t.category, category) : undefined,
    categories !== undefined ? inArray(t.category, categories) : undefined,
  );
const ofFilter = (filter: MessageFilter, t: Messages = m) =>
  and(inCategories(filter, t), filter.groupKey !== undefined ? eq(t.groupKey, filter.groupKey) : undefined);

function viewCondition(view: InboxView, now: Date, t: Messages = m): SQL | undefined {
  switch (view) {
    case 'feed':
      return inFeed(now, t);
    case 'unread':
      return and(inFeed(now, t), isNull(t.readAt));
    case 'unseen':
      return and(inFeed(now, t), isNull(t.seenAt));
    case 'archived':
      return isNotNull(t.archivedAt);
    case 'snoozed':
      return and(isNull(t.archivedAt), gt(t.snoozedUntil, now));
    case 'all':
      return undefined;
  }
}

/** The recipient's messages a list shows: its view, categories and group. */
const listed = (tenantId: string, recipientId: string, filter: InboxFilter, t: Messages = m) =>
  and(ofRecipient(tenantId, recipientId, t), viewCondition(filter.view, filter.now, t), ofFilter(filter, t));

/** A key as the database orders messages: the same (created_at, id) pair, to the microsecond. */
const position = (key: InboxKey) =>
  sql`(timestamptz 'epoch' + ${key.createdAtMicros}::bigint * interval '1 microsecond', ${key.id})`;
const keyColumn = () => sql<string>`(extract(epoch from ${m.createdAt}) * 1000000)::bigint::text`.as('key');

/**
 * A page of a recipient's inbox, newest first, after `after` (the last message of the page before).
 * Keyed on (created_at, id): messages that arrive meanwhile go to the top, never into a later page,
 * so paging on neither repeats nor skips one.
 */
export function listInbox(
  db: Database,
  tenantId: string,
  recipientId: string,
  filter: InboxFilter,
  limit: number,
  after?: InboxKey,
) {
  return db
    .select({ ...columnsOf(), key: keyColumn() })
    .from(m)
    .where(
      and(
        listed(tenantId, recipientId, filter),
        after ? sql`(${m.createdAt}, ${m.id}) < ${position(after)}` : undefined,
      ),
    )
    .orderBy(desc(m.createdAt), desc(m.id))
    .limit(limit);
}

/** Where a grouped walk is: after the last entry of the page before, among messages up to its first. */
export interface GroupedPage {
  after?: InboxKey;
  /**
   * The newest message when the walk began: later pages leave out what arrived since, so no arrival moves
   * a group under the walk (a group shown returns nowhere further down, one not yet shown keeps its
   * place). A group whose newest message leaves the view between pages (read in the unread view,
   * archived, snoozed) may show again further down, at its next one.
   */
  upTo?: InboxKey;
}

/**
 * A page of a recipient's inbox with each group folded into one entry: the group's newest message in
 * the view, at that message's place, with the group's count and unread count in the view. Messages
 * without a group are entries of their own. Keyed like `listInbox`, on each entry's newest message.
 */
export async function listGroupedInbox(
  db: Database,
  tenantId: string,
  recipientId: string,
  filter: InboxFilter,
  limit: number,
  page: GroupedPage = {},
) {
  const upTo = (t: Messages) => (page.upTo ? sql`(${t.createdAt}, ${t.id}) <= ${position(page.upTo)}` : undefined);
  const newerInGroup = db
    .select({ one: sql`1` })
    .from(newer)
    .where(
      and(
        listed(tenantId, recipientId, filter, newer),
        eq(newer.groupKey, m.groupKey),
        sql`(${newer.createdAt}, ${newer.id}) > (${m.createdAt}, ${m.id})`,
        upTo(newer),
      ),
    );
  const heads = await db
    .select({ ...columnsOf(), key: keyColumn() })
    .from(m)
    .where(
      and(
        listed(tenantId, recipientId, filter),
        upTo(m),
        page.after ? sql`(${m.createdAt}, ${m.id}) < ${position(page.after)}` : undefined,
        or(isNull(m.groupKey), notExists(newerInGroup)),
      ),
    )
    .orderBy(desc(m.createdAt), desc(m.id))
    .limit(limit);
  const keys = [...new Set(heads.flatMap((h) => (h.groupKey === null ? [] : [h.groupKey])))];
  const tallies =
    keys.length === 0
      ? []
      : await db
          .select({
            key: m.groupKey,
            count: count(),
            unread: sql<number>`count(*) filter (where ${m.readAt} is null)`.mapWith(Number),
          })
          .from(m)
          .where(and(listed(tenantId, recipientId, filter), upTo(m), inArray(m.groupKey, keys)))
          .groupBy(m.groupKey);
  const byKey = new Map(tallies.map((t) => [t.key!, t]));
  return heads.map((head) => ({ ...head, group: groupOf(head, byKey) }));
}

function groupOf(
  head: { groupKey: string | null; readAt: Date | null },
  tallies: Map<string, { count: number; unread: number }>,
): InboxGroup | undefined {
  if (head.groupKey === null) return undefined;
  // A group changed between the two reads may have no tally left: its head, at least, is in it.
  const tally = tallies.get(head.groupKey) ?? { count: 1, unread: head.readAt === null ? 1 : 0 };
  return { key: head.groupKey, count: tally.count, unread: tally.unread };
}

/** The recipient's messages with these ids, as they are now, in id order. */
export function inboxMessagesByIds(db: Database, tenantId: string, recipientId: string, ids: number[]) {
  return db
    .select(columnsOf())
    .from(m)
    .where(and(ofRecipient(tenantId, recipientId), inArray(m.id, ids)))
    .orderBy(m.id);
}

export type InboxMessageRow = Awaited<ReturnType<typeof inboxMessagesByIds>>[number];

const columnsOf = () => ({
  id: m.id,
  notificationId: m.notificationId,
  category: m.category,
  groupKey: m.groupKey,
  subject: m.subject,
  text: m.text,
  html: m.html,
  actions: m.actions,
  createdAt: m.createdAt,
  seenAt: m.seenAt,
  readAt: m.readAt,
  interactedAt: m.interactedAt,
  archivedAt: m.archivedAt,
  snoozedUntil: m.snoozedUntil,
});

/** The feed's unread, unseen and total counts, in one statement. */
export async function inboxCounts(
  db: Database,
  tenantId: string,
  recipientId: string,
  now: Date,
  filter: CategoryFilter = {},
): Promise<InboxCounts> {
  const [row] = await db
    .select({
      total: count(),
      unread: sql<number>`count(*) filter (where ${m.readAt} is null)`.mapWith(Number),
      unseen: sql<number>`count(*) filter (where ${m.seenAt} is null)`.mapWith(Number),
    })
    .from(m)
    .where(and(ofRecipient(tenantId, recipientId), inFeed(now), inCategories(filter)));
  return { unread: row?.unread ?? 0, unseen: row?.unseen ?? 0, total: row?.total ?? 0 };
}

/**
 * Changes the state of the target messages; those it changed, with their notifications. Marking read marks seen too, keeping
 * when a message was first seen: "mark all read" moves no one's `seen_at`. `all` takes the feed's
 * messages (the archive's, to unarchive).
 */
export async function changeInbox(
  db: Database,
  tenantId: string,
  recipientId: string,
  action: InboxAction,
  target: InboxTarget,
  now: Date,
  snoozeUntil?: Date,
): Promise<{ id: number; notificationId: string }[]> {
  const changes: Record<InboxAction, PgUpdateSetSource<typeof m>> = {
    seen: { seenAt: sql`coalesce(${m.seenAt}, ${now})` },
    read: { readAt: sql`coalesce(${m.readAt}, ${now})`, seenAt: sql`coalesce(${m.seenAt}, ${now})` },
    interacted: {
      interactedAt: sql`coalesce(${m.interactedAt}, ${now})`,
      readAt: sql`coalesce(${m.readAt}, ${now})`,
      seenAt: sql`coalesce(${m.seenAt}, ${now})`,
    },
    unread: { readAt: null },
    archive: { archivedAt: sql`coalesce(${m.archivedAt}, ${now})` },
    unarchive: { archivedAt: null },
    snooze: { snoozedUntil: snoozeUntil },
  };
  // Only messages the action changes: `changed` counts real changes.
  const needs: Record<InboxAction, SQL | undefined> = {
    seen: isNull(m.seenAt),
    read: isNull(m.readAt),
    interacted: isNull(m.interactedAt),
    unread: isNotNull(m.readAt),
    archive: isNull(m.archivedAt),
    unarchive: isNotNull(m.archivedAt),
    snooze: isNull(m.archivedAt),
  };
  const which =
    'ids' in target
      ? inArray(m.id, target.ids)
      : and(action === 'unarchive' ? undefined : inFeed(now), ofFilter(target));
  const changed = await db
    .update(m)
    .set(changes[action])
    .where(and(ofRecipient(tenantId, recipientId), which, needs[action]))
    .returning({ id: m.id, notificationId: m.notificationId });
  return changed;
}

/**
 * Brings back to the feed, across tenants, up to `limit` messages whose snooze has ended by the database's
 * clock: an update, so the database's triggers write each recipient's `changed` event and live inboxes
 * show them at once. How many it woke.
 */
export async function wakeSnoozedMessages(db: Database, limit: number): Promise<number> {
  const due = db
    .select({ id: m.id })
    .from(m)
    .where(lte(m.snoozedUntil, sql`now()`))
    .limit(limit);
  const woken = await db.update(m).set({ snoozedUntil: null }).where(inArray(m.id, due)).returning({ id: m.id });
  return woken.length;
}

/** Deletes one message; false when the recipient has none with that id. */
export async function deleteInboxMessage(
  db: Database,
  tenantId: string,
  recipientId: string,
  id: number,
): Promise<boolean> {
  const deleted = await db
    .delete(m)
    .where(and(ofRecipient(tenantId, recipientId), eq(m.id, id)))
    .returning({ id: m.id });
  return deleted.length > 0;
}
