import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyRequest } from 'fastify';
import type { Receipt } from '../../domain/notification';
import { SIGNATURE_TOLERANCE_SECONDS, verifyReceiptSignature } from '../../domain/webhook-signature';
import type { Database } from '../../db/connect';
import { releaseSignature, takeSignature } from '../../db/seen-webhooks';
import type { ApiContext } from '../context';
import { parseJsonBody } from '../json-body';
import { Problem } from '../problems';
import { deliverReceipt } from '../receipts/deliver-receipt';
import { sendGridReceipt, verifySendGridSignature, type SendGridEvent } from '../receipts/sendgrid';
import { twilioReceipt, verifyTwilioSignature } from '../receipts/twilio';
import { BODY_PROBLEMS, NO_NUL, problems, receiptBodySchema } from '../schemas';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

/** How each webhook is signed, for the OpenAPI document: every one is refused with 401 unless it verifies. */
export const webhookSecuritySchemes = {
  heraldSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Herald-Signature',
    description:
      '`sha256=` + hex HMAC-SHA256 of `<X-Herald-Timestamp>.<raw body>` under HERALD_WEBHOOK_SECRET; compared in constant time.',
  },
  heraldTimestamp: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Herald-Timestamp',
    description: 'Unix seconds when the receipt was signed; more than 5 minutes away from now is refused.',
  },
  twilioSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Twilio-Signature',
    description:
      "Twilio's base64 HMAC-SHA1 under TWILIO_AUTH_TOKEN of HERALD_PUBLIC_URL + path + the form fields sorted by name.",
  },
  sendgridSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Twilio-Email-Event-Webhook-Signature',
    description:
      "SendGrid's base64 ECDSA (P-256, SHA-256) signature of `<timestamp><raw body>`, checked with SENDGRID_WEBHOOK_PUBLIC_KEY.",
  },
  sendgridTimestamp: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Twilio-Email-Event-Webhook-Timestamp',
    description: 'Unix seconds; more than 5 minutes away from now is refused.',
  },
} as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** A timestamped signature this request took: given back unless the request is taken. */
    takenSignature?: string;
  }
}

/**
 * A preValidation hook: 401 naming the signature header unless the request verifies. A timestamped
 * signature is taken by one request only: a replay, or a copy sent beside the first, is refused too,
 * and the timestamp refuses it once it is old.
 */
function requireSignature(
  db: Database,
  header: string,
  verifies: (request: FastifyRequest, value: string | undefined) => boolean,
  options: { timestamped: boolean },
) {
  const field = header.toLowerCase();
  return async (request: FastifyRequest) => {
    const signature = request.headers[field] as string | undefined;
    if (!verifies(request, signature))
      throw new Problem(401, 'Bad signature', `${header} does not match the request`, field);
    if (!options.timestamped) return;
    const taken = `${field}:${signature}`;
    if (!(await takeSignature(db, taken, 2 * SIGNATURE_TOLERANCE_SECONDS)))
      throw new Problem(401, 'Replayed', `This ${header} was already received: a request is taken once`, field);
    request.takenSignature = taken;
  };
}

const raw = (request: FastifyRequest) => request.rawBody ?? Buffer.alloc(0);

