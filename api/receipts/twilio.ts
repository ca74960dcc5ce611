import twilio from 'twilio';
import type { Receipt, ReceiptStatus } from '../../domain/notification';

/** Twilio's message and call statuses that say something final or new; the rest (queued, ringing) are progress. */
const MESSAGE_STATUSES: Record<string, ReceiptStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'opened',
  undelivered: 'undelivered',
  failed: 'failed',
};
const CALL_STATUSES: Record<string, ReceiptStatus> = {
  completed: 'delivered',
  busy: 'undelivered',
  'no-answer': 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** A Twilio status callback (SMS or call) as a receipt, or undefined for a status that changes nothing. */
export function twilioReceipt(params: Record<string, string>): Receipt | undefined {
  const isCall = params.CallSid !== undefined && params.MessageSid === undefined;
  const id = isCall ? params.CallSid : params.MessageSid;
  const raw = (isCall ? params.CallStatus : params.MessageStatus) ?? '';
  const status = (isCall ? CALL_STATUSES : MESSAGE_STATUSES)[raw];
  if (!id || !status) return undefined;
  const failed = status === 'failed' || status === 'undelivered';
  const error = failed ? `twilio ${raw}${params.ErrorCode ? ` (error ${params.ErrorCode})` : ''}` : undefined;
  return { providerMessageId: id, status, ...(error ? { error } : {}) };
}

/** `X-Twilio-Signature`: HMAC-SHA1 under the auth token of the URL Twilio called and the sorted form fields. */
export function verifyTwilioSignature(
  authToken: string | undefined,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  return (
    authToken !== undefined && signature !== undefined && twilio.validateRequest(authToken, signature, url, params)
  );
}
