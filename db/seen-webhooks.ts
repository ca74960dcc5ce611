import { eq, lt } from 'drizzle-orm';
import { sha256 } from '../domain/sha256';
import type { Database } from './connect';
import { seenWebhooks } from './schema';

export async function seenBefore(db: Database, signature: string): Promise<boolean> {
  const [row] = await db
    .select({ seenAt: seenWebhooks.seenAt })
    .from(seenWebhooks)
    .where(eq(seenWebhooks.signature, sha256(signature)));
  return row !== undefined;
}

let remembered = 0;

/**
 * Remembers a signature once its request has been taken. Rows older than `keepSeconds` (past the
 * timestamp tolerance, when the timestamp alone refuses a replay) are swept now and then.
 */
export async function rememberSeen(db: Database, signature: string, keepSeconds: number): Promise<void> {
  await db
    .insert(seenWebhooks)
    .values({ signature: sha256(signature) })
    .onConflictDoNothing();
  if (++remembered % 100 === 0)
    await db.delete(seenWebhooks).where(lt(seenWebhooks.seenAt, new Date(Date.now() - keepSeconds * 1000)));
}
