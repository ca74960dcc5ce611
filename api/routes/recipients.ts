import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { findRecipient, saveRecipient, type RecipientRow } from '../../db/recipients';
import { recordAudit } from '../audit';
import { recipientFields } from '../recipient-fields';
import type { ApiContext } from '../context';
import { forgetRecipient } from '../forget-recipient';
import { notFound } from '../problems';
import { BODY_PROBLEMS, problems, recipientBodySchema, recipientIdSchema, recipientSchema } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

const params = { type: 'object', required: ['id'], properties: { id: recipientIdSchema } } as const;

type Row = RecipientRow;

function toResponse(r: Row) {
  return { id: r.id, ...recipientFields(r), updated_at: r.updatedAt.toISOString() };
}

export const recipientRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.put(
    '/recipients/:id',
    {
      schema: {
        summary: "Create or replace a recipient's contact profile",
        tags: ['recipients'],
        security: [{ bearer: [] }],
        params,
        body: recipientBodySchema,
        response: { 200: recipientSchema, ...problems(...BODY_PROBLEMS) },
      },
    },
    async (request) => {
      const b = request.body;
      const values = {
        email: b.email ?? null,
        phone: b.phone ?? null,
        pushTokens: b.push_tokens ?? [],
        locale: b.locale ?? null,
        timezone: b.timezone ?? null,
        telegramChatId: b.telegram_chat_id ?? null,
        slackWebhookUrl: b.slack_webhook_url ?? null,
        discordWebhookUrl: b.discord_webhook_url ?? null,
        updatedAt: new Date(),
      };
      const { tenantId } = request;
      const row = await inTenant(ctx.db, tenantId, (db) => saveRecipient(db, tenantId, request.params.id, values));
      return toResponse(row);
    },
  );

  app.delete(
    '/recipients/:id',
    {
      schema: {
        summary:
          "Delete a recipient's data: profile, preferences, in-app messages; open notifications send it nothing more",
        tags: ['recipients'],
        security: [{ bearer: [] }],
        params,
        response: {
          200: {
            type: 'object',
            required: ['recipient_id', 'deleted', 'pending_notifications'],
            properties: {
              recipient_id: { type: 'string' },
              deleted: {
                type: 'object',
                required: ['profile', 'preferences', 'inbox_messages'],
                properties: {
                  profile: { type: 'boolean' },
                  preferences: { type: 'boolean' },
                  inbox_messages: { type: 'integer' },
                },
              },
              pending_notifications: {
                type: 'integer',
                description: 'Open notifications that will send this recipient nothing more',
              },
              pending_broadcasts: {
                type: 'integer',
                description: 'Broadcasts still sending that left this recipient out of what they have not sent',
              },
            },
          },
          ...problems(400, 401, 404),
        },
      },
    },
    async (request) => {
      const id = request.params.id;
      const forgotten = await forgetRecipient(ctx, request.tenantId, id, request.caller.keyId);
      const found =
        forgotten.profile ||
        forgotten.preferences ||
        forgotten.inboxMessages > 0 ||
        forgotten.pendingNotifications > 0 ||
        forgotten.pendingBroadcasts > 0;
      if (!found) throw notFound(`No recipient ${id}`);
      await recordAudit(ctx.db, request, 'recipient.deleted', undefined, id);
      request.log.info({ pending_notifications: forgotten.pendingNotifications }, 'recipient deleted');
      return {
        recipient_id: id,
        deleted: {
          profile: forgotten.profile,
          preferences: forgotten.preferences,
          inbox_messages: forgotten.inboxMessages,
        },
        pending_notifications: forgotten.pendingNotifications,
        pending_broadcasts: forgotten.pendingBroadcasts,
      };
    },
  );

  app.get(
    '/recipients/:id',
    {
      schema: {
        summary: "A recipient's contact profile",
        tags: ['recipients'],
        security: [{ bearer: [] }],
        params,
        response: { 200: recipientSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const row = await inTenant(ctx.db, tenantId, (db) => findRecipient(db, tenantId, request.params.id));
      if (!row) throw notFound(`No recipient ${request.params.id}`);
      return toResponse(row);
    },
  );
};
