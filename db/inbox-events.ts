import { and, asc, eq, gt, inArray, lt, lte, max } from 'drizzle-orm';
import type { Database } from './connect';
import { inboxEvents } from './schema';

/** The channel each inbox event is announced on: `[tenantId, recipientId, eventId]` as JSON. */
export const INBOX_EVENTS_CHANNEL = 'herald_inbox';

const ofRecipient = (tenantId: string, recipientId: string) =>
  and(eq(inboxEvents.tenantId, tenantId), eq(inboxEvents.recipientId, recipientId));

/** The recipient's events after `afterId`, oldest first, at most `limit`. */
export function inboxEventsAfter(db: Database, tenantId: string, recipientId: string, afterId: number, limit: number) {
  return db
    .select({ id: inboxEvents.id, kind: inboxEvents.kind, messageIds: inboxEvents.messageIds })
    .from(inboxEvents)
    .where(and(ofRecipient(tenantId, recipientId), gt(inboxEvents.id, afterId)))
    .orderBy(asc(inboxEvents.id))
    .limit(limit);
}

/** The recipient's latest event id; 0 when it has none. */
export async function latestInboxEventId(db: Database, tenantId: string, recipientId: string): Promise<number> {
  const [row] = await db
    .select({ id: max(inboxEvents.id) })
    .from(inboxEvents)
    .where(ofRecipient(tenantId, recipientId));
  return Number(row?.id ?? 0);
}

/**
 * Whether the log still holds everything after the recipient's event `id`: events go by age, so while
 * that event is kept, every later one is too.
 */
export async function inboxEventKept(db: Database, tenantId: string, recipientId: string, id: number) {
  const [row] = await db
    .select({ id: inboxEvents.id })
    .from(inboxEvents)
    .where(and(ofRecipient(tenantId, recipientId), lte(inboxEvents.id, id)))
    .limit(1);
  return row !== undefined;
}

/** Drops events older than `before`, across tenants: a live inbox away longer reloads instead. */
export async function pruneInboxEvents(db: Database, before: Date): Promise<void> {
  await db.delete(inboxEvents).where(lt(inboxEvents.at, before));
}

/** Drops a deleted recipient's events, the ones its deletion just wrote included. */
export async function deleteInboxEvents(db: Database, tenantId: string, recipientIds: string[]): Promise<void> {
  if (recipientIds.length === 0) return;
  await db
    .delete(inboxEvents)
    .where(and(eq(inboxEvents.tenantId, tenantId), inArray(inboxEvents.recipientId, recipientIds)));
}

/** What an announcement names, or undefined when it is not one of Herald's. */
export function parseInboxAnnouncement(payload: string | undefined) {
  try {
    const [tenantId, recipientId, eventId] = JSON.parse(payload ?? '') as unknown[];
    if (typeof tenantId === 'string' && typeof recipientId === 'string' && typeof eventId === 'number')
      return { tenantId, recipientId, eventId };
  } catch {
    // Not JSON: someone else's message on the channel.
  }
  return undefined;
}
