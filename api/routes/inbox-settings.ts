import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { findInboxFeeds, saveInboxFeeds } from '../../db/tenants';
import { inTenant } from '../../db/tenant-scope';
import type { InboxFeed } from '../../domain/inbox';
import type { ApiContext } from '../context';
import { Problem } from '../problems';
import { BODY_PROBLEMS, problems } from '../schemas';
import { FEED_NAME_PATTERN } from './inbox';

const MAX_FEEDS = 20;

const feedsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['feeds'],
  properties: {
    feeds: {
      type: 'array',
      maxItems: MAX_FEEDS,
      description: 'The tabs, in order: each a name and the categories it shows (every category when absent)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: FEED_NAME_PATTERN, description: 'e.g. `all`, `billing`, `mentions`' },
          categories: {
            type: 'array',
            minItems: 1,
            maxItems: 50,
            uniqueItems: true,
            items: { type: 'string', minLength: 1, maxLength: 128 },
          },
        },
      },
    },
  },
} as const;

/**
 * The tenant's inbox feeds: the tabs an inbox shows, each narrowing it to some categories. Lists, counts
 * and changes take a feed by name (`?feed=`, `?feeds=`, `{ feed }`).
 */
export const inboxSettingsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/settings/inbox',
    {
      // An inbox in a browser shows the tabs: a recipient token reads them too.
      config: { recipientToken: true },
      schema: {
        summary: "The tenant's inbox feeds (tabs); a recipient token reads them too",
        tags: ['settings'],
        security: [{ bearer: [] }],
        response: { 200: feedsSchema, ...problems(401) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      return { feeds: await inTenant(ctx.db, tenantId, (db) => findInboxFeeds(db, tenantId)) };
    },
  );

  app.put(
    '/settings/inbox',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Set the tenant's inbox feeds (tabs), replacing those before",
        tags: ['settings'],
        security: [{ bearer: [] }],
        body: feedsSchema,
        response: { 200: feedsSchema, ...problems(...BODY_PROBLEMS) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const feeds = request.body.feeds.map((f): InboxFeed => ({
        name: f.name,
        ...(f.categories ? { categories: [...f.categories] } : {}),
      }));
      const seen = new Set<string>();
      for (const [i, feed] of feeds.entries()) {
        if (seen.has(feed.name))
          throw new Problem(
            422,
            'Feed named twice',
            `Two feeds are named "${feed.name}": rename one`,
            `feeds[${i}].name`,
          );
        seen.add(feed.name);
      }
      await inTenant(ctx.db, tenantId, (db) => saveInboxFeeds(db, tenantId, feeds));
      return { feeds };
    },
  );
};
