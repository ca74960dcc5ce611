import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../../db/connect';
import { tenants } from '../../db/schema';
import type { Agent } from 'undici';
import { request, statusFailure } from './http';
import { publicOnlyDispatcher } from './public-addresses';
import { PermanentProviderError, type OutboundMessage, type Provider, type SendResult } from './provider';

/**
 * POSTs the notification to the tenant's own endpoint, signed per Standard Webhooks: `webhook-id` is
 * the same on every retry so the receiver can drop duplicates, the signature covers id, time and body.
 */
export class StandardWebhookProvider implements Provider {
  readonly name = 'webhook';
  /**
   * Tenants choose these URLs: unless allowed, every connection to them reaches only public addresses
   * (no SSRF into Herald's network), whether the URL names an address or a host.
   */
  private readonly dispatcher?: Agent;

  constructor(
    private readonly db: Database,
    private readonly options: { allowPrivate?: boolean } = {},
  ) {
    if (!options.allowPrivate) this.dispatcher = publicOnlyDispatcher();
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const [endpoint] = await this.db
      .select({ url: tenants.webhookUrl, secret: tenants.webhookSecret })
      .from(tenants)
      .where(eq(tenants.id, message.tenantId));
    if (!endpoint?.url || !endpoint.secret)
      throw new PermanentProviderError('the tenant has no webhook endpoint: PUT /settings/webhook sets one');

    const now = new Date();
    const body = JSON.stringify({
      type: 'notification.message',
      timestamp: now.toISOString(),
      data: {
        notification_id: message.notificationId,
        recipient_id: message.recipientId,
        category: message.category,
        subject: message.subject,
        text: message.text,
        html: message.html,
        actions: message.actions,
        ...(message.payload !== undefined ? { payload: message.payload } : {}),
      },
    });
    const id = `msg_${message.deliveryKey}`;
    const reply = await request(
      endpoint.url,
      {
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(endpoint.secret).sign(id, now, body),
        },
        body,
        dispatcher: this.dispatcher,
      },
      signal,
    );
    // 410 Gone is the receiver's way to say "stop"; other 4xx are its verdict on this message. The
    // answer stays out of the error: the tenant reads it, and the endpoint is theirs, not Herald's.
    if (reply.status < 200 || reply.status >= 300) throw statusFailure(this.name, reply);
    return { providerMessageId: id, status: 'delivered' };
  }
}
