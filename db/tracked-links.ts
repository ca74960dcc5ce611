import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from './connect';
import { trackedLinks } from './schema';

export type TrackedLink = typeof trackedLinks.$inferInsert;
export type TrackedLinkRow = typeof trackedLinks.$inferSelect;

/** Keeps a message's links before it is sent; a retry makes the same ids, which are kept once. */
export async function saveTrackedLinks(db: Database, links: TrackedLink[]): Promise<void> {
  if (links.length > 0) await db.insert(trackedLinks).values(links).onConflictDoNothing();
}

/** The link a redirect id names, whichever tenant's: the id is the credential. */
export async function findTrackedLink(db: Database, id: string): Promise<TrackedLinkRow | undefined> {
  const [row] = await db.select().from(trackedLinks).where(eq(trackedLinks.id, id));
  return row;
}

/** Marks the link clicked; true for its first click only. */
export async function markClicked(db: Database, id: string): Promise<boolean> {
  const marked = await db
    .update(trackedLinks)
    .set({ clickedAt: new Date() })
    .where(and(eq(trackedLinks.id, id), isNull(trackedLinks.clickedAt)))
    .returning({ id: trackedLinks.id });
  return marked.length > 0;
}
