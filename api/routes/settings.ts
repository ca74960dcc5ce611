import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { findTemplateSettings, findWebhookEndpoint, saveTemplateSettings, saveWebhookEndpoint } from '../../db/tenants';
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

  app.get(
    '/settings/templates',
    {
      schema: {
        summary: "How the tenant's templates render: the default locale, and whether links count clicks",
        tags: ['settings'],
        security: [{ bearer: [] }],
        response: { 200: templateSettingsSchema, ...problems(401) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      return templateSettingsOf(await inTenant(ctx.db, tenantId, (db) => findTemplateSettings(db, tenantId)));
    },
  );

  app.put(
    '/settings/templates',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Set the tenant's default locale for templates, or turn click tracking off or on",
        tags: ['settings'],
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: templateSettingsSchema.properties,
        },
        response: { 200: templateSettingsSchema, ...problems(...BODY_PROBLEMS) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const { default_locale: defaultLocale, click_tracking: clickTracking } = request.body;
      const saved = await inTenant(ctx.db, tenantId, async (db) => {
        await saveTemplateSettings(db, tenantId, { defaultLocale, clickTracking });
        return findTemplateSettings(db, tenantId);
      });
      return templateSettingsOf(saved);
    },
  );
};

const templateSettingsSchema = {
  type: 'object',
  required: ['click_tracking'],
  properties: {
    default_locale: {
      type: 'string',
      pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$',
      description: "Used when neither the recipient's locale nor its parents have a translation",
    },
    click_tracking: {
      type: 'boolean',
      description: "Links in templated messages go through Herald's signed redirect, which counts clicks",
    },
  },
} as const;

const templateSettingsOf = (s: { defaultLocale?: string; clickTracking: boolean }) => ({
  ...(s.defaultLocale ? { default_locale: s.defaultLocale } : {}),
  click_tracking: s.clickTracking,
});
