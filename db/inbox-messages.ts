import { and, count, desc, eq, gt, inArray, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
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

export interface InboxFilter extends CategoryFilter {
  view: InboxView;
  /** The moment snoozes are judged by. */
  now: Date;
}

export type InboxAction = 'seen' | 'read' | 'interacted' | 'unread' | 'archive' | 'unarchive' | 'snooze';

/** The messages one change applies to: these ids, or every message of a view (of one category). */
export type InboxTarget = { ids: number[] } | ({ all: true } & CategoryFilter);

export interface InboxCounts {
  unread: number;
  unseen: number;
  total: number;
}

const m = inboxMessages;
const ofRecipient = (tenantId: string, recipientId: string) =>
  and(eq(m.tenantId, tenantId), eq(m.recipientId, recipientId))!;
const awake = (now: Date) => or(isNull(m.snoozedUntil), lte(m.snoozedUntil, now))!;
const inFeed = (now: Date) => and(isNull(m.archivedAt), awake(now))!;
const inCategories = ({ category, categories }: CategoryFilter) =>
  and(
    category !== undefined ? eq(m.category, category) : undefined,
    categories !== undefined ? inArray(m.category, categories) : undefined,
  );

function viewCondition(view: InboxView, now: Date): SQL | undefined {
  switch (view) {
    case 'feed':
      return inFeed(now);
    case 'unread':
      return and(inFeed(now), isNull(m.readAt));
    case 'unseen':
      return and(inFeed(now), isNull(m.seenAt));
    case 'archived':
      return isNotNull(m.archivedAt);
    case 'snoozed':
      return and(isNull(m.archivedAt), gt(m.snoozedUntil, now));
    case 'all':
      return undefined;
  }
}

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
    .select({
      ...columnsOf(),
      key: sql<string>`(extract(epoch from ${m.createdAt}) * 1000000)::bigint::text`.as('key'),
    })
    .from(m)
    .where(
      and(
        ofRecipient(tenantId, recipientId),
        viewCondition(filter.view, filter.now),
        inCategories(filter),
        after
          ? sql`(${m.createdAt}, ${m.id}) < (timestamptz 'epoch' + ${after.createdAtMicros}::bigint * interval '1 microsecond', ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(m.createdAt), desc(m.id))
    .limit(limit);
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
      : and(action === 'unarchive' ? undefined : inFeed(now), inCategories(target));
  const changed = await db
    .update(m)
    .set(changes[action])
    .where(and(ofRecipient(tenantId, recipientId), which, needs[action]))
    .returning({ id: m.id, notificationId: m.notificationId });
  return changed;
}

/**
 * Brings back to the feed, across tenants, the messages whose snooze has ended: an update, so the
 * database's triggers write each recipient's `changed` event and live inboxes show them at once. How many.
 */
export async function wakeSnoozedMessages(db: Database, now: Date): Promise<number> {
  const woken = await db.update(m).set({ snoozedUntil: null }).where(lte(m.snoozedUntil, now)).returning({ id: m.id });
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
