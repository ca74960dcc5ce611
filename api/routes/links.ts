import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyBaseLogger } from 'fastify';
import { findDelivery } from '../../db/deliveries';
import { findTrackedLink, markClicked, type TrackedLinkRow } from '../../db/tracked-links';
import { recordEngagement, recordNotificationEngagement, recordUnsubscribe } from '../../db/experiments';
import { linkClicks } from '../../observability/metrics';
import { deliverReceipt } from '../receipts/deliver-receipt';
import { changePreferences } from '../../db/preferences';
import { unsubscribed } from '../../domain/preferences';
import { verifyLink, type LinkClaim } from '../../domain/signed-links';
import { recordAudit } from '../audit';
import { inTenant } from '../../db/tenant-scope';
import type { ApiContext } from '../context';
import { acknowledgeFromLink } from '../notification-actions';
import { notFound } from '../problems';
import { problems } from '../schemas';

const tokenParams = {
  type: 'object',
  required: ['token'],
  // Under the router's 1,024-character limit on a path parameter.
  properties: { token: { type: 'string', minLength: 1, maxLength: 1000, pattern: '^[A-Za-z0-9_.-]+$' } },
} as const;

const page = (description: string) => ({
  200: { description, content: { 'text/html': { schema: { type: 'string' } } } },
  ...problems(400, 404),
});

/**
 * Links in messages, used without an API key: the signature is the credential. A GET only shows a
 * button, so mail scanners that follow links change nothing; the POST acts. The unsubscribe POST is
 * RFC 8058's one-click unsubscribe, which mail clients send on their own.
 */
export const linkRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  // Forms and one-click unsubscribe POST `List-Unsubscribe=One-Click`; the token says everything needed.
  for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, _body, done) => done(null, undefined));
  }

  const claimOf = async <P extends LinkClaim['purpose']>(token: string, purpose: P) => {
    const claim = verifyLink(await ctx.linkSecret(), token);
    if (claim?.purpose !== purpose) throw notFound('This link is not valid, or it has expired');
    return claim as Extract<LinkClaim, { purpose: P }>;
  };

  /** One kind of link: a page with a button on GET, the act itself on POST. */
  const link = <P extends LinkClaim['purpose']>(
    path: string,
    purpose: P,
    texts: { page: string; done: string; button: string },
    ask: (claim: Extract<LinkClaim, { purpose: P }>) => string,
    act: (claim: Extract<LinkClaim, { purpose: P }>, log: FastifyBaseLogger) => Promise<string>,
  ) => {
    const schema = (summary: string, description: string) => ({
      summary,
      tags: ['links'],
      params: tokenParams,
      response: page(description),
    });
    app.get(
      `${path}/:token`,
      { schema: schema(texts.page, `A button that ${texts.button}s`) },
      async (request, reply) => {
        const claim = await claimOf((request.params as { token: string }).token, purpose);
        return reply.type('text/html').send(html(ask(claim), texts.button, request.url));
      },
    );
    app.post(`${path}/:token`, { schema: schema(texts.done, texts.done) }, async (request, reply) => {
      const claim = await claimOf((request.params as { token: string }).token, purpose);
      return reply.type('text/html').send(html(await act(claim, request.log)));
    });
  };

  link(
    '/ack',
    'ack',
    { page: 'The page an acknowledge link opens', done: 'Acknowledge through a signed link', button: 'Acknowledge' },
    () => 'Acknowledge this alert?',
    async (claim, log) => {
      const outcome = await acknowledgeFromLink(ctx, claim);
      if (outcome === 'acknowledged')
        await inTenant(ctx.db, claim.tenantId, (tx) =>
          recordNotificationEngagement(tx, claim.tenantId, claim.notificationId, claim.recipientId, 'acknowledged'),
        );
      if (outcome === 'acknowledged')
        await recordAudit(
          ctx.db,
          { tenantId: claim.tenantId, actor: 'link' },
          'notification.acknowledged',
          claim.notificationId,
          claim.recipientId,
        );
      log.info({ notification_id: claim.notificationId, outcome }, 'acknowledged by link');
      return {
        acknowledged: 'Acknowledged. Escalation has stopped.',
        already: 'This alert was already acknowledged.',
        closed: 'This alert is closed; there is nothing left to acknowledge.',
      }[outcome];
    },
  );

  await app.register(clickRoutes, ctx);

  link(
    '/unsubscribe',
    'unsubscribe',
    {
      page: 'The page an unsubscribe link opens',
      done: 'One-click unsubscribe (RFC 8058) through a signed link',
      button: 'Unsubscribe',
    },
    (claim) => `Unsubscribe from ${claim.category ? `"${claim.category}" messages` : 'all messages'}?`,
    async (claim, log) => {
      const saved = await changePreferences(ctx.db, claim.tenantId, claim.recipientId, (p) =>
        unsubscribed(p, claim.category),
      );
      log.info({ recipient_id: claim.recipientId, category: claim.category }, 'unsubscribed by link');
      if (saved === 'conflict') throw new Error('preferences changed three times during one unsubscribe');
      await inTenant(ctx.db, claim.tenantId, (tx) => recordUnsubscribe(tx, claim.tenantId, claim.recipientId));
      return 'You are unsubscribed.';
    },
  );
};

