import { createHmac } from 'node:crypto';

/** The ids Herald gives inline recipients that name no id of their own. */
export const PSEUDONYM_PREFIX = 'anon_';

/**
 * The id of an inline recipient without one, from its email or phone: the same address always gets the
 * same id (repeats are caught, unsubscribes hold), and without the key the id tells nothing of it. An
 * email's case does not make another mailbox.
 */
export function pseudonymOf(key: string, address: string): string {
  const mac = createHmac('sha256', key).update(`recipient:${address.trim().toLowerCase()}`);
  return `${PSEUDONYM_PREFIX}${mac.digest('hex').slice(0, 32)}`;
}

/** An id that is an email or an E.164 phone number: what inline recipients without an id were known by before. */
export function isAddress(id: string): boolean {
  return id.includes('@') || /^\+[1-9]\d{6,14}$/.test(id);
}
