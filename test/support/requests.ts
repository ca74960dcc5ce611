import { randomUUID } from 'node:crypto';
import type { NotificationRequest } from '../../domain/notification';

/** A workflow input as the API would build it: one email recipient unless told otherwise. */
export function notificationRequest(overrides: Partial<NotificationRequest> = {}): NotificationRequest {
  return {
    notificationId: randomUUID(),
    tenantId: 'tenant-wf',
    channels: ['email'],
    recipients: [{ id: 'r1', email: 'r1@example.com' }],
    message: { subject: 'Hi', text: 'Hello' },
    priority: 'normal',
    requestHash: 'hash',
    createdAt: new Date().toISOString(),
    receiptWindowMs: 3_600_000,
    ...overrides,
  };
}
