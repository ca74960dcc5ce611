import { and, desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { inboxMessages } from '../../db/schema';
import type { ApiContext } from '../context';
import { problemSchema, recipientIdSchema } from '../schemas';

/** What the in_app channel stored for a recipient, newest first. */
export const inboxRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/recipients/:id/inbox',
    {
      preHandler: ctx.authenticate,
      schema: {
        summary: "A recipient's in-app messages, newest first",
        tags: ['recipients'],
        security: [{ bearer: [] }],
        params: { type: 'object', required: ['id'], properties: { id: recipientIdSchema } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['messages'],
            properties: {
              messages: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'notification_id', 'text', 'created_at'],
                  properties: {
                    id: { type: 'integer' },
                    notification_id: { type: 'string' },
                    category: { type: 'string' },
                    subject: { type: 'string' },
                    text: { type: 'string' },
                    html: { type: 'string' },
                    actions: {
                      type: 'array',
                      items: { type: 'object', properties: { label: { type: 'string' }, url: { type: 'string' } } },
                    },
                    created_at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          '4xx': problemSchema,
        },
      },
    },
    async (request) => {
      const rows = await ctx.db
        .select()
        .from(inboxMessages)
        .where(and(eq(inboxMessages.tenantId, request.tenantId), eq(inboxMessages.recipientId, request.params.id)))
        .orderBy(desc(inboxMessages.id))
        .limit(request.query.limit ?? 50);
      return {
        messages: rows.map((r) => ({
          id: r.id,
          notification_id: r.notificationId,
          category: r.category ?? undefined,
          subject: r.subject ?? undefined,
          text: r.text,
          html: r.html ?? undefined,
          actions: r.actions,
          created_at: r.createdAt.toISOString(),
        })),
      };
    },
  );
};