export const webhookRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  // Signatures cover the exact bytes sent, so this plugin keeps them beside the parsed body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    try {
      done(null, parseJsonBody(body.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
  });

  // A request not taken gives its signature back before the sender hears so: a receipt that failed
  // (Temporal away, a 5xx) is sent again with the same signature, and that retry is taken.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.takenSignature && reply.statusCode >= 300) {
      try {
        await releaseSignature(ctx.db, request.takenSignature);
      } catch (error) {
        request.log.error(
          { err: error },
          'webhook signature not given back: a retry of this request is refused as a replay until its timestamp expires',
        );
      }
    }
    return payload;
  });

  const receive = (receipt: Receipt, log: Parameters<typeof deliverReceipt>[3]) =>
    deliverReceipt(ctx.db, ctx.temporal, receipt, log);

  app.post(
    '/webhook/callback',
    {
      preValidation: requireSignature(
        ctx.db,
        'X-Herald-Signature',
        (request, signature) =>
          ctx.webhookSecret !== undefined &&
          verifyReceiptSignature(
            ctx.webhookSecret,
            request.headers['x-herald-timestamp'] as string | undefined,
            signature,
            raw(request),
          ),
        { timestamped: true },
      ),
      schema: {
        summary: 'A signed delivery receipt from any provider',
        description:
          'Sign `<timestamp>.<raw body>` with HMAC-SHA256 under the webhook secret; send `X-Herald-Timestamp: <unix seconds>` and `X-Herald-Signature: sha256=<hex>`. A receipt for an unknown message is acknowledged with `matched: false`.',
        tags: ['webhooks'],
        security: [{ heraldSignature: [], heraldTimestamp: [] }],
        body: receiptBodySchema,
        response: {
          202: {
            type: 'object',
            required: ['matched'],
            properties: { matched: { type: 'boolean' }, notification_id: { type: 'string' } },
          },
          ...problems(...BODY_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const notificationId = await receive(
        { providerMessageId: request.body.provider_message_id, status: request.body.status, error: request.body.error },
        request.log,
      );
      return reply.code(202).send({ matched: notificationId !== undefined, notification_id: notificationId });
    },
  );

  app.post(
    '/webhook/twilio',
    {
      // Twilio signs no timestamp: a replayed callback can only repeat a status, and statuses only move forward.
      preValidation: requireSignature(
        ctx.db,
        'X-Twilio-Signature',
        (request, signature) =>
          verifyTwilioSignature(
            ctx.twilioAuthToken,
            signature,
            `${ctx.publicUrl}${request.url}`,
            (request.body ?? {}) as Record<string, string>,
          ),
        { timestamped: false },
      ),
      schema: {
        summary: "Twilio's status callbacks for messages and calls",
        description:
          'Form-encoded, signed with `X-Twilio-Signature` under TWILIO_AUTH_TOKEN over HERALD_PUBLIC_URL + the path. Herald sets this URL as the StatusCallback of every SMS and call.',
        tags: ['webhooks'],
        security: [{ twilioSignature: [] }],
        consumes: ['application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          properties: {
            MessageSid: { type: 'string', maxLength: 64, pattern: NO_NUL },
            MessageStatus: { type: 'string', maxLength: 32, pattern: NO_NUL },
            CallSid: { type: 'string', maxLength: 64, pattern: NO_NUL },
            CallStatus: { type: 'string', maxLength: 32, pattern: NO_NUL },
            ErrorCode: { type: 'string', maxLength: 16, pattern: NO_NUL },
          },
        },
        response: { 204: { type: 'null', description: 'Taken' }, ...problems(...BODY_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const receipt = twilioReceipt(request.body as Record<string, string>);
      if (receipt) await receive(receipt, request.log);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhook/sendgrid',
    {
      // SendGrid batches many events into one POST.
      bodyLimit: 4 * 1024 * 1024,
      preValidation: requireSignature(
        ctx.db,
        'X-Twilio-Email-Event-Webhook-Signature',
        (request, signature) =>
          verifySendGridSignature(
            ctx.sendgridWebhookPublicKey,
            signature,
            request.headers['x-twilio-email-event-webhook-timestamp'] as string | undefined,
            raw(request),
          ),
        { timestamped: true },
      ),
      schema: {
        summary: "SendGrid's event webhook: delivered, bounce, dropped, open, click",
        description: 'Signed by SendGrid (ECDSA over timestamp + body), verified with SENDGRID_WEBHOOK_PUBLIC_KEY.',
        tags: ['webhooks'],
        security: [{ sendgridSignature: [], sendgridTimestamp: [] }],
        body: {
          type: 'array',
          maxItems: 10_000,
          items: {
            type: 'object',
            properties: {
              sg_message_id: { type: 'string', maxLength: 512, pattern: NO_NUL },
              event: { type: 'string', maxLength: 64, pattern: NO_NUL },
              reason: { type: 'string', maxLength: 4096, pattern: NO_NUL },
              response: { type: 'string', maxLength: 4096, pattern: NO_NUL },
            },
          },
        },
        response: {
          200: { type: 'object', properties: { matched: { type: 'integer' } } },
          ...problems(...BODY_PROBLEMS),
        },
      },
    },
    async (request) => {
      let matched = 0;
      for (const event of request.body as SendGridEvent[]) {
        const receipt = sendGridReceipt(event);
        if (receipt && (await receive(receipt, request.log))) matched++;
      }
      return { matched };
    },
  );
};
