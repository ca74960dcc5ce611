import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Database } from './connect';
import { auditEvents } from './schema';

export type AuditEventRow = typeof auditEvents.$inferSelect;

export async function insertAuditEvent(db: Database, event: typeof auditEvents.$inferInsert): Promise<void> {
  await db.insert(auditEvents).values(event);
}

/** The tenant's events newest first, narrowed by whichever filters are given. */
export function listAuditEvents(
  db: Database,
  tenantId: string,
  filter: { notificationId?: string; action?: string; actor?: string; before?: number; limit: number },
): Promise<AuditEventRow[]> {
  const where: SQL[] = [eq(auditEvents.tenantId, tenantId)];
  if (filter.notificationId) where.push(eq(auditEvents.notificationId, filter.notificationId));
  if (filter.action) where.push(eq(auditEvents.action, filter.action));
  if (filter.actor) where.push(eq(auditEvents.actor, filter.actor));
  if (filter.before) where.push(lt(auditEvents.id, filter.before));
  return db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.id))
    .limit(filter.limit);
}
