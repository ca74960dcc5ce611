import { createHmac } from 'node:crypto';
import type { Database } from '../db/connect';
import { inboxTokenStanding } from '../db/inbox-tokens';
import { sha256 } from '../domain/sha256';
import { signLink, verifyLink } from '../domain/signed-links';
import type { Caller } from './tenants';

/** What every recipient token starts with: it tells one from an API key (`hk_`) before anything is looked up. */
export const RECIPIENT_TOKEN_PREFIX = 'hrt_';

/** The longest a recipient token lives, and how long when the request says nothing. */
export const MAX_TOKEN_TTL_MS = 86_400_000;
export const DEFAULT_TOKEN_TTL_MS = 3_600_000;

/** A token that opens one recipient's inbox for a while: signed, so checking one costs no query. */
export function issueRecipientToken(
  secret: string,
  tenantId: string,
  recipientId: string,
  ttlMs: number,
  now = Date.now(),
): { token: string; expiresAt: Date } {
  // Its expiry is signed in whole seconds, rounded up so it lives at least `ttlMs`: the time given back
  // is the one it is refused after.
  const exp = Math.ceil((now + ttlMs) / 1000);
  const signed = signLink(tokenKey(secret), { purpose: 'inbox', tenantId, recipientId, issuedAt: now }, exp);
  return { token: `${RECIPIENT_TOKEN_PREFIX}${signed}`, expiresAt: new Date(exp * 1000) };
}

/** A browser holding a recipient token: its recipient, and when its token was issued and expires (ms). */
export type RecipientCaller = Caller & { recipientId: string; issuedAt: number; expiresAt: number };

/**
 * The caller a recipient token stands for, or undefined when it is forged, expired, or issued before the
 * recipient's tokens were revoked (the recipient deleted), or its tenant is gone.
 */
export async function recipientCaller(
  db: Database,
  secret: string,
  token: string,
): Promise<RecipientCaller | undefined> {
  const claim = verifyLink(tokenKey(secret), token.slice(RECIPIENT_TOKEN_PREFIX.length));
  if (claim?.purpose !== 'inbox') return undefined;
  const standing = await inboxTokenStanding(db, claim.tenantId, claim.recipientId);
  if (!standing || revoked(standing, claim.issuedAt)) return undefined;
  return {
    tenantId: claim.tenantId,
    recipientId: claim.recipientId,
    issuedAt: claim.issuedAt,
    expiresAt: ((claim as { exp?: number }).exp ?? 0) * 1000,
    keyId: 'recipient-token',
    scopes: [],
    // Each recipient's browsers have an allowance of their own: many open inboxes spend none of the
    // tenant's, and one busy browser holds back only its own recipient.
    rateKey: `${claim.tenantId}/recipient/${sha256(claim.recipientId)}`,
    limits: { ratePerSecond: standing.ratePerSecond, burst: standing.burst, dailyQuota: standing.dailyQuota },
  };
}

/** Whether a token issued at `issuedAt` (ms) was issued before its recipient's tokens were revoked. */
export function revoked(standing: { revokedAt: Date | null }, issuedAt: number): boolean {
  return standing.revokedAt !== null && issuedAt <= standing.revokedAt.getTime();
}

/** A key of their own for recipient tokens, derived from the link secret: no link passes for a token, nor one for a link. */
function tokenKey(secret: string): string {
  return createHmac('sha256', secret).update('herald recipient tokens').digest('base64url');
}
