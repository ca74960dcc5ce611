import type { InboxMessageRow } from '../db/inbox-messages';

/** An in-app message as the inbox routes and the live stream show it. */
export function inboxMessageJson(r: InboxMessageRow) {
  return {
    id: r.id,
    notification_id: r.notificationId,
    category: r.category ?? undefined,
    subject: r.subject ?? undefined,
    text: r.text,
    html: r.html ?? undefined,
    actions: r.actions,
    created_at: r.createdAt.toISOString(),
    seen_at: r.seenAt?.toISOString() ?? null,
    read_at: r.readAt?.toISOString() ?? null,
    interacted_at: r.interactedAt?.toISOString() ?? null,
    archived_at: r.archivedAt?.toISOString() ?? null,
    snoozed_until: r.snoozedUntil?.toISOString() ?? null,
  };
}
