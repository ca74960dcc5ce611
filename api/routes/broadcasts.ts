import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { WorkflowNotFoundError } from '@temporalio/client';
import { findBroadcast } from '../../db/broadcasts';
import { countDeliveriesByStatus } from '../../db/deliveries';
import {
  BROADCAST_STATUSES,
  broadcastWorkflowId,
  chunksOf,
  MAX_BROADCAST_RECIPIENTS,
  type BroadcastProgress,
  type BroadcastRequest,
  type BroadcastStatus,
} from '../../domain/broadcast';
import type { Channel } from '../../domain/channels';
import { DELIVERY_STATUSES } from '../../domain/notification';
import { notificationsAccepted } from '../../observability/metrics';
import { broadcastProgressQuery, cancelSignal } from '../../workflows/definitions';
import { recordAudit } from '../audit';
import type { ApiContext } from '../context';
import { idFromKey, sameRequestOr409 } from '../idempotency';
import { inlineContacts, rejectTooLong, requestHashOf, toMessage, withoutRepeats } from '../notification-request';
import { notFound } from '../problems';
import {
  BODY_PROBLEMS,
  idSchema,
  idempotencyHeadersSchema,
  notifyBodySchema,
  problems,
  recipientItemSchema,
} from '../schemas';
import { takeDailyQuota } from '../tenant-limits';
import { queryInTime } from './status';
import { inTenant } from '../../db/tenant-scope';

const fields = notifyBodySchema.properties;

const broadcastBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channels', 'message', 'recipients'],
  properties: {
    channels: fields.channels,
    message: fields.message,
    recipients: { type: 'array', minItems: 1, maxItems: MAX_BROADCAST_RECIPIENTS, items: recipientItemSchema },
    priority: { ...fields.priority, default: 'low' },
    category: fields.category,
    critical: fields.critical,
  },
} as const;

const broadcastSchema = {
  type: 'object',
  required: ['broadcast_id', 'status', 'recipients', 'chunks', 'deliveries', 'created_at'],
  properties: {
    broadcast_id: { type: 'string' },
    status: { type: 'string', enum: BROADCAST_STATUSES },
    priority: { type: 'string' },
    channels: { type: 'array', items: { type: 'string' } },
    category: { type: 'string' },
    recipients: { type: 'integer', description: 'Recipients in the request' },
    chunks: {
      type: 'object',
      required: ['total', 'completed', 'failed'],
      properties: {
        total: { type: 'integer' },
        completed: { type: 'integer' },
        failed: { type: 'integer', description: 'Chunks that could not be sent at all; the Temporal UI shows why' },
      },
    },
    deliveries: {
      type: 'object',
      description: 'Deliveries recorded so far, by status; one per recipient and channel when done',
      properties: Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, { type: 'integer' }])),
      additionalProperties: false,
    },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

const paramsSchema = {
  type: 'object',
  required: ['broadcast_id'],
  properties: { broadcast_id: idSchema },
} as const;

