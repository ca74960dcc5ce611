import type { NotificationRequest } from '../domain/notification';
import type { Database } from './connect';
import { notifications } from './schema';

/**
 * The notification's row as the API accepts it, written once its workflow has started. The workflow
 * may have recorded it already, and its view is the newer one: an existing row is left alone.
 */
export async function recordAccepted(db: Database, request: NotificationRequest): Promise<void> {
  await db
    .insert(notifications)
    .values({
      tenantId: request.tenantId,
      id: request.notificationId,
      status: 'accepted',
      priority: request.priority,
      channels: request.channels,
      category: request.category,
      requestHash: request.requestHash,
      createdAt: new Date(request.createdAt),
      updatedAt: new Date(),
    })
    .onConflictDoNothing();
}
