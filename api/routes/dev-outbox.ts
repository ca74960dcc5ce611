import { and, desc, eq } from 'drizzle-orm';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { devOutbox } from '../../db/schema';
import type { ApiContext } from '../context';
import { idSchema, problems, storedMessageFields } from '../schemas';

type OutboxRow = typeof devOutbox.$inferSelect;

/** The dev outbox: what every unconfigured channel "sent", as JSON or as a page for a browser. */
export const devOutboxRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/dev/outbox',
    {
      onRequest: ctx.authenticate,
      schema: {
        summary: "Messages delivered into the dev outbox for the caller's tenant, newest first",
        description: 'Browsers may pass the key as `?api_key=`; ask for text/html to get a page.',
        tags: ['dev'],
        security: [{ bearer: [] }],
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
            notification_id: idSchema,
            api_key: { type: 'string', maxLength: 256 },
          },
        },
        response: {
          200: {
            description: 'The messages as JSON, or as a page when the client accepts text/html',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['messages'],
                  properties: {
                    messages: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['id', 'notification_id', 'channel', 'recipient', 'text', 'created_at'],
                        properties: {
                          ...storedMessageFields,
                          channel: { type: 'string' },
                          recipient: { type: 'string' },
                          details: { type: 'object', additionalProperties: true },
                        },
                      },
                    },
                  },
                },
              },
              'text/html': { schema: { type: 'string' } },
            },
          },
          ...problems(400, 401),
        },
      },
    },
    async (request, reply) => {
      const limit = Math.min(Number(request.query.limit ?? 100), 1000);
      const rows = await ctx.db
        .select()
        .from(devOutbox)
        .where(
          and(
            eq(devOutbox.tenantId, request.tenantId),
            request.query.notification_id ? eq(devOutbox.notificationId, request.query.notification_id) : undefined,
          ),
        )
        .orderBy(desc(devOutbox.id))
        .limit(limit);
      if (request.headers.accept?.includes('text/html')) return reply.type('text/html; charset=utf-8').send(page(rows));
      return { messages: rows.map(toJson) };
    },
  );
};

function toJson(r: OutboxRow) {
  return {
    id: r.id,
    notification_id: r.notificationId,
    channel: r.channel,
    recipient: r.recipient,
    subject: r.subject ?? undefined,
    text: r.text,
    html: r.html ?? undefined,
    details: r.details ?? undefined,
    created_at: r.createdAt.toISOString(),
  };
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** An email's HTML in a sandboxed frame (no scripts, no navigation), and what else the channel carried. */
function preview(r: OutboxRow): string {
  const html = r.html
    ? `<iframe sandbox srcdoc="${escape(r.html)}" style="width:100%;height:12rem;border:1px solid #ddd"></iframe>`
    : '';
  const details = r.details ? `<pre class="details">${escape(JSON.stringify(r.details, null, 2))}</pre>` : '';
  return html + details;
}

function page(rows: OutboxRow[]): string {
  const items = rows
    .map(
      (
        r,
      ) => `<tr><td>${escape(r.createdAt.toISOString())}</td><td>${escape(r.channel)}</td><td>${escape(r.recipient)}</td>
<td><strong>${escape(r.subject ?? '')}</strong><pre>${escape(r.text)}</pre>${preview(r)}</td><td><code>${escape(r.notificationId)}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Herald dev outbox</title>
<meta http-equiv="refresh" content="5">
<style>body{font:14px system-ui;margin:2rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.5rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;margin:.25rem 0}pre.details{color:#555;font-size:12px}</style>
</head><body><h1>Dev outbox</h1><p>${rows.length} message(s). Channels with no provider configured deliver here.</p>
<table><tr><th>When</th><th>Channel</th><th>To</th><th>Message</th><th>Notification</th></tr>
${items || '<tr><td colspan="5">Nothing yet: POST /notify to send something.</td></tr>'}</table></body></html>`;
}
