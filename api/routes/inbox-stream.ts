import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from '../context';
import { EventStreamSink } from '../inbox-event-stream-sink';
import type { InboxStreams, LiveStream, StreamCaller } from '../inbox-streams';
import { WebSocketSink } from '../inbox-websocket-sink';
import { Problem } from '../problems';
import type { RecipientCaller } from '../recipient-tokens';
import { problems } from '../schemas';

const EVENTS = `Server-Sent Events. \`counts\` first ({unread, unseen, total}); then, for every change to the inbox,
\`added\`, \`changed\` or \`deleted\` with {ids, messages (as they are now), counts}; \`reset\` when it cannot
resume from Last-Event-ID (reload the list). Every event has an id: a reconnect sends it as Last-Event-ID and
gets what it missed. \`: ping\` lines keep idle connections open.`;

const WEBSOCKET = `A WebSocket upgrade of this URL is accepted too, refused before the upgrade with these same
answers: each event is a text frame of JSON {id, event, data} (data as above), ping frames keep it open, and
a reconnect resumes with ?last_event_id=.`;

/** Last-Event-ID as EventSource sends it on a reconnect, else `?last_event_id=` (a browser's WebSocket sends no headers). */
function lastEventId(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id'];
  return (Array.isArray(header) ? header[0] : header) ?? (request.query as { last_event_id?: string }).last_event_id;
}

/** A recipient's inbox, live: a browser opens it with its recipient token and hears every change as it happens. */
export const inboxStreamRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  /** A WebSocket's stream, counted before its upgrade (so a refusal is an HTTP answer) and opened after it. */
  const admitted = new WeakMap<FastifyRequest, LiveStream>();

  /** The hub and whose inbox it is, or the problem that refuses the request. */
  function liveInbox(request: FastifyRequest): { hub: InboxStreams; caller: StreamCaller } {
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
    const { recipientId, issuedAt, expiresAt } = caller;
    return { hub: ctx.inboxStreams, caller: { tenantId: request.tenantId, recipientId, issuedAt, expiresAt } };
  }

  app.route({
    method: 'GET',
    url: '/inbox/stream',
    config: { recipientToken: true, tokenInQuery: true },
    schema: {
      summary: "The token's recipient's inbox, live (Server-Sent Events)",
      description: `${EVENTS}\n\n${WEBSOCKET}`,
      tags: ['inbox'],
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          token: {
            type: 'string',
            maxLength: 2000,
            description:
              'The recipient token, for EventSource and WebSocket, which cannot send an Authorization header',
          },
          last_event_id: {
            type: 'string',
            maxLength: 100,
            description: 'The last event id seen, as Last-Event-ID (which wins when both are sent): for a WebSocket',
          },
        },
      },
      response: {
        200: { description: EVENTS, content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...problems(400, 401, 429, 431, 503),
      },
    },
    // A WebSocket is checked and counted here, while a refusal can still be an HTTP answer: the handler upgrades.
    preHandler: async (request) => {
      if (!request.ws) return;
      const { hub, caller } = liveInbox(request);
      const stream = hub.admit(caller);
      admitted.set(request, stream);
      // An upgrade that never completes (the client went, or its handshake was bad) lets the count go; so
      // does one whose client went during the checks before this, whose close has passed (release is once).
      const socket = request.raw.socket;
      socket.once('close', () => hub.release(stream));
      if (socket.destroyed) hub.release(stream);
    },
    handler: async (request, reply) => {
      const { hub, caller } = liveInbox(request);
      const sink = new EventStreamSink();
      reply.raw.once('close', () => sink.body.destroy());
      await hub.open(hub.admit(caller), lastEventId(request), sink);
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          // nginx passes each event on at once instead of buffering the answer.
          .header('x-accel-buffering', 'no')
          .send(sink.body as never)
      );
    },
    wsHandler: async (socket, request) => {
      // A hijacked request is never answered, so its span ends with the socket instead.
      socket.once('close', (code) => {
        request.span?.setAttribute('websocket.close_code', code);
        request.span?.end();
      });
      const stream = admitted.get(request);
      if (!stream || !ctx.inboxStreams) return void socket.close(1011, 'This request was not admitted');
      try {
        await ctx.inboxStreams.open(stream, lastEventId(request), new WebSocketSink(socket));
      } catch (error) {
        // The sink is closed (1011) already: the client reconnects and resumes.
        request.log.warn({ err: error }, 'a live inbox over WebSocket could not open');
      }
    },
  });
};
