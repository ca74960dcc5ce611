import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { ApiContext } from '../context';
import { Problem } from '../problems';
import type { RecipientCaller } from '../recipient-tokens';
import { problems } from '../schemas';

const EVENTS = `Server-Sent Events. \`counts\` first ({unread, unseen, total}); then, for every change to the inbox,
\`added\`, \`changed\` or \`deleted\` with {ids, messages (as they are now), counts}; \`reset\` when it cannot
resume from Last-Event-ID (reload the list). Every event has an id: a reconnect sends it as Last-Event-ID and
gets what it missed. \`: ping\` lines keep idle connections open.`;

/** A recipient's inbox, live: a browser opens it with its recipient token and hears every change as it happens. */
export const inboxStreamRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/inbox/stream',
    {
      config: { recipientToken: true, tokenInQuery: true },
      schema: {
        summary: "The token's recipient's inbox, live (Server-Sent Events)",
        description: EVENTS,
        tags: ['inbox'],
        security: [{ bearer: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            token: {
              type: 'string',
              maxLength: 2000,
              description: 'The recipient token, for EventSource, which cannot send an Authorization header',
            },
          },
        },
        response: {
          200: { description: EVENTS, content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...problems(400, 401, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const caller = request.caller as Partial<RecipientCaller>;
      if (caller.recipientId === undefined || caller.issuedAt === undefined || caller.expiresAt === undefined)
        throw new Problem(
          401,
          'Unauthorized',
          "The live inbox is a recipient's: open it with a recipient token (POST /recipients/:id/tokens), not an API key",
          'authorization',
        );
      if (!ctx.inboxStreams)
        throw new Problem(503, 'Live inbox unavailable', 'This API process has no database listener', 'path');
      const out = new PassThrough();
      reply.raw.once('close', () => out.destroy());
      const lastEventId = request.headers['last-event-id'];
      await ctx.inboxStreams.open(
        {
          tenantId: request.tenantId,
          recipientId: caller.recipientId,
          issuedAt: caller.issuedAt,
          expiresAt: caller.expiresAt,
        },
        Array.isArray(lastEventId) ? lastEventId[0] : lastEventId,
        out,
      );
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          // nginx passes each event on at once instead of buffering the answer.
          .header('x-accel-buffering', 'no')
          .send(out as never)
      );
    },
  );
};
