import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { recordAudit, type AuditAction } from '../audit';
import type { ApiContext } from '../context';
import { actOnNotification, type NotificationAction } from '../notification-actions';
import { acknowledgementSchema, idSchema, NO_NUL, OPTIONAL_BODY, problems } from '../schemas';

const actionBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    by: { type: 'string', minLength: 1, maxLength: 128, pattern: NO_NUL, description: 'Who acts; `api` if absent' },
    reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: NO_NUL },
  },
} as const;

const actionResultSchema = {
  type: 'object',
  required: ['notification_id', 'action', 'status_url'],
  properties: {
    notification_id: { type: 'string' },
    action: { type: 'string', enum: ['cancel', 'acknowledge', 'resolve', 'retry'] },
    status_url: { type: 'string' },
    acknowledgement: acknowledgementSchema,
  },
} as const;

const ROUTES: { path: string; action: NotificationAction; audit: AuditAction; summary: string }[] = [
  {
    path: 'cancel',
    action: 'cancel',
    audit: 'notification.cancelled',
    summary: 'Cancel what has not been sent: a scheduled send, a quiet-hours hold, fallback and escalation steps',
  },
  {
    path: 'ack',
    action: 'acknowledge',
    audit: 'notification.acknowledged',
    summary: 'Acknowledge a notification: escalation stops; the first acknowledgement is kept',
  },
  {
    path: 'resolve',
    action: 'resolve',
    audit: 'notification.resolved',
    summary: 'Resolve an acknowledged notification, so its acknowledgement timeout cannot re-open escalation',
  },
  {
    path: 'retry',
    action: 'retry',
    audit: 'notification.retried',
    summary: "Send a failed notification's failed deliveries again",
  },
];

/**
 * Operator actions on one notification. Each is idempotent (repeating one that happened answers 202
 * again) and answers 409 when the notification's state forbids it.
 */
export const actionRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  // The body is optional: a bare POST acts on behalf of `api`.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {};
  });
  for (const route of ROUTES) {
    app.post(
      `/notifications/:notification_id/${route.path}`,
      {
        schema: {
          summary: route.summary,
          tags: ['notifications'],
          security: [{ bearer: [] }],
          params: { type: 'object', required: ['notification_id'], properties: { notification_id: idSchema } },
          body: actionBodySchema,
          [OPTIONAL_BODY]: true,
          response: { 202: actionResultSchema, ...problems(400, 401, 404, 409, 413, 415) },
        },
      },
      async (request, reply) => {
        const id = request.params.notification_id;
        const body = request.body ?? {};
        const result = await actOnNotification(ctx, request.tenantId, id, route.action, {
          by: body.by ?? 'api',
          reason: body.reason,
        });
        if (!result.done) await recordAudit(ctx.db, request, route.audit, id);
        request.log.info({ notification_id: id, action: route.action, repeated: result.done }, 'notification action');
        return reply.code(202).send({
          notification_id: id,
          action: route.action,
          status_url: `/status/${id}`,
          acknowledgement: result.acknowledgement,
        });
      },
    );
  }
};
