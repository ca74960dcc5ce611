import { and, eq, sql } from 'drizzle-orm';
import type { Database } from './connect';
import { recipients } from './schema';

/** Drops a push token the provider called dead, so no later notification tries it again. */
export async function removePushToken(db: Database, tenantId: string, recipientId: string, token: string) {
  await db
    .update(recipients)
    .set({ pushTokens: sql`${recipients.pushTokens} - ${token}::text`, updatedAt: new Date() })
    .where(and(eq(recipients.tenantId, tenantId), eq(recipients.id, recipientId)));
}
