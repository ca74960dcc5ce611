import { createHash } from 'node:crypto';

/** Hex SHA-256 of a text: key hashes, request fingerprints, ids derived from keys, seen signatures. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
