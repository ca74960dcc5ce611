import { sql } from 'drizzle-orm';
import type { Database } from './connect';

/** The role whose queries row-level security binds to one tenant (migration 0007). */
export const TENANT_ROLE = 'herald_tenant';

/**
 * Runs `work` in a transaction as the tenant role with `herald.tenant_id` set: PostgreSQL's
 * row-level security then shows and lets it write only that tenant's rows, so a query that forgets
 * its tenant filter finds nothing of another tenant's. Both settings end with the transaction.
 */
export function inTenant<T>(db: Database, tenantId: string, work: (tx: Database) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('role', ${TENANT_ROLE}, true), set_config('herald.tenant_id', ${tenantId}, true)`,
    );
    return work(tx as unknown as Database);
  });
}
