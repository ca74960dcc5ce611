import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Database } from './connect';
import { deleteInboxEvents } from './inbox-events';
import { pseudonymOfAddress } from './recipient-pseudonyms';
import { broadcastChunks, experimentExposures, inboxMessages, preferences, recipients, trackedLinks } from './schema';

/** Drops a push token the provider called dead, so no later notification tries it again. */
export async function removePushToken(db: Database, tenantId: string, recipientId: string, token: string) {
  await db
    .update(recipients)
    .set({ pushTokens: sql`${recipients.pushTokens} - ${token}::text`, updatedAt: new Date() })
    .where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, recipientId)));
}

/**
 * Deletes what is kept about a recipient: its profile, its preferences, its in-app messages, its tracked
 * links and experiment exposures, and its place in broadcasts still sending (chunks not yet sent leave it out). An id that is an address takes
 * the pseudonym of inline recipients with that address along.
 */
export async function deleteRecipientData(db: Database, tenantId: string, recipientId: string) {
  const alias = await pseudonymOfAddress(db, recipientId);
  const ids = alias ? [recipientId, alias] : [recipientId];
  const profile = await db
    .delete(recipients)
    .where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, recipientId)))
    .returning({ id: recipients.id });
  const prefs = await db
    .delete(preferences)
    .where(and(eq(preferences.tenantId, tenantId), inArray(preferences.recipientId, ids)))
    .returning({ id: preferences.recipientId });
  const inbox = await db
    .delete(inboxMessages)
    .where(and(eq(inboxMessages.tenantId, tenantId), inArray(inboxMessages.recipientId, ids)))
    .returning({ id: inboxMessages.id });
  // The deletions just logged go with the rest of its inbox's events.
  await deleteInboxEvents(db, tenantId, ids);
  // Its links (their URLs may name it) and its experiment exposures go too.
  await db.delete(trackedLinks).where(and(eq(trackedLinks.tenantId, tenantId), inArray(trackedLinks.recipientId, ids)));
  await db
    .delete(experimentExposures)
    .where(and(eq(experimentExposures.tenantId, tenantId), inArray(experimentExposures.recipientId, ids)));
  const unsent = await db
    .update(broadcastChunks)
    .set({
      recipients: sql`coalesce((select jsonb_agg(r) from jsonb_array_elements(${broadcastChunks.recipients}) r where r->>'id' not in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))), '[]'::jsonb)`,
    })
    .where(
      and(
        eq(broadcastChunks.tenantId, tenantId),
        or(...ids.map((id) => sql`${broadcastChunks.recipients} @> ${JSON.stringify([{ id }])}::jsonb`)),
      ),
    )
    .returning({ broadcastId: broadcastChunks.broadcastId });
  return {
    profile: profile.length > 0,
    preferences: prefs.length > 0,
    inboxMessages: inbox.length,
    pendingBroadcasts: new Set(unsent.map((c) => c.broadcastId)).size,
  };
}

export type RecipientRow = typeof recipients.$inferSelect;
type ProfileColumns = Omit<typeof recipients.$inferInsert, 'tenantId' | 'id'>;

export async function findRecipient(db: Database, tenantId: string, id: string): Promise<RecipientRow | undefined> {
  const [row] = await db
    .select()
    .from(recipients)
    .where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, id)));
  return row;
}

/** The stored profiles among `ids`, in no particular order; ids without one are left out. */
export async function findRecipients(db: Database, tenantId: string, ids: readonly string[]): Promise<RecipientRow[]> {
  return db
    .select()
    .from(recipients)
    .where(and(eq(recipients.tenantId, tenantId), inArray(recipients.id, [...ids])));
}

/** Creates or replaces a recipient's profile. */
export async function saveRecipient(
  db: Database,
  tenantId: string,
  id: string,
  profile: ProfileColumns,
): Promise<RecipientRow> {
  const [row] = await db
    .insert(recipients)
    .values({ tenantId, id, ...profile })
    .onConflictDoUpdate({ target: [recipients.tenantId, recipients.id], set: profile })
    .returning();
  return row!;
}
