import { sql } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { ApiContext } from '../context';
import { problemSchema } from '../schemas';

const checksSchema = {
  type: 'object',
  properties: { database: { type: 'string' }, temporal: { type: 'string' } },
} as const;

const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
    ]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * /healthz: the process answers. /readyz: it can accept, which needs the database only: what it accepts
 * while Temporal is away waits in the database and starts when Temporal is back. Temporal's state is
 * reported too (`degraded` when it is unreachable), so a load balancer keeps the API in while it is.
 */
export const healthRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        tags: ['operations'],
        response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the database reachable (Temporal reported)',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            required: ['status', 'checks'],
            properties: { status: { type: 'string', enum: ['ready', 'degraded'] }, checks: checksSchema },
          },
          503: {
            description: 'The database is unreachable; `checks` says why',
            content: {
              'application/problem+json': {
                schema: { ...problemSchema, properties: { ...problemSchema.properties, checks: checksSchema } },
              },
            },
          },
        },
      },
    },
    async (_request, reply) => {
      // Both at once: a probe answers within one timeout, not two.
      const [database, temporal] = await Promise.all([
        check(() => ctx.db.execute(sql`select 1`)),
        // A deadline ends the call's own retries too, so probes of an unreachable Temporal do not pile up.
        check(() =>
          ctx.temporal.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
            ctx.temporal.workflowService.getSystemInfo({}),
          ),
        ),
      ]);
      const checks = { database, temporal };
      if (checks.database === 'ok')
        return { status: checks.temporal === 'ok' ? ('ready' as const) : ('degraded' as const), checks };
      reply.code(503).type('application/problem+json');
      return { type: 'about:blank', title: 'Not ready', status: 503, detail: 'The database is unreachable', checks };
    },
  );
};