/**
 * A tracked link: a click is a `clicked` receipt on its delivery (and counts for an experiment), then the
 * browser goes on to the URL Herald kept for the id. The URL never comes from the request: no open redirect.
 */
const clickRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  const params = {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{16}$' } },
  } as const;
  const linkOf = async (id: string) => {
    const link = await findTrackedLink(ctx.db, id);
    if (!link) throw notFound('This link is not valid');
    return link;
  };
  app.get(
    '/r/:id',
    {
      // HEAD (link previews, scanners) forwards without counting.
      exposeHeadRoute: false,
      schema: {
        summary: 'A tracked link in a message: counts the click and redirects to the original URL',
        tags: ['links'],
        params,
        response: { 302: { description: 'To the original URL', type: 'null' }, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const link = await linkOf(request.params.id);
      // Chat apps fetch a link to show its preview: that is no one's click.
      if (!PREVIEW_AGENTS.test(request.headers['user-agent'] ?? '')) {
        // The recipient gets where they were going even when the count cannot be kept.
        await countClick(ctx, link, request.log).catch((error: unknown) =>
          request.log.warn({ err: error, link: link.id }, 'a click could not be counted'),
        );
      }
      return reply.code(302).header('location', link.url).header('cache-control', 'no-store').send(null);
    },
  );
  app.head('/r/:id', { schema: { hide: true, params } }, async (request, reply) => {
    const link = await linkOf(request.params.id);
    return reply.code(302).header('location', link.url).send(null);
  });
};

/** Link-preview fetchers of chat apps and social sites. */
const PREVIEW_AGENTS =
  /Slackbot|TelegramBot|Discordbot|facebookexternalhit|Twitterbot|WhatsApp|LinkedInBot|SkypeUriPreview/i;

/** Every click counts in the metric; the first one of a link is the delivery's `clicked` receipt. */
async function countClick(ctx: ApiContext, link: TrackedLinkRow, log: FastifyBaseLogger): Promise<void> {
  linkClicks.inc({ channel: link.channel });
  // The id found the link, whichever tenant's; what the click changes is that tenant's alone.
  const first = await inTenant(ctx.db, link.tenantId, async (tx) =>
    (await markClicked(tx, link.id)) ? { delivery: await findDelivery(tx, link) } : undefined,
  );
  if (!first) return;
  const { delivery } = first;
  if (delivery?.providerMessageId) {
    await deliverReceipt(
      ctx.db,
      ctx.temporal,
      { providerMessageId: delivery.providerMessageId, status: 'clicked' },
      log,
    );
  } else if (link.experimentId) {
    await inTenant(ctx.db, link.tenantId, (tx) =>
      recordEngagement(tx, link.tenantId, link.experimentId!, link.recipientId, 'clicked'),
    );
  }
}

function html(message: string, button?: string, action?: string): string {
  const form = button ? `<form method="post" action="${escapeHtml(action!)}"><button>${button}</button></form>` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Herald</title></head><body><p>${escapeHtml(message)}</p>${form}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
