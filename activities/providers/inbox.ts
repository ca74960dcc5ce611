import { sql } from 'drizzle-orm';
import type { Database } from '../../db/connect';
import { inboxMessages } from '../../db/schema';
import { inboxMessageId } from '../../domain/inbox';
import type { OutboundMessage, Provider, SendResult } from './provider';
import { storedSends } from './stored-sends';

/** The in-app channel: the message is stored for the recipient's inbox, and that is its delivery. */
export class InboxProvider implements Provider {
  readonly name = 'inbox';
  private readonly store: (row: typeof inboxMessages.$inferInsert) => Promise<number>;

  constructor(db: Database) {
    // A retried send finds the row it wrote before: the no-op update makes the insert return its id.
    this.store = storedSends((rows) =>
      db
        .insert(inboxMessages)
        .values(rows)
        .onConflictDoUpdate({ target: inboxMessages.deliveryKey, set: { deliveryKey: sql`excluded.delivery_key` } })
        .returning({ id: inboxMessages.id, deliveryKey: inboxMessages.deliveryKey }),
    );
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    const id = await this.store({
      tenantId: message.tenantId,
      recipientId: message.recipientId,
      notificationId: message.notificationId,
      deliveryKey: message.deliveryKey,
      category: message.category,
      groupKey: message.groupKey,
      subject: message.subject,
      text: message.text,
      html: message.html,
      actions: message.actions ?? [],
    });
    return { providerMessageId: inboxMessageId(id), status: 'delivered' };
  }
}
