import { and, eq } from 'drizzle-orm';
import { chunksOf, type BroadcastRequest } from '../domain/broadcast';
import type { Contact } from '../domain/notification';
import type { Database } from './connect';
import { broadcastChunks, broadcasts } from './schema';

/** The tenant's broadcast with this id, if there is one. */
export async function findBroadcast(db: Database, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(broadcasts)
    .where(and(eq(broadcasts.tenantId, tenantId), eq(broadcasts.id, id)));
  return row;
}

/**
 * A broadcast's row and its recipients in chunks, in one transaction: all of it is stored, or none.
 * False when a broadcast with this id was stored first (a concurrent request with the same key).
 */
export async function storeBroadcast(
  db: Database,
  input: BroadcastRequest,
  recipients: Contact[][],
  requestHash: string,
): Promise<boolean> {
  const { tenantId, broadcastId } = input;
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(broadcasts)
      .values({
        tenantId,
        id: broadcastId,
        status: 'accepted',
        priority: input.priority,
        channels: input.channels,
        category: input.category,
        requestHash,
        recipientCount: recipients.reduce((n, chunk) => n + chunk.length, 0),
        chunkCount: recipients.length,
        createdAt: new Date(input.createdAt),
      })
      .onConflictDoNothing()
      .returning({ id: broadcasts.id });
    if (inserted.length === 0) return false;
    const rows = recipients.map((chunk, i) => ({ tenantId, broadcastId, chunk: i, recipients: chunk }));
    // Groups of rows keep each statement well under PostgreSQL's parameter limit.
    for (const group of chunksOf(rows, 1000)) await tx.insert(broadcastChunks).values(group);
    return true;
  });
}
