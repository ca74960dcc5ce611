/** An in-app message's id as its delivery's provider message id: how a read finds its delivery. */
export const inboxMessageId = (id: number): string => `inbox-${id}`;
