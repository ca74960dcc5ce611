import { sql } from 'drizzle-orm';
import type { Database } from '../../db/connect';
import { inboxMessages } from '../../db/schema';
import type { OutboundMessage, Provider, SendResult } from './provider';

/** The in-app channel: the message is stored for the recipient's inbox, and that is its delivery. */
export class InboxProvider implements Provider {
  readonly name = 'inbox';
  constructor(private readonly db: Database) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    // A retried send finds the row it wrote before: the no-op update makes the insert return its id.
    const [row] = await this.db
      .insert(inboxMessages)
      .values({
        tenantId: message.tenantId,
        recipientId: message.recipientId,
        notificationId: message.notificationId,
        deliveryKey: message.deliveryKey,
        category: message.category,
        subject: message.subject,
        text: message.text,
        html: message.html,
        actions: message.actions ?? [],
      })
      .onConflictDoUpdate({ target: inboxMessages.deliveryKey, set: { deliveryKey: sql`excluded.delivery_key` } })
      .returning({ id: inboxMessages.id });
    return { providerMessageId: `inbox-${row!.id}`, status: 'delivered' };
  }
}