/** A message to up to 100,000 recipients in one request: stored in chunks, sent by child workflows. */
export const broadcastRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.post(
    '/broadcasts',
    {
      // 100,000 recipients with an address or two each.
      bodyLimit: 32 * 1024 * 1024,
      schema: {
        summary: 'Send one message to many recipients',
        description:
          'Up to 100,000 recipients, sent in chunks of 500 by child workflows. Preferences and quiet hours apply ' +
          'unless `critical`; each recipient gets one message per channel. Priority defaults to `low`.',
        tags: ['broadcasts'],
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        body: broadcastBodySchema,
        response: {
          202: {
            type: 'object',
            required: ['broadcast_id', 'status_url'],
            properties: { broadcast_id: { type: 'string' }, status_url: { type: 'string' } },
          },
          ...problems(...BODY_PROBLEMS, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { tenantId } = request;
      const idempotencyKey = request.headers['idempotency-key'];
      const requestHash = requestHashOf(body);
      // Its own namespace: a broadcast and a notification sent with one key are two things.
      const broadcastId = idempotencyKey ? idFromKey(tenantId, `broadcast\u0000${idempotencyKey}`) : randomUUID();
      const accepted = () =>
        reply.code(202).send({ broadcast_id: broadcastId, status_url: `/broadcasts/${broadcastId}` });
      const storedHash = async () => (await findBroadcast(ctx.db, tenantId, broadcastId))?.requestHash;
      if (idempotencyKey) {
        // Accepted before: its start is pending or made, by whichever dispatcher; nothing more to do.
        const seen = await storedHash();
        if (seen) return sameRequestOr409(seen, requestHash, accepted);
      }

      const channels = body.channels as Channel[];
      const message = toMessage(body.message);
      rejectTooLong(message, channels);
      const contacts = withoutRepeats(await inlineContacts(ctx.db, body.recipients), MAX_BROADCAST_RECIPIENTS);
      const chunks = chunksOf(contacts);
      const input: BroadcastRequest = {
        tenantId,
        broadcastId,
        channels,
        message,
        priority: body.priority ?? 'low',
        ...(body.category ? { category: body.category } : {}),
        ...(body.critical ? { critical: true } : {}),
        createdAt: new Date().toISOString(),
        chunkCount: chunks.length,
      };

      await takeDailyQuota(ctx.limits, request, reply, contacts.length);
      // Durable once committed: the 202 does not wait for Temporal, the dispatcher starts the workflow.
      const stored = await ctx.starts
        .acceptBroadcast({ input, recipients: chunks, requestHash, actor: request.caller.keyId })
        .catch(async (error: unknown) => {
          await ctx.limits.giveBackNotifications(request.caller, contacts.length);
          throw error;
        });
      if (!stored) {
        // The same key, a moment earlier, from another request.
        await ctx.limits.giveBackNotifications(request.caller, contacts.length);
        return sameRequestOr409((await storedHash()) ?? '', requestHash, accepted);
      }
      notificationsAccepted.inc({ priority: input.priority }, contacts.length);
      request.log.info(
        { broadcast_id: broadcastId, recipients: contacts.length, chunks: chunks.length },
        'broadcast accepted',
      );
      return accepted();
    },
  );

  app.get(
    '/broadcasts/:broadcast_id',
    {
      schema: {
        summary: "A broadcast's progress: chunks sent and deliveries by status",
        tags: ['broadcasts'],
        security: [{ bearer: [] }],
        params: paramsSchema,
        response: { 200: broadcastSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const id = request.params.broadcast_id;
      const row = await inTenant(ctx.db, tenantId, (db) => findBroadcast(db, tenantId, id));
      if (!row) throw notFound(`No broadcast ${id}`);
      // Once ended, the row has the final count; asking the closed workflow would replay its history.
      const live = row.status === 'accepted' ? await liveProgress(ctx, tenantId, id) : undefined;
      const counts = await inTenant(ctx.db, tenantId, (db) => countDeliveriesByStatus(db, tenantId, id));
      return {
        broadcast_id: id,
        status: (live?.status ?? row.status) as BroadcastStatus,
        priority: row.priority,
        channels: row.channels,
        category: row.category ?? undefined,
        recipients: row.recipientCount,
        chunks: {
          total: row.chunkCount,
          completed: live?.chunksCompleted ?? row.chunksCompleted,
          failed: live?.chunksFailed ?? row.chunksFailed,
        },
        deliveries: Object.fromEntries(counts.map((c) => [c.status, c.n])),
        created_at: row.createdAt.toISOString(),
      };
    },
  );

  app.post(
    '/broadcasts/:broadcast_id/cancel',
    {
      schema: {
        summary: 'Stop a broadcast: chunks not yet started are not sent; those sending finish',
        tags: ['broadcasts'],
        security: [{ bearer: [] }],
        params: paramsSchema,
        response: {
          202: { type: 'object', properties: { status_url: { type: 'string' } } },
          ...problems(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = request;
      const id = request.params.broadcast_id;
      if (!(await findBroadcast(ctx.db, tenantId, id))) throw notFound(`No broadcast ${id}`);
      const workflowId = broadcastWorkflowId(tenantId, id);
      const cancel = { by: request.caller.keyId };
      try {
        // Not started yet: it starts with the cancel in its history, so it sends nothing and ends at once.
        const pending = await ctx.starts.findPendingBroadcast(workflowId);
        if (pending) await ctx.starts.startWithSignal(pending, cancelSignal, [cancel]);
        else await ctx.temporal.workflow.getHandle(workflowId).signal(cancelSignal, cancel);
      } catch (error) {
        // A broadcast that has finished has nothing left to stop.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      await recordAudit(ctx.db, request, 'broadcast.cancelled', id);
      return reply.code(202).send({ status_url: `/broadcasts/${id}` });
    },
  );
};

/** The workflow's own count while it runs; undefined once it has closed or if no worker answered. */
async function liveProgress(ctx: ApiContext, tenantId: string, id: string): Promise<BroadcastProgress | undefined> {
  const handle = ctx.temporal.workflow.getHandle(broadcastWorkflowId(tenantId, id));
  try {
    return await queryInTime(ctx, handle, broadcastProgressQuery);
  } catch {
    return undefined;
  }
}
