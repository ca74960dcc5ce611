import { eq, lt } from 'drizzle-orm';
import { sha256 } from '../domain/sha256';
import type { Database } from './connect';
import { seenWebhooks } from './schema';

/** How often this process sweeps out old signatures: a delete per minute, not a scan per request. */
const SWEEP_EVERY_MS = 60_000;
let nextSweep = 0;

/**
 * Takes a signature for its request: true for the first taker, false when it was taken already (a
 * replay). One statement decides, so copies of one request sent at once cannot both take it. Rows
 * older than `keepSeconds` (past the timestamp tolerance, when the timestamp alone refuses a replay)
 * are swept now and then.
 */
export async function takeSignature(db: Database, signature: string, keepSeconds: number): Promise<boolean> {
  if (Date.now() >= nextSweep) {
    nextSweep = Date.now() + SWEEP_EVERY_MS;
    await db.delete(seenWebhooks).where(lt(seenWebhooks.seenAt, new Date(Date.now() - keepSeconds * 1000)));
  }
  const taken = await db
    .insert(seenWebhooks)
    .values({ signature: sha256(signature) })
    .onConflictDoNothing()
    .returning({ signature: seenWebhooks.signature });
  return taken.length > 0;
}

/** Gives a signature back: its request was not taken after all, so the sender's retry of it is. */
export async function releaseSignature(db: Database, signature: string): Promise<void> {
  await db.delete(seenWebhooks).where(eq(seenWebhooks.signature, sha256(signature)));
}
