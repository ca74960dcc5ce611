import { sha256 } from '../domain/sha256';
import { Problem } from './problems';

/** A replayed request with the same key: accepted again if it is the same request, else 409. */
export function sameRequestOr409<T>(storedHash: string, requestHash: string, accepted: () => T): T {
  if (storedHash !== requestHash) {
    throw new Problem(
      409,
      'Idempotency key reused',
      'This Idempotency-Key was already used with a different request body',
      'idempotency-key',
    );
  }
  return accepted();
}

/** The same tenant and key always name the same notification, formatted as a UUID. */
export function idFromKey(tenantId: string, key: string): string {
  const h = sha256(`${tenantId}\u0000${key}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
