import { and, eq } from 'drizzle-orm';
import type { Database } from './connect';
import { inboxTokenRevocations, tenants } from './schema';

/**
 * What a recipient token is checked against, in one query: its tenant (gone, and the token opens nothing)
 * with its request limits, and when the recipient's tokens were last revoked, if ever.
 */
export async function inboxTokenStanding(db: Database, tenantId: string, recipientId: string) {
  const [row] = await db
    .select({
      ratePerSecond: tenants.ratePerSecond,
      burst: tenants.burst,
      dailyQuota: tenants.dailyQuota,
      revokedAt: inboxTokenRevocations.revokedAt,
    })
    .from(tenants)
    .leftJoin(
      inboxTokenRevocations,
      and(eq(inboxTokenRevocations.tenantId, tenants.id), eq(inboxTokenRevocations.recipientId, recipientId)),
    )
    .where(eq(tenants.id, tenantId));
  return row;
}

/** Every inbox token issued for the recipient until `at` is refused from now on. */
export async function revokeInboxTokens(db: Database, tenantId: string, recipientId: string, at: Date): Promise<void> {
  await db
    .insert(inboxTokenRevocations)
    .values({ tenantId, recipientId, revokedAt: at })
    .onConflictDoUpdate({
      target: [inboxTokenRevocations.tenantId, inboxTokenRevocations.recipientId],
      set: { revokedAt: at },
    });
}
