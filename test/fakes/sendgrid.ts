import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { FakeHttpProvider, fakeId, postTo, type RecordedRequest, type Reply } from './http-fake';

export const SENDGRID_KEY = 'SG.test-key';

/** SendGrid's v3 Mail Send API and its signed event webhook (ECDSA P-256). */
export class FakeSendGrid extends FakeHttpProvider {
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  /** The verification key as SendGrid shows it: base64 DER. */
  readonly publicKey = (this.keys.publicKey as KeyObject).export({ format: 'der', type: 'spki' }).toString('base64');
  readonly sent = new Map<string, { to: string; subject?: string }>();

  protected answer(request: RecordedRequest): Reply {
    if (request.headers.authorization !== `Bearer ${SENDGRID_KEY}`)
      return {
        status: 401,
        body: { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked' }] },
      };
    if (request.method !== 'POST' || request.path !== '/v3/mail/send') return { status: 404, body: { errors: [] } };
    const mail = request.json as { personalizations?: { to?: { email: string }[] }[]; subject?: string };
    const to = mail?.personalizations?.[0]?.to?.[0]?.email;
    if (!to)
      return {
        status: 400,
        body: { errors: [{ message: 'personalizations.to is required', field: 'personalizations' }] },
      };
    const id = fakeId('', 22);
    this.sent.set(id, { to, subject: mail.subject });
    return { status: 202, headers: { 'x-message-id': id } };
  }

  /** Posts events for a message to Herald, signed; `sg_message_id` carries SendGrid's suffix. */
  async sendEvents(url: string, messageId: string, events: { event: string; reason?: string }[], timestamp?: number) {
    const body = JSON.stringify(
      events.map((e) => ({
        email: this.sent.get(messageId)?.to,
        timestamp: Math.floor(Date.now() / 1000),
        sg_event_id: fakeId('', 22),
        sg_message_id: `${messageId}.filterdrecv-5bd4f7c8b-abcde-1-6500-1`,
        ...e,
      })),
    );
    return postTo(url, body, { 'content-type': 'application/json', ...this.sign(body, timestamp) });
  }

  sign(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const signature = sign('sha256', Buffer.from(`${timestamp}${body}`), this.keys.privateKey).toString('base64');
    return {
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': String(timestamp),
    };
  }
}
