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

/** /healthz: the process answers. /readyz: it can do its job, with the database and Temporal reachable. */
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
        summary: 'Readiness: database and Temporal reachable',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            required: ['status', 'checks'],
            properties: { status: { type: 'string' }, checks: checksSchema },
          },
          503: {
            description: 'A dependency is unreachable; `checks` says which',
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
      const checks = {
        database: await check(() => ctx.db.execute(sql`select 1`)),
        temporal: await check(() => ctx.temporal.workflowService.getSystemInfo({})),
      };
      const ready = Object.values(checks).every((c) => c === 'ok');
      if (!ready) reply.code(503).type('application/problem+json');
      return ready
        ? { status: 'ready', checks }
        : { type: 'about:blank', title: 'Not ready', status: 503, detail: 'A dependency is unreachable', checks };
    },
  );
};
