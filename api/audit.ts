import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/connect';
import { inTenant } from '../db/tenant-scope';
import { insertAuditEvent } from '../db/audit-events';

export const AUDIT_ACTIONS = [
  'notification.created',
  'notification.cancelled',
  'notification.acknowledged',
  'notification.resolved',
  'notification.retried',
  'broadcast.created',
  'broadcast.cancelled',
  'recipient.deleted',
  'key.created',
  'key.revoked',
  'template.saved',
  'template.published',
  'template.deleted',
  'experiment.started',
  'experiment.stopped',
  'experiment.decided',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: the request's API key, or another actor (`link`, `admin`) for requests made without one. */
export type Actor = FastifyRequest | { tenantId: string; actor: string };

/** Writes one audit event once the action it records has taken effect. */
export async function recordAudit(
  db: Database,
  by: Actor,
  action: AuditAction,
  notificationId?: string,
  target?: string,
  detail?: string,
): Promise<void> {
  const { tenantId, actor } = 'actor' in by ? by : { tenantId: by.tenantId, actor: by.caller.keyId };
  await inTenant(db, tenantId, (tx) =>
    insertAuditEvent(tx, { tenantId, actor, action, notificationId, target, detail }),
  );
}
