import { and, eq, lt } from 'drizzle-orm';
import { sha256 } from '../domain/sha256';
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
      and(eq(inboxTokenRevocations.tenantId, tenants.id), eq(inboxTokenRevocations.recipientHash, sha256(recipientId))),
    )
    .where(eq(tenants.id, tenantId));
  return row;
}

/**
 * Every inbox token issued for the recipients until `at` is refused from now on. A revocation older than
 * the longest a token lives (`tokenLifeMs`) refuses nothing more, so the tenant's old ones go.
 */
export async function revokeInboxTokens(
  db: Database,
  tenantId: string,
  recipientIds: string[],
  at: Date,
  tokenLifeMs: number,
): Promise<void> {
  await db
    .delete(inboxTokenRevocations)
    .where(
      and(
        eq(inboxTokenRevocations.tenantId, tenantId),
        lt(inboxTokenRevocations.revokedAt, new Date(at.getTime() - tokenLifeMs)),
      ),
    );
  await db
    .insert(inboxTokenRevocations)
    .values(recipientIds.map((id) => ({ tenantId, recipientHash: sha256(id), revokedAt: at })))
    .onConflictDoUpdate({
      target: [inboxTokenRevocations.tenantId, inboxTokenRevocations.recipientHash],
      set: { revokedAt: at },
    });
}
