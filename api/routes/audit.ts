import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { listAuditEvents } from '../../db/audit-events';
import { AUDIT_ACTIONS } from '../audit';
import type { ApiContext } from '../context';
import { idSchema, problems } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

const eventSchema = {
  type: 'object',
  required: ['id', 'at', 'actor', 'action'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: 'string', description: 'The API key id, `link` for a signed link, `admin` for the admin token' },
    action: { type: 'string', enum: AUDIT_ACTIONS },
    notification_id: { type: 'string' },
    target: { type: 'string', description: 'The key, recipient, template version or other thing the action names' },
    detail: { type: 'string', description: 'Why, with the figures: an experiment’s decision' },
  },
} as const;

/** Who created, cancelled, acknowledged, resolved or retried what, and when; newest first. */
export const auditRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/audit',
    {
      schema: {
        summary: "The tenant's audit log, newest first; `before` pages back",
        tags: ['audit'],
        security: [{ bearer: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            notification_id: idSchema,
            action: { type: 'string', enum: AUDIT_ACTIONS },
            actor: idSchema,
            before: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'Events older than this id' },
            limit: {
              type: 'string',
              pattern: '^(200|1[0-9]{2}|[1-9][0-9]?)$',
              description: '1 to 200; 50 when absent',
            },
          },
        },
        response: {
          200: { type: 'object', required: ['events'], properties: { events: { type: 'array', items: eventSchema } } },
          ...problems(400, 401),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await inTenant(ctx.db, request.tenantId, (db) =>
        listAuditEvents(db, request.tenantId, {
          notificationId: q.notification_id,
          action: q.action,
          actor: q.actor,
          before: q.before ? Number(q.before) : undefined,
          limit: Number(q.limit ?? 50),
        }),
      );
      return {
        events: rows.map((e) => ({
          id: e.id,
          at: e.at.toISOString(),
          actor: e.actor,
          action: e.action,
          notification_id: e.notificationId ?? undefined,
          target: e.target ?? undefined,
          detail: e.detail ?? undefined,
        })),
      };
    },
  );
};
