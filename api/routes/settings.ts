import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { findWebhookEndpoint, saveWebhookEndpoint } from '../../db/tenants';
import type { ApiContext } from '../context';
import { requirePublicUrl } from '../public-url';
import { notFound } from '../problems';
import { BODY_PROBLEMS, problems } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

const endpointSchema = {
  type: 'object',
  required: ['url', 'secret'],
  properties: {
    url: { type: 'string' },
    secret: { type: 'string', description: 'Standard Webhooks secret (`whsec_…`) that signs every POST' },
  },
} as const;

/** The tenant's webhook endpoint: where the `webhook` channel POSTs, signed per Standard Webhooks. */
export const settingsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.put(
    '/settings/webhook',
    {
      // The endpoint's secret signs what tenants trust: it is the tenant's admins' to see and change.
      config: { scope: 'admin' },
      schema: {
        summary: "Set the tenant's webhook endpoint; the signing secret is kept unless rotated",
        tags: ['settings'],
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', format: 'uri', pattern: '^https?://[^\\u0000]*$', maxLength: 2048 },
            rotate_secret: { type: 'boolean', default: false },
          },
        },
        response: { 200: endpointSchema, ...problems(...BODY_PROBLEMS, 422) },
      },
    },
    async (request) => {
      if (!ctx.webhookAllowPrivate) await requirePublicUrl(request.body.url, 'url');
      const { tenantId } = request;
      const secret = await inTenant(ctx.db, tenantId, async (db) => {
        const current = await findWebhookEndpoint(db, tenantId);
        const kept = current?.secret && !request.body.rotate_secret ? current.secret : undefined;
        const endpoint = { url: request.body.url, secret: kept ?? `whsec_${randomBytes(24).toString('base64')}` };
        await saveWebhookEndpoint(db, tenantId, endpoint);
        return endpoint.secret;
      });
      return { url: request.body.url, secret };
    },
  );

  app.get(
    '/settings/webhook',
    {
      // The endpoint's secret signs what tenants trust: it is the tenant's admins' to see and change.
      config: { scope: 'admin' },
      schema: {
        summary: "The tenant's webhook endpoint and its signing secret",
        tags: ['settings'],
        security: [{ bearer: [] }],
        response: { 200: endpointSchema, ...problems(401, 404) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const row = await inTenant(ctx.db, tenantId, (db) => findWebhookEndpoint(db, tenantId));
      if (!row?.url || !row.secret) throw notFound('No webhook endpoint: PUT /settings/webhook sets one');
      return { url: row.url, secret: row.secret };
    },
  );
};
