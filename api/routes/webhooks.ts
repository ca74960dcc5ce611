import { and, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Database } from '../../db/connect';
import { deliveries, notifications } from '../../db/schema';
import { overallStatus, receiptOutcome, type Delivery, type Receipt } from '../../domain/notification';
import { verifyReceiptSignature } from '../../domain/webhook-signature';
import { acceptToDelivered, receiptsReceived, secondsSince } from '../../observability/metrics';
import { notificationWorkflowId, receiptSignal } from '../../workflows/definitions';
import type { ApiContext } from '../context';
import { notFound, Problem } from '../problems';
import { problemSchema, receiptBodySchema } from '../schemas';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

export const webhookRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  // The signature covers the exact bytes sent, so this plugin keeps them beside the parsed body.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.post(
    '/webhook/callback',
    {
      preValidation: async (request) => {
        const valid =
          ctx.webhookSecret !== undefined &&
          verifyReceiptSignature(
            ctx.webhookSecret,
            request.headers['x-herald-timestamp'] as string | undefined,
            request.headers['x-herald-signature'] as string | undefined,
            request.rawBody ?? Buffer.alloc(0),
          );
        if (!valid)
          throw new Problem(
            401,
            'Bad signature',
            'X-Herald-Signature does not match the body and X-Herald-Timestamp',
            'x-herald-signature',
          );
      },
      schema: {
        summary: 'A signed delivery receipt from a provider',
        description:
          'Sign `<timestamp>.<raw body>` with HMAC-SHA256 under the webhook secret; send `X-Herald-Timestamp: <unix seconds>` and `X-Herald-Signature: sha256=<hex>`.',
        tags: ['webhooks'],
        body: receiptBodySchema,
        response: {
          202: { type: 'object', properties: { notification_id: { type: 'string' } } },
          '4xx': problemSchema,
        },
      },
    },
    async (request, reply) => {
      const receipt: Receipt = {
        providerMessageId: request.body.provider_message_id,
        status: request.body.status,
        error: request.body.error,
      };
      const [delivery] = await ctx.db
        .select({
          tenantId: deliveries.tenantId,
          notificationId: deliveries.notificationId,
          channel: deliveries.channel,
          priority: notifications.priority,
          createdAt: notifications.createdAt,
        })
        .from(deliveries)
        .innerJoin(
          notifications,
          and(eq(notifications.tenantId, deliveries.tenantId), eq(notifications.id, deliveries.notificationId)),
        )
        .where(eq(deliveries.providerMessageId, receipt.providerMessageId));
      if (!delivery) throw notFound(`No delivery has provider_message_id ${receipt.providerMessageId}`);

      const handle = ctx.temporal.workflow.getHandle(
        notificationWorkflowId(delivery.tenantId, delivery.notificationId),
      );
      try {
        await handle.signal(receiptSignal, receipt);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        // The workflow has closed: a late receipt (a bounce days later) still updates the record.
        await applyLateReceipt(ctx.db, delivery.tenantId, delivery.notificationId, receipt);
      }
      receiptsReceived.inc({ status: receipt.status });
      if (receipt.status === 'delivered') {
        acceptToDelivered.observe(
          { channel: delivery.channel, priority: delivery.priority },
          secondsSince(delivery.createdAt),
        );
      }
      return reply.code(202).send({ notification_id: delivery.notificationId });
    },
  );
};

async function applyLateReceipt(
  db: Database,
  tenantId: string,
  notificationId: string,
  receipt: Receipt,
): Promise<void> {
  const outcome = receiptOutcome(receipt);
  await db.transaction(async (tx) => {
    await tx
      .update(deliveries)
      .set({ ...outcome, error: outcome.error ?? null, updatedAt: new Date() })
      .where(eq(deliveries.providerMessageId, receipt.providerMessageId));
    const rows = await tx
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.notificationId, notificationId)));
    await tx
      .update(notifications)
      .set({ status: overallStatus(rows as Pick<Delivery, 'status'>[]), updatedAt: new Date() })
      .where(and(eq(notifications.tenantId, tenantId), eq(notifications.id, notificationId)));
  });
}
