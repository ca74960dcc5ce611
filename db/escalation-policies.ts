import { and, eq } from 'drizzle-orm';
import type { EscalationPolicy } from '../domain/orchestration';
import type { Database } from './connect';
import { escalationPolicies } from './schema';

const byCategory = (tenantId: string, category: string) =>
  and(eq(escalationPolicies.tenantId, tenantId), eq(escalationPolicies.category, category));

export async function findEscalationPolicy(
  db: Database,
  tenantId: string,
  category: string,
): Promise<EscalationPolicy | undefined> {
  const [row] = await db
    .select({ policy: escalationPolicies.policy })
    .from(escalationPolicies)
    .where(byCategory(tenantId, category));
  return row?.policy;
}

export async function saveEscalationPolicy(
  db: Database,
  tenantId: string,
  category: string,
  policy: EscalationPolicy,
): Promise<void> {
  await db
    .insert(escalationPolicies)
    .values({ tenantId, category, policy })
    .onConflictDoUpdate({
      target: [escalationPolicies.tenantId, escalationPolicies.category],
      set: { policy, updatedAt: new Date() },
    });
}

/** True when there was a policy to delete. */
export async function deleteEscalationPolicy(db: Database, tenantId: string, category: string): Promise<boolean> {
  const removed = await db
    .delete(escalationPolicies)
    .where(byCategory(tenantId, category))
    .returning({ category: escalationPolicies.category });
  return removed.length > 0;
}
