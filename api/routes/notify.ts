import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { notifications } from '../../db/schema';
import { notificationWorkflowId } from '../../workflows/definitions';
import { notificationsAccepted } from '../../observability/metrics';
import { idFromKey, sameRequestOr409 } from '../idempotency';
import { acceptedSchema, BODY_PROBLEMS, idempotencyHeadersSchema, notifyBodySchema, problems } from '../schemas';
import type { ApiContext } from '../context';
import { takeDailyQuota } from '../tenant-limits';
import { buildNotificationRequest, requestHashOf } from '../notification-request';

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
        const seen = await storedHash(ctx, tenantId, notificationId);
        if (seen) return sameRequestOr409(seen, requestHash, accepted);
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
      // Durable once committed: the 202 does not wait for Temporal, the dispatcher starts the workflow.
      const stored = await ctx.starts.accept(input, request.caller.keyId).catch(async (error: unknown) => {
        await ctx.limits.giveBackNotifications(request.caller);
        throw error;
      });
      if (!stored) {
        // The same key in a concurrent request, accepted first.
        await ctx.limits.giveBackNotifications(request.caller);
        const seen = await storedHash(ctx, tenantId, notificationId);
        return sameRequestOr409(seen ?? '', requestHash, accepted);
      }
      notificationsAccepted.inc({ priority });
      request.log.info(
        { notification_id: notificationId, workflow_id: notificationWorkflowId(tenantId, notificationId), priority },
        'notification accepted',
      );
      return accepted();
    },
  );
};

async function storedHash(ctx: ApiContext, tenantId: string, id: string): Promise<string | undefined> {
  const [seen] = await ctx.db
    .select({ requestHash: notifications.requestHash })
    .from(notifications)
    .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, id)));
  return seen?.requestHash;
}
