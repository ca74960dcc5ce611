import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { deleteEscalationPolicy, findEscalationPolicy, saveEscalationPolicy } from '../../db/escalation-policies';
import type { EscalationPolicy } from '../../domain/orchestration';
import type { ApiContext } from '../context';
import { toEscalationPolicy } from '../notification-request';
import { rejectOversizedPolicy } from '../plan-limits';
import { notFound } from '../problems';
import { BODY_PROBLEMS, escalationPolicySchema, NO_NUL, problems } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

const params = {
  type: 'object',
  required: ['category'],
  properties: {
    category: { type: 'string', minLength: 1, maxLength: 64, pattern: `^[^\\s/\\u0000-\\u001f\\u007f]+$` },
  },
} as const;

const storedPolicySchema = {
  type: 'object',
  required: ['category', 'steps', 'repeat'],
  properties: {
    category: { type: 'string', pattern: NO_NUL },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['after', 'channels', 'unless'],
        properties: {
          after: { type: 'string' },
          channels: { type: 'array', items: { type: 'string' } },
          unless: { type: 'string' },
        },
      },
    },
    repeat: { type: 'integer' },
    ack_timeout: { type: 'string' },
  },
} as const;

/** Escalation policies by category: `category: "oncall"` on a notification applies the "oncall" policy. */
export const escalationPolicyRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.put(
    '/escalation-policies/:category',
    {
      // Policies decide who gets paged: changed with the `admin` scope.
      config: { scope: 'admin' },
      schema: {
        summary: "Set the category's escalation policy; notifications of the category without their own use it",
        tags: ['escalation'],
        security: [{ bearer: [] }],
        params,
        body: escalationPolicySchema,
        response: { 200: storedPolicySchema, ...problems(...BODY_PROBLEMS, 422) },
      },
    },
    async (request) => {
      const policy = toEscalationPolicy(request.body);
      rejectOversizedPolicy(policy);
      await inTenant(ctx.db, request.tenantId, (db) =>
        saveEscalationPolicy(db, request.tenantId, request.params.category, policy),
      );
      return toResponse(request.params.category, policy);
    },
  );

  app.get(
    '/escalation-policies/:category',
    {
      schema: {
        summary: "The category's escalation policy",
        tags: ['escalation'],
        security: [{ bearer: [] }],
        params,
        response: { 200: storedPolicySchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { category } = request.params;
      const policy = await inTenant(ctx.db, request.tenantId, (db) =>
        findEscalationPolicy(db, request.tenantId, category),
      );
      if (!policy) throw notFound(`No escalation policy for the category ${category}`);
      return toResponse(category, policy);
    },
  );

  app.delete(
    '/escalation-policies/:category',
    {
      // Policies decide who gets paged: changed with the `admin` scope.
      config: { scope: 'admin' },
      schema: {
        summary: "Remove the category's escalation policy",
        tags: ['escalation'],
        security: [{ bearer: [] }],
        params,
        response: { 204: { type: 'null', description: 'Removed' }, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { category } = request.params;
      if (!(await inTenant(ctx.db, request.tenantId, (db) => deleteEscalationPolicy(db, request.tenantId, category))))
        throw notFound(`No escalation policy for the category ${category}`);
      return reply.code(204).send(null);
    },
  );
};

function toResponse(category: string, policy: EscalationPolicy) {
  return {
    category,
    steps: policy.steps.map((s) => ({ after: duration(s.afterMs), channels: s.channels, unless: s.unless })),
    repeat: policy.repeat,
    ack_timeout: policy.ackTimeoutMs === undefined ? undefined : duration(policy.ackTimeoutMs),
  };
}

/** The largest whole unit: 300000 → `5m`. */
function duration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0 && ms >= size) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
