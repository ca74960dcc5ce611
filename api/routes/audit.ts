import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { auditEvents } from '../../db/schema';
import { AUDIT_ACTIONS } from '../audit';
import type { ApiContext } from '../context';
import { idSchema, problems } from '../schemas';

const eventSchema = {
  type: 'object',
  required: ['id', 'at', 'actor', 'action'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: 'string', description: 'The API key id, `link` for a signed link, `admin` for the admin token' },
    action: { type: 'string', enum: AUDIT_ACTIONS },
    notification_id: { type: 'string' },
    target: { type: 'string', description: 'The key, recipient or other thing the action names' },
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
      const filters: SQL[] = [eq(auditEvents.tenantId, request.tenantId)];
      if (q.notification_id) filters.push(eq(auditEvents.notificationId, q.notification_id));
      if (q.action) filters.push(eq(auditEvents.action, q.action));
      if (q.actor) filters.push(eq(auditEvents.actor, q.actor));
      if (q.before) filters.push(lt(auditEvents.id, Number(q.before)));
      const rows = await ctx.db
        .select()
        .from(auditEvents)
        .where(and(...filters))
        .orderBy(desc(auditEvents.id))
        .limit(Number(q.limit ?? 50));
      return {
        events: rows.map((e) => ({
          id: e.id,
          at: e.at.toISOString(),
          actor: e.actor,
          action: e.action,
          notification_id: e.notificationId ?? undefined,
          target: e.target ?? undefined,
        })),
      };
    },
  );
};
