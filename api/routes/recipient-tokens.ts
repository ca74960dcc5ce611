import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { durationMs } from '../../domain/orchestration';
import type { ApiContext } from '../context';
import { Problem } from '../problems';
import { DEFAULT_TOKEN_TTL_MS, issueRecipientToken, MAX_TOKEN_TTL_MS } from '../recipient-tokens';
import { BODY_PROBLEMS, durationSchema, OPTIONAL_BODY, problems, recipientIdSchema } from '../schemas';

/**
 * Recipient tokens: an app's backend asks for one and hands it to the recipient's browser, which then
 * reads and changes that recipient's inbox, and nothing else, without the tenant's key.
 */
export const recipientTokenRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.post(
    '/recipients/:id/tokens',
    {
      // The body is optional: none asks for the default lifetime.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        summary: "A short-lived token that opens this recipient's inbox, for a browser",
        tags: ['inbox'],
        security: [{ bearer: [] }],
        [OPTIONAL_BODY]: true,
        params: { type: 'object', required: ['id'], properties: { id: recipientIdSchema } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { ttl: durationSchema('How long it opens the inbox: up to 24h; 1h when absent') },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'expires_at'],
            properties: {
              token: { type: 'string', description: 'Send as `Authorization: Bearer <token>`' },
              expires_at: { type: 'string', format: 'date-time' },
            },
          },
          ...problems(...BODY_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const ttl = request.body.ttl;
      const ttlMs = ttl === undefined ? DEFAULT_TOKEN_TTL_MS : durationMs(ttl);
      if (ttlMs < 1000 || ttlMs > MAX_TOKEN_TTL_MS)
        throw new Problem(422, 'Token lifetime', `ttl is ${ttl}: give 1s to 24h, e.g. 1h`, 'ttl');
      const { token, expiresAt } = issueRecipientToken(
        await ctx.linkSecret(),
        request.tenantId,
        request.params.id,
        ttlMs,
      );
      return reply.code(201).send({ token, expires_at: expiresAt.toISOString() });
    },
  );
};
