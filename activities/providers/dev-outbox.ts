import { sql } from 'drizzle-orm';
import type { Database } from '../../db/connect';
import { devOutbox } from '../../db/schema';
import { emailHeaders, PermanentProviderError, type OutboundMessage, type Provider, type SendResult } from './provider';
import { storedSends } from './stored-sends';

/** Email addresses at this domain fail their first send: a failed notification and its retry, tried in dev mode. */
export const FAIL_ONCE_DOMAIN = 'fail-once.invalid';

/** Delivers into a table the user can browse at /dev/outbox: real output without provider accounts. */
export class DevOutboxProvider implements Provider {
  readonly name = 'dev-outbox';
  /** Deliveries to FAIL_ONCE_DOMAIN failed once already (for the life of the process: it is for trying things). */
  private readonly failedOnce = new Set<string>();

  private readonly store: (row: typeof devOutbox.$inferInsert) => Promise<number>;

  constructor(db: Database) {
    // A retried send finds the row it wrote before: the no-op update makes the insert return its id.
    this.store = storedSends((rows) =>
      db
        .insert(devOutbox)
        .values(rows)
        .onConflictDoUpdate({ target: devOutbox.deliveryKey, set: { deliveryKey: sql`excluded.delivery_key` } })
        .returning({ id: devOutbox.id, deliveryKey: devOutbox.deliveryKey }),
    );
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (message.to.endsWith(`@${FAIL_ONCE_DOMAIN}`) && !this.failedOnce.has(message.deliveryKey)) {
      this.failedOnce.add(message.deliveryKey);
      throw new PermanentProviderError(
        `the dev outbox fails the first send to an address at ${FAIL_ONCE_DOMAIN}: retry the notification to see it delivered`,
      );
    }
    const id = await this.store({
      tenantId: message.tenantId,
      notificationId: message.notificationId,
      deliveryKey: message.deliveryKey,
      channel: message.channel,
      recipient: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      details: outboxDetails(message),
    });
    return { providerMessageId: `outbox-${id}`, status: 'delivered' };
  }
}

/** What the channel would carry beyond the text: SMS segments and encoding, chat buttons, the push payload. */
function outboxDetails(message: OutboundMessage): Record<string, unknown> | undefined {
  const details = { ...message.details, ...(message.actions?.length ? { actions: message.actions } : {}) };
  if (message.unsubscribeUrl) Object.assign(details, { headers: emailHeaders(message) });
  if (message.channel === 'push')
    Object.assign(details, {
      payload: {
        notification: { title: message.subject, body: message.text },
        ...(message.data ? { data: message.data } : {}),
      },
    });
  if (message.payload !== undefined) Object.assign(details, { payload: message.payload });
  if (message.blocks) Object.assign(details, { blocks: message.blocks });
  return Object.keys(details).length > 0 ? details : undefined;
}
