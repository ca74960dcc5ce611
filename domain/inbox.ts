/** An in-app message's id as its delivery's provider message id: how a read finds its delivery. */
export const inboxMessageId = (id: number): string => `inbox-${id}`;

/** One of a tenant's inbox tabs: its name, and the categories it shows (every category when absent). */
export interface InboxFeed {
  name: string;
  categories?: string[];
}
