import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { listInboxMessages } from '../../db/inbox-messages';
import type { ApiContext } from '../context';
import { problems, recipientIdSchema, storedMessageFields } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

/** What the in_app channel stored for a recipient, newest first. */
export const inboxRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/recipients/:id/inbox',
    {
      schema: {
        summary: "A recipient's in-app messages, newest first",
        tags: ['recipients'],
        security: [{ bearer: [] }],
        params: { type: 'object', required: ['id'], properties: { id: recipientIdSchema } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: {
              type: 'string',
              pattern: '^(200|1[0-9]{2}|[1-9][0-9]?)$',
              description: '1 to 200; 50 when absent',
            },
          },
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
                    ...storedMessageFields,
                    category: { type: 'string' },
                    actions: {
                      type: 'array',
                      items: { type: 'object', properties: { label: { type: 'string' }, url: { type: 'string' } } },
                    },
                  },
                },
              },
            },
          },
          ...problems(400, 401),
        },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const limit = Number(request.query.limit ?? 50);
      const rows = await inTenant(ctx.db, tenantId, (db) => listInboxMessages(db, tenantId, request.params.id, limit));
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
