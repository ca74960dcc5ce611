import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { Counter, Registry } from 'prom-client';
import { countDeliveriesByChannel } from '../../db/deliveries';
import { registry } from '../../observability/metrics';
import type { ApiContext } from '../context';
import { problems } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

interface ChannelCounts {
  sent: number;
  succeeded: number;
  failed: number;
}

const SUCCEEDED = new Set(['sent', 'delivered']);

const countsSchema = {
  type: 'object',
  properties: { sent: { type: 'integer' }, succeeded: { type: 'integer' }, failed: { type: 'integer' } },
} as const;

export const metricsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/metrics',
    {
      // Without a key this is the operators' scrape of the process; with one, the tenant's own counts.
      onRequest: async (request, reply) => {
        if (request.headers.authorization) await ctx.authenticate.call(app, request, reply);
      },
      schema: {
        summary: "Delivery counts for the caller's tenant: Prometheus text, or JSON when asked",
        description:
          "With an API key: the tenant's delivery counts. Without one: the process's operational metrics for Prometheus (HTTP, deliveries, latency, circuits; no ids or tenants).",
        tags: ['metrics'],
        // A key is optional: without one this is the operators' scrape.
        security: [{ bearer: [] }, {}],
        produces: ['text/plain', 'application/json'],
        response: {
          200: {
            type: ['object', 'string'],
            properties: {
              ...countsSchema.properties,
              by_channel: { type: 'object', additionalProperties: countsSchema },
            },
          },
          ...problems(401),
        },
      },
    },
    async (request, reply) => {
      if (!request.tenantId) return reply.type(registry.contentType).send(await registry.metrics());
      const { tenantId } = request;
      const rows = await inTenant(ctx.db, tenantId, (db) => countDeliveriesByChannel(db, tenantId));

      const byChannel: Record<string, ChannelCounts> = {};
      for (const { channel, status, n } of rows) {
        const c = (byChannel[channel] ??= { sent: 0, succeeded: 0, failed: 0 });
        if (SUCCEEDED.has(status)) c.succeeded += n;
        if (status === 'failed') c.failed += n;
        if (SUCCEEDED.has(status) || status === 'failed') c.sent += n;
      }

      if (request.headers.accept?.includes('application/json')) {
        const total = (k: keyof ChannelCounts) => Object.values(byChannel).reduce((sum, c) => sum + c[k], 0);
        return { sent: total('sent'), succeeded: total('succeeded'), failed: total('failed'), by_channel: byChannel };
      }
      const tenantRegistry = new Registry();
      const counters = {
        sent: new Counter({
          name: 'herald_notifications_sent_total',
          help: 'Deliveries attempted, by channel',
          labelNames: ['channel'],
          registers: [tenantRegistry],
        }),
        succeeded: new Counter({
          name: 'herald_notifications_succeeded_total',
          help: 'Deliveries a provider took, by channel',
          labelNames: ['channel'],
          registers: [tenantRegistry],
        }),
        failed: new Counter({
          name: 'herald_notifications_failed_total',
          help: 'Deliveries that failed for good, by channel',
          labelNames: ['channel'],
          registers: [tenantRegistry],
        }),
      };
      for (const [channel, c] of Object.entries(byChannel)) {
        for (const k of ['sent', 'succeeded', 'failed'] as const) counters[k].inc({ channel }, c[k]);
      }
      return reply.type(tenantRegistry.contentType).send(await tenantRegistry.metrics());
    },
  );
};
