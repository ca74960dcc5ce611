import type { NotificationSnapshot } from '../domain/notification';
import { notifications } from './schema';

type RowSource = Pick<
  NotificationSnapshot,
  | 'tenantId'
  | 'notificationId'
  | 'status'
  | 'priority'
  | 'channels'
  | 'category'
  | 'requestHash'
  | 'createdAt'
  | 'acknowledgement'
  | 'timeline'
>;

/** A notification's row as the API or the workflow knows it. */
export function notificationRow(source: RowSource, now: Date): typeof notifications.$inferInsert {
  return {
    tenantId: source.tenantId,
    id: source.notificationId,
    status: source.status,
    priority: source.priority,
    channels: source.channels,
    category: source.category,
    requestHash: source.requestHash,
    acknowledgement: source.acknowledgement ?? null,
    timeline: source.timeline,
    createdAt: new Date(source.createdAt),
    updatedAt: now,
  };
}
