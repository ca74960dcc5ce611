import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { recordAccepted } from '../../db/notifications';
import { notifications } from '../../db/schema';
import { notificationWorkflowId } from '../../workflows/definitions';
import type { notificationWorkflow } from '../../workflows';
import { eagerWorkflowStarts, notificationsAccepted } from '../../observability/metrics';
import { idFromKey, sameRequestOr409 } from '../idempotency';
import { acceptedSchema, BODY_PROBLEMS, idempotencyHeadersSchema, notifyBodySchema, problems } from '../schemas';
import type { ApiContext } from '../context';
import { recordAudit } from '../audit';
import { takeDailyQuota } from '../tenant-limits';
import { buildNotificationRequest, requestHashOf, workflowStartOptions } from '../notification-request';

export const notifyRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.post(
    '/notify',
    {
      schema: {
        summary: 'Accept a notification for delivery',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        body: notifyBodySchema,
        response: { 202: acceptedSchema, ...problems(...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const tenantId = request.tenantId;
      const idempotencyKey = request.headers['idempotency-key'];
      const requestHash = requestHashOf(body);
      const notificationId = idempotencyKey ? idFromKey(tenantId, idempotencyKey) : randomUUID();
      const accepted = () =>
        reply.code(202).send({ notification_id: notificationId, status_url: `/status/${notificationId}` });
      if (idempotencyKey) {
        const [seen] = await ctx.db
          .select({ requestHash: notifications.requestHash })
          .from(notifications)
          .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, notificationId)));
        if (seen) return sameRequestOr409(seen.requestHash, requestHash, accepted);
      }
      const input = await buildNotificationRequest(
        ctx.db,
        tenantId,
        body,
        { notificationId, requestHash, createdAt: new Date().toISOString() },
        ctx,
      );
      const { priority } = input;

      await takeDailyQuota(ctx.limits, request, reply);
      try {
        const handle = await ctx.temporal.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
          ...workflowStartOptions(input, ctx.taskQueue),
          requestEagerStart: ctx.eagerStart,
          workflowId: notificationWorkflowId(tenantId, notificationId),
          args: [{ ...input, recordedByApi: true }],
          // A closed workflow keeps its id: a replay of the same key must not deliver again.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          memo: { requestHash },
        });
        if (handle.eagerlyStarted) eagerWorkflowStarts.inc();
      } catch (error) {
        await ctx.limits.giveBackNotifications(request.caller);
        if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !idempotencyKey) throw error;
        const description = await ctx.temporal.workflow
          .getHandle(notificationWorkflowId(tenantId, notificationId))
          .describe();
        return sameRequestOr409(String(description.memo?.requestHash), requestHash, accepted);
      }
      await recordAccepted(ctx.db, input);
      await recordAudit(ctx.db, request, 'notification.created', notificationId);
      notificationsAccepted.inc({ priority });
      request.log.info(
        { notification_id: notificationId, workflow_id: notificationWorkflowId(tenantId, notificationId), priority },
        'notification accepted',
      );
      return accepted();
    },
  );
};
