import type { InboxMessage } from '../../clients/inbox/types';

/** Message `id` was created `id` seconds into 2030: a larger id is newer. */
export const inboxMessage = (id: number, state: Partial<InboxMessage> = {}): InboxMessage => ({
  id,
  notification_id: `n${id}`,
  text: `message ${id}`,
  created_at: new Date(Date.UTC(2030, 0, 1, 0, 0, id)).toISOString(),
  seen_at: null,
  read_at: null,
  interacted_at: null,
  archived_at: null,
  snoozed_until: null,
  ...state,
});
