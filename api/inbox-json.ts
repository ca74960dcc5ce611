import type { InboxGroup, InboxMessageRow } from '../db/inbox-messages';

/** An in-app message as the inbox routes and the live stream show it; in a grouped list, with its group. */
export function inboxMessageJson(r: InboxMessageRow & { group?: InboxGroup }) {
  return {
    id: r.id,
    notification_id: r.notificationId,
    category: r.category ?? undefined,
    group_key: r.groupKey,
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
    ...(r.group ? { group: r.group } : {}),
  };
}
