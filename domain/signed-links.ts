import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a link in a message lets its holder do without an API key. */
export type LinkClaim =
  | { purpose: 'ack'; tenantId: string; notificationId: string; recipientId: string; channel: string }
  | { purpose: 'unsubscribe'; tenantId: string; recipientId: string; category?: string }
  /** A recipient's inbox, for a browser: `issuedAt` (ms) dates it against a later revocation. */
  | { purpose: 'inbox'; tenantId: string; recipientId: string; issuedAt: number };

/** Ack links stop working after a week; unsubscribe links must keep working for as long as mail is kept. */
export const ACK_LINK_TTL_SECONDS = 7 * 86_400;

/** `<payload>.<HMAC-SHA256>`, both base64url: the payload is readable, only Herald can make one. */
export function signLink(secret: string, claim: LinkClaim, expiresAt?: number): string {
  const payload = Buffer.from(JSON.stringify({ ...claim, ...(expiresAt ? { exp: expiresAt } : {}) })).toString(
    'base64url',
  );
  return `${payload}.${mac(secret, payload)}`;
}

/** The claim a token carries, or undefined if it is forged, altered or expired. */
export function verifyLink(secret: string, token: string, nowSeconds = Date.now() / 1000): LinkClaim | undefined {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(mac(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  const claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as LinkClaim & { exp?: number };
  if (claim.exp !== undefined && claim.exp < nowSeconds) return undefined;
  return claim;
}

function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}
