import { verify } from 'node:crypto';
import type { Receipt, ReceiptStatus } from '../../domain/notification';
import { SIGNATURE_TOLERANCE_SECONDS } from '../../domain/webhook-signature';

export interface SendGridEvent {
  sg_message_id?: string;
  event?: string;
  reason?: string;
  response?: string;
}

const EVENTS: Record<string, ReceiptStatus> = {
  delivered: 'delivered',
  open: 'opened',
  click: 'clicked',
  bounce: 'bounced',
  dropped: 'failed',
};

/**
 * A SendGrid event as a receipt, or undefined for events that change nothing (processed, deferred).
 * Events name the message `<X-Message-Id>.<suffix>`; Herald knows it by the X-Message-Id.
 */
export function sendGridReceipt(event: SendGridEvent): Receipt | undefined {
  const status = EVENTS[event.event ?? ''];
  const id = event.sg_message_id?.split('.')[0];
  if (!status || !id) return undefined;
  const reason = event.reason ?? event.response;
  return {
    providerMessageId: id,
    status,
    ...(status === 'bounced' || status === 'failed'
      ? { error: `sendgrid ${event.event}: ${reason ?? 'no reason given'}` }
      : {}),
  };
}

/**
 * SendGrid's signed event webhook: ECDSA (P-256, SHA-256) over `<timestamp><raw body>`, checked with the
 * account's verification key (base64 DER). Old timestamps are refused so a captured request cannot be replayed.
 */
export function verifySendGridSignature(
  publicKey: string | undefined,
  signature: string | undefined,
  timestamp: string | undefined,
  body: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!publicKey || !signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) return false;
  try {
    return verify(
      'sha256',
      Buffer.concat([Buffer.from(timestamp), body]),
      { key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' },
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
