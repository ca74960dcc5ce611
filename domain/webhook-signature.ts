import { createHmac, timingSafeEqual } from 'node:crypto';

/** Receipts older than this are refused, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `sha256=` + hex HMAC-SHA256 of `<timestamp>.<raw body>` under the shared webhook secret. */
export function signReceipt(secret: string, timestamp: number, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

export function verifyReceiptSignature(
  secret: string,
  timestampHeader: string | undefined,
  signature: string | undefined,
  body: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const timestamp = Number(timestampHeader);
  if (!signature || !Number.isInteger(timestamp)) return false;
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signReceipt(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
