import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { findTenant, insertTenant, listTenants, updateTenant, type TenantRow } from '../../db/tenants';
import { recordAudit } from '../audit';
import type { ApiContext } from '../context';
import { notFound, Problem } from '../problems';
import { BODY_PROBLEMS, NO_NUL, problems } from '../schemas';
import { issueKey } from '../tenants';
import { issuedKeyResponse, issuedKeySchema, keyRoutes } from './keys';

export const tenantIdSchema = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description: 'Lower-case letters, digits, `_` and `-`',
} as const;

const limitFields = {
  rate_per_second: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: 100_000,
    description: 'Requests per second; null for the default',
  },
  burst: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: 1_000_000,
    description: 'Requests above the rate allowed at once; null for the default',
  },
  daily_quota: {
    type: ['integer', 'null'],
    minimum: 0,
    maximum: 1_000_000_000,
    description: 'Notifications per UTC day, 0 for none; null for the default',
  },
} as const;

const tenantSchema = {
  type: 'object',
  required: ['id', 'name', 'rate_per_second', 'burst', 'daily_quota', 'created_at'],
  properties: {
    id: tenantIdSchema,
    name: { type: 'string' },
    ...limitFields,
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

const tenantParams = { type: 'object', required: ['tenant_id'], properties: { tenant_id: tenantIdSchema } } as const;
const security = [{ admin: [] }];

const toResponse = (t: TenantRow) => ({
  id: t.id,
  name: t.name,
  rate_per_second: t.ratePerSecond,
  burst: t.burst,
  daily_quota: t.dailyQuota,
  created_at: t.createdAt.toISOString(),
});

/** The operator's API, behind HERALD_ADMIN_TOKEN: tenants, their limits and their keys. */
export const adminRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  const tenantRow = async (id: string) => {
    const row = await findTenant(ctx.db, id);
    if (!row) throw notFound(`No tenant ${id}`);
    return row;
  };

  app.post(
    '/tenants',
    {
      schema: {
        summary: 'Create a tenant and its first API key (scopes send, read and admin); the key is shown once',
        tags: ['admin'],
        security,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: {
            id: tenantIdSchema,
            name: { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL },
            ...limitFields,
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['tenant', 'api_key'],
            properties: { tenant: tenantSchema, api_key: issuedKeySchema },
          },
          ...problems(...BODY_PROBLEMS, 409),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const row = await insertTenant(ctx.db, {
        id: b.id,
        name: b.name ?? b.id,
        ratePerSecond: b.rate_per_second ?? null,
        burst: b.burst ?? null,
        dailyQuota: b.daily_quota ?? null,
      });
      if (!row) throw new Problem(409, 'Tenant exists', `There is already a tenant ${b.id}`, 'id');
      const key = await issueKey(ctx.db, row.id, 'default', ['send', 'read', 'admin']);
      await recordAudit(ctx.db, { tenantId: row.id, actor: 'admin' }, 'key.created', undefined, key.id);
      return reply.code(201).send({ tenant: toResponse(row), api_key: issuedKeyResponse(key) });
    },
  );

  app.get(
    '/tenants',
    {
      schema: {
        summary: 'Every tenant',
        tags: ['admin'],
        security,
        response: {
          200: {
            type: 'object',
            required: ['tenants'],
            properties: { tenants: { type: 'array', items: tenantSchema } },
          },
          ...problems(401),
        },
      },
    },
    async () => ({ tenants: (await listTenants(ctx.db)).map(toResponse) }),
  );

  app.get(
    '/tenants/:tenant_id',
    {
      schema: {
        summary: 'One tenant and its limits',
        tags: ['admin'],
        security,
        params: tenantParams,
        response: { 200: tenantSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => toResponse(await tenantRow(request.params.tenant_id)),
  );

  app.patch(
    '/tenants/:tenant_id',
    {
      schema: {
        summary: 'Rename a tenant or change its limits; null puts a limit back to the default',
        tags: ['admin'],
        security,
        params: tenantParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL }, ...limitFields },
        },
        response: { 200: tenantSchema, ...problems(...BODY_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const b = request.body;
      const row = await updateTenant(ctx.db, request.params.tenant_id, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.rate_per_second !== undefined ? { ratePerSecond: b.rate_per_second } : {}),
        ...(b.burst !== undefined ? { burst: b.burst } : {}),
        ...(b.daily_quota !== undefined ? { dailyQuota: b.daily_quota } : {}),
      });
      if (!row) throw notFound(`No tenant ${request.params.tenant_id}`);
      ctx.forgetKeys();
      return toResponse(row);
    },
  );

  await app.register(keyRoutes, {
    ...ctx,
    prefix: '/tenants/:tenant_id',
    params: tenantParams,
    security,
    tenantOf: async (request) => (await tenantRow((request.params as { tenant_id: string }).tenant_id)).id,
    actorOf: (_request, tenantId) => ({ tenantId, actor: 'admin' }),
  });
};
