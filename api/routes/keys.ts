import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyRequest } from 'fastify';
import { recordAudit, type Actor } from '../audit';
import type { ApiContext } from '../context';
import { notFound, Problem } from '../problems';
import { BODY_PROBLEMS, NO_NUL, problems } from '../schemas';
import { listKeys, revokeKey } from '../../db/api-keys';
import { issueKey, SCOPES, type Caller, type IssuedKey } from '../tenants';
import { inTenant } from '../../db/tenant-scope';

export const keyIdSchema = {
  type: 'string',
  pattern: '^hk_[0-9a-f]{10}$',
  description: 'A key id, e.g. `hk_0a1b2c3d4e`',
} as const;

export const newKeyBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128, pattern: NO_NUL, default: 'default' },
    scopes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: SCOPES },
      default: ['send', 'read'],
      description: '`send`: notify and act; `read`: status and lists; `admin`: keys and settings',
    },
  },
} as const;

const keyFields = {
  id: keyIdSchema,
  name: { type: 'string' },
  scopes: { type: 'array', items: { type: 'string', enum: SCOPES } },
  created_at: { type: 'string', format: 'date-time' },
} as const;

export const issuedKeySchema = {
  type: 'object',
  required: ['id', 'key', 'name', 'scopes', 'created_at'],
  properties: { ...keyFields, key: { type: 'string', description: 'The key: shown in this answer only' } },
} as const;

const keyListSchema = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'scopes', 'created_at'],
        properties: { ...keyFields, revoked_at: { type: 'string', format: 'date-time' } },
      },
    },
  },
} as const;

export const issuedKeyResponse = (k: IssuedKey) => ({
  id: k.id,
  key: k.key,
  name: k.name,
  scopes: k.scopes,
  created_at: k.createdAt.toISOString(),
});

export interface KeyRouteOptions extends ApiContext {
  /** The tenant whose keys the request manages, or a 404 when there is no such tenant. */
  tenantOf: (request: FastifyRequest) => Promise<string>;
  /** Who the audit log names for the request. */
  actorOf: (request: FastifyRequest, tenantId: string) => Actor;
  security: Record<string, string[]>[];
  params?: { type: 'object'; required: readonly string[]; properties: Record<string, unknown> };
}

/** Issue, list and revoke a tenant's API keys: its own (`/keys`, `admin` scope) or any (`/admin/tenants/:id/keys`). */
export const keyRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: KeyRouteOptions }> = async (app, options) => {
  const { tenantOf, actorOf, security } = options;
  // A tenant's own key manages keys with the `admin` scope; the admin token needs none.
  const config = { scope: 'admin' as const };
  const params = options.params;
  const keyParams = {
    type: 'object',
    required: [...(params?.required ?? []), 'key_id'],
    properties: { ...params?.properties, key_id: keyIdSchema },
  } as const;

  app.post(
    '/keys',
    {
      config,
      schema: {
        summary: 'Issue an API key; the key is in this answer only',
        tags: ['keys'],
        security,
        ...(params ? { params } : {}),
        body: newKeyBodySchema,
        response: { 201: issuedKeySchema, ...problems(...BODY_PROBLEMS, 404) },
      },
    },
    async (request, reply) => {
      const tenantId = await tenantOf(request);
      const body = request.body ?? {};
      const issued = await issueKey(options.db, tenantId, body.name ?? 'default', [
        ...(body.scopes ?? ['send', 'read']),
      ]);
      await recordAudit(options.db, actorOf(request, tenantId), 'key.created', undefined, issued.id);
      return reply.code(201).send(issuedKeyResponse(issued));
    },
  );

  app.get(
    '/keys',
    {
      config,
      schema: {
        summary: "The tenant's API keys, revoked ones included; never the keys themselves",
        tags: ['keys'],
        security,
        ...(params ? { params } : {}),
        response: { 200: keyListSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const tenantId = await tenantOf(request);
      const rows = await inTenant(options.db, tenantId, (db) => listKeys(db, tenantId));
      return {
        keys: rows.map((k) => ({
          id: k.id,
          name: k.name,
          scopes: k.scopes,
          created_at: k.createdAt.toISOString(),
          revoked_at: k.revokedAt?.toISOString(),
        })),
      };
    },
  );

  app.delete(
    '/keys/:key_id',
    {
      config,
      schema: {
        summary: 'Revoke an API key: it stops working at once on this instance, within seconds on the others',
        tags: ['keys'],
        security,
        params: keyParams,
        response: { 204: { type: 'null', description: 'Revoked' }, ...problems(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const tenantId = await tenantOf(request);
      const keyId = (request.params as { key_id: string }).key_id;
      // The admin token has no key; a key revoking itself would lock its caller out mid-request.
      if ((request.caller as Caller | undefined)?.keyId === keyId)
        throw new Problem(409, 'Cannot revoke the key in use', 'Revoke this key with another admin key', 'key_id');
      if (!(await revokeKey(options.db, tenantId, keyId))) throw notFound(`No key ${keyId}`);
      options.forgetKeys();
      await recordAudit(options.db, actorOf(request, tenantId), 'key.revoked', undefined, keyId);
      return reply.code(204).send(null);
    },
  );
};
