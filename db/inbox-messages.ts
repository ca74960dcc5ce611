import { and, desc, eq } from 'drizzle-orm';
import type { Database } from './connect';
import { inboxMessages } from './schema';

/** A recipient's in-app messages, newest first. */
export function listInboxMessages(db: Database, tenantId: string, recipientId: string, limit: number) {
  return db
    .select()
    .from(inboxMessages)
    .where(and(eq(inboxMessages.tenantId, tenantId), eq(inboxMessages.recipientId, recipientId)))
    .orderBy(desc(inboxMessages.id))
    .limit(limit);
}
