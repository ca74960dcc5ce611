import { and, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { QueryRejectedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Database } from '../../db/connect';
import { deliveries, notifications } from '../../db/schema';
import type { Channel } from '../../domain/channels';
import type { DeliveryStatus, NotificationSnapshot, NotificationStatus, Priority } from '../../domain/notification';
import { notificationWorkflowId, statusQuery } from '../../workflows/definitions';
import type { ApiContext } from '../context';
import { notFound } from '../problems';
import { idSchema, problems, statusSchema } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

/** A running workflow that does not answer in time is answered for by its projection. */
const QUERY_TIMEOUT_MS = 3000;

/** A workflow's answer to a query, given up on after QUERY_TIMEOUT_MS when no worker replies. */
export function queryInTime<T>(ctx: ApiContext, handle: WorkflowHandle, query: QueryDefinition<T>): Promise<T> {
  return ctx.temporal.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(query));
}

export const statusRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/status/:notification_id',
    {
      schema: {
        summary: "A notification's status and each delivery's outcome",
        tags: ['notifications'],
        security: [{ bearer: [] }],
        params: {
          type: 'object',
          required: ['notification_id'],
          properties: { notification_id: idSchema },
        },
        response: { 200: statusSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const id = request.params.notification_id;
      const handle = ctx.temporal.workflow.getHandle(notificationWorkflowId(tenantId, id));
      const live = await liveSnapshot(ctx, handle);
      if (typeof live === 'object') return toStatusResponse(live);
      const recorded = await inTenant(ctx.db, tenantId, (db) => recordedSnapshot(db, tenantId, id));
      if (recorded) return toStatusResponse(recorded);
      if (live === 'closed') throw notFound(`No notification ${id}`);
      // Accepted, but no worker has picked it up yet: it waits durably in Temporal.
      const { startTime } = await handle.describe();
      return { notification_id: id, status: 'accepted' as const, created_at: startTime.toISOString(), deliveries: [] };
    },
  );
};

/** The workflow's own answer while it runs, `closed` once it has closed or never was, `unanswered` if no worker replied. */
export async function liveSnapshot(
  ctx: ApiContext,
  handle: WorkflowHandle,
): Promise<NotificationSnapshot | 'closed' | 'unanswered'> {
  try {
    return await queryInTime(ctx, handle, statusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || error instanceof QueryRejectedError) return 'closed';
    return 'unanswered';
  }
}

export async function recordedSnapshot(
  db: Database,
  tenantId: string,
  id: string,
): Promise<NotificationSnapshot | undefined> {
  const [row] = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, id)));
  if (!row) return undefined;
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.notificationId, id)));
  return {
    notificationId: row.id,
    tenantId: row.tenantId,
    status: row.status as NotificationStatus,
    priority: row.priority as Priority,
    channels: row.channels as Channel[],
    category: row.category ?? undefined,
    requestHash: row.requestHash,
    createdAt: row.createdAt.toISOString(),
    acknowledgement: row.acknowledgement ?? undefined,
    timeline: row.timeline ?? undefined,
    deliveries: rows.map((d) => ({
      recipientId: d.recipientId,
      channel: d.channel as Channel,
      status: d.status as DeliveryStatus,
      provider: d.provider ?? undefined,
      attempts: d.attempts,
      providerMessageId: d.providerMessageId ?? undefined,
      error: d.error ?? undefined,
      providersTried: d.providersTried ?? undefined,
      details: d.details ?? undefined,
      step: d.step,
    })),
  };
}

export function toStatusResponse(s: NotificationSnapshot) {
  return {
    notification_id: s.notificationId,
    status: s.status,
    priority: s.priority,
    category: s.category,
    created_at: s.createdAt,
    deliveries: s.deliveries.map((d) => ({
      recipient_id: d.recipientId,
      channel: d.channel,
      status: d.status,
      provider: d.provider,
      attempts: d.attempts,
      provider_message_id: d.providerMessageId,
      error: d.error,
      providers_tried: d.providersTried,
      segments: d.details?.segments,
      encoding: d.details?.encoding,
      template: d.details?.template,
      version: d.details?.version,
      locale: d.details?.locale,
      variant: d.details?.variant,
      step: d.step,
      kind: d.kind,
    })),
    acknowledgement: s.acknowledgement,
    timeline: s.timeline?.map((e) => ({
      at: e.at,
      event: e.event,
      recipient_id: e.recipientId,
      step: e.step,
      kind: e.kind,
      channels: e.channels,
      until: e.until,
      reason: e.reason,
      by: e.by,
    })),
  };
}
