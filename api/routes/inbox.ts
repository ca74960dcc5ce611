import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import {
  changeInbox,
  deleteInboxMessage,
  inboxCounts,
  listInbox,
  type InboxAction,
  type InboxCounts,
  type InboxKey,
  type InboxTarget,
  type InboxView,
} from '../../db/inbox-messages';
import { inTenant } from '../../db/tenant-scope';
import { findInboxFeeds } from '../../db/tenants';
import type { InboxFeed } from '../../domain/inbox';
import type { Database } from '../../db/connect';
import type { ApiContext } from '../context';
import { sendInboxReceipts } from '../inbox-receipts';
import { inboxMessageJson } from '../inbox-json';
import { notFound, Problem } from '../problems';
import { BODY_PROBLEMS, problems, recipientIdSchema, storedMessageFields } from '../schemas';

const params = { type: 'object', required: ['id'], properties: { id: recipientIdSchema } } as const;
/** What the inbox routes share: a recipient token opens them as well as a key, each is about one recipient. */
const recipientRoute = { config: { recipientToken: true } };
const aboutRecipient = { tags: ['inbox'], security: [{ bearer: [] }], params };
const VIEWS = ['feed', 'unread', 'unseen', 'archived', 'snoozed', 'all'] as const satisfies readonly InboxView[];
/** One change takes at most this many ids; `all` takes any number. */
const MAX_IDS = 500;
/** The largest message id PostgreSQL's `serial` holds: a larger one names no message. */
const MAX_MESSAGE_ID = 2_147_483_647;
const stateTime = (description: string) => ({ type: ['string', 'null'], format: 'date-time', description }) as const;
const categorySchema = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const FEED_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$';
const feedNameSchema = {
  type: 'string',
  pattern: FEED_NAME_PATTERN,
  description: "One of the tenant's feeds (PUT /settings/inbox): only its categories",
} as const;

const countsSchema = {
  type: 'object',
  required: ['unread', 'unseen', 'total'],
  description: 'The feed (neither archived nor snoozed now): messages not read, not seen, and all of them',
  properties: { unread: { type: 'integer' }, unseen: { type: 'integer' }, total: { type: 'integer' } },
} as const;

const messageSchema = {
  type: 'object',
  required: [
    'id',
    'notification_id',
    'text',
    'created_at',
    'seen_at',
    'read_at',
    'interacted_at',
    'archived_at',
    'snoozed_until',
  ],
  properties: {
    ...storedMessageFields,
    category: { type: 'string' },
    actions: {
      type: 'array',
      items: { type: 'object', properties: { label: { type: 'string' }, url: { type: 'string' } } },
    },
    seen_at: stateTime('When it was first shown in a list'),
    read_at: stateTime('When it was read (opened)'),
    interacted_at: stateTime('When one of its action buttons was first used'),
    archived_at: stateTime('When it was archived'),
    snoozed_until: stateTime('Out of the feed until then'),
  },
} as const;

const ACTIONS: Record<InboxAction, string> = {
  seen: 'Mark messages seen (shown in a list, not yet opened)',
  read: 'Mark messages read, and seen if they were not',
  interacted: 'Record that an action button of the messages was used (read and seen too)',
  unread: 'Mark messages unread (when each was seen stays)',
  archive: 'Archive messages: out of the feed',
  unarchive: 'Bring archived messages back to the feed',
  snooze: 'Take messages out of the feed until a time',
};

/** Reading a message is its delivery's `opened` receipt; using one of its actions, its `clicked`. */
const RECEIPTS: Partial<Record<InboxAction, 'opened' | 'clicked'>> = { read: 'opened', interacted: 'clicked' };

/**
 * A recipient's in-app inbox: the messages the in_app channel stored, newest first, each with its
 * states (seen, read, archived, snoozed), pages keyed by position, counts, and changes by ids or by filter.
 * A tenant's API key opens every recipient's; a recipient token (POST /recipients/:id/tokens) its own.
 */
export const inboxRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  app.get(
    '/recipients/:id/inbox',
    {
      ...recipientRoute,
      schema: {
        summary: "A recipient's in-app messages, newest first, a page at a time",
        ...aboutRecipient,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: {
              type: 'string',
              pattern: '^(200|1[0-9]{2}|[1-9][0-9]?)$',
              description: '1 to 200; 50 when absent',
            },
            view: {
              type: 'string',
              enum: VIEWS,
              description: 'feed (neither archived nor snoozed; the default), unread, unseen, archived, snoozed or all',
            },
            category: categorySchema,
            feed: feedNameSchema,
            after: {
              type: 'string',
              pattern: '^[A-Za-z0-9_-]{1,200}$',
              description: "The page after this one: the previous page's `next`",
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['messages'],
            properties: {
              messages: { type: 'array', items: messageSchema },
              next: { type: 'string', description: 'Give as `after` for the next page; absent on the last' },
            },
          },
          ...problems(400, 401, 422),
        },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const { limit = '50', view = 'feed', category, feed, after } = request.query;
      const size = Number(limit);
      const key = pageKey(after);
      const rows = await inTenant(ctx.db, tenantId, async (db) => {
        const categories = feed === undefined ? {} : await feedCategories(db, tenantId, feed, 'feed');
        return listInbox(
          db,
          tenantId,
          request.params.id,
          { view, category, ...categories, now: new Date() },
          size,
          key,
        );
      });
      const last = rows.at(-1);
      return {
        messages: rows.map(inboxMessageJson),
        ...(rows.length === size && last ? { next: keyText({ createdAtMicros: last.key, id: last.id }) } : {}),
      };
    },
  );

  app.get(
    '/recipients/:id/inbox/counts',
    {
      ...recipientRoute,
      schema: {
        summary: "A recipient's unread, unseen and total counts",
        ...aboutRecipient,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            category: categorySchema,
            feeds: {
              type: 'string',
              pattern: '^[a-z0-9][a-z0-9_-]{0,31}(,[a-z0-9][a-z0-9_-]{0,31}){0,19}$',
              description: "Feed names, comma-separated: each one's counts too, under `feeds`",
            },
          },
        },
        response: {
          200: {
            ...countsSchema,
            properties: {
              ...countsSchema.properties,
              feeds: { type: 'object', additionalProperties: countsSchema, description: 'Each feed asked for' },
            },
          },
          ...problems(400, 401, 422),
        },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const { category, feeds } = request.query;
      const recipientId = request.params.id;
      const now = new Date();
      return inTenant(ctx.db, tenantId, async (db) => {
        const counts = await inboxCounts(db, tenantId, recipientId, now, { category });
        if (feeds === undefined) return { ...counts };
        const defined = await findInboxFeeds(db, tenantId);
        const perFeed: Record<string, InboxCounts> = {};
        for (const name of new Set(feeds.split(',')))
          perFeed[name] = await inboxCounts(db, tenantId, recipientId, now, {
            category,
            ...categoriesOf(defined, name, 'feeds'),
          });
        return { ...counts, feeds: perFeed };
      });
    },
  );

  for (const [action, summary] of Object.entries(ACTIONS) as [InboxAction, string][]) {
    app.post(
      `/recipients/:id/inbox/${action}`,
      {
        ...recipientRoute,
        schema: {
          summary,
          ...aboutRecipient,
          body: {
            type: 'object',
            additionalProperties: false,
            description: 'The messages: `ids`, or `all` (narrowed by `category`, or by a `feed` of the tenant)',
            properties: {
              ids: {
                type: 'array',
                minItems: 1,
                maxItems: MAX_IDS,
                items: { type: 'integer', minimum: 1, maximum: MAX_MESSAGE_ID },
              },
              all: { type: 'boolean', const: true },
              category: categorySchema,
              feed: feedNameSchema,
              ...(action === 'snooze' ? { until: { type: 'string', format: 'date-time' } } : {}),
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['changed', 'counts'],
              properties: {
                changed: { type: 'integer', description: 'Messages whose state this changed' },
                counts: countsSchema,
              },
            },
            ...problems(...BODY_PROBLEMS),
          },
        },
      },
      async (request) => {
        const { tenantId } = request;
        const body = request.body as { ids?: number[]; all?: true; category?: string; feed?: string; until?: string };
        const target = targetOf(body);
        const now = new Date();
        const until = action === 'snooze' ? snoozeUntil(body.until, now) : undefined;
        const { changed, counts } = await inTenant(ctx.db, tenantId, async (db) => {
          const feed = body.feed === undefined ? {} : await feedCategories(db, tenantId, body.feed, 'feed');
          const rows = await changeInbox(db, tenantId, request.params.id, action, { ...target, ...feed }, now, until);
          return { changed: rows, counts: await inboxCounts(db, tenantId, request.params.id, now) };
        });
        const receipt = RECEIPTS[action];
        if (receipt) await sendInboxReceipts(ctx.db, ctx.temporal, tenantId, changed, receipt, request.log);
        return { changed: changed.length, counts };
      },
    );
  }

  app.delete(
    '/recipients/:id/inbox/messages/:message_id',
    {
      ...recipientRoute,
      schema: {
        summary: 'Delete one in-app message',
        tags: ['inbox'],
        security: [{ bearer: [] }],
        params: {
          type: 'object',
          required: ['id', 'message_id'],
          properties: { id: recipientIdSchema, message_id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } },
        },
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { tenantId } = request;
      const { id, message_id } = request.params;
      const messageId = Number(message_id);
      const deleted =
        messageId <= MAX_MESSAGE_ID &&
        (await inTenant(ctx.db, tenantId, (db) => deleteInboxMessage(db, tenantId, id, messageId)));
      if (!deleted) throw notFound(`Recipient ${id} has no in-app message ${message_id}`);
      return reply.code(204).send(null);
    },
  );
};

/** A feed's categories, to narrow a query; a name the tenant has not defined is a 422 naming `field`. */
async function feedCategories(db: Database, tenantId: string, name: string, field: string) {
  return categoriesOf(await findInboxFeeds(db, tenantId), name, field);
}

/** The categories of one of `feeds`, found by name; a name not among them is a 422 naming `field`. */
function categoriesOf(feeds: InboxFeed[], name: string, field: string) {
  const feed = feeds.find((f) => f.name === name);
  if (!feed)
    throw new Problem(
      422,
      'Unknown feed',
      feeds.length === 0
        ? `No feed "${name}": this tenant has none (PUT /settings/inbox defines them)`
        : `No feed "${name}": this tenant's are ${feeds.map((f) => f.name).join(', ')}`,
      field,
    );
  return feed.categories ? { categories: feed.categories } : {};
}

function targetOf(body: { ids?: number[]; all?: true; category?: string; feed?: string }): InboxTarget {
  if (body.ids && body.all) throw new Problem(422, 'Ids or all', 'Give `ids` or `all`, not both', 'all');
  if (body.ids) {
    for (const field of ['category', 'feed'] as const)
      if (body[field] !== undefined)
        throw new Problem(422, `${field} with ids`, `\`${field}\` narrows \`all\`; with \`ids\`, leave it out`, field);
    return { ids: body.ids };
  }
  if (body.all) return { all: true, ...(body.category !== undefined ? { category: body.category } : {}) };
  throw new Problem(422, 'No messages named', 'Name the messages: `ids` (up to 500), or `all: true`', 'ids');
}

function snoozeUntil(until: string | undefined, now: Date): Date {
  if (until === undefined)
    throw new Problem(
      422,
      'Snooze until when',
      'Give `until`: when the messages come back, e.g. 2030-01-01T09:00:00Z',
      'until',
    );
  const at = new Date(until);
  // A leap second (23:59:60) is a date-time JavaScript cannot hold.
  if (Number.isNaN(at.getTime()))
    throw new Problem(
      422,
      'Snooze until when',
      `\`until\` (${until}) is not a time Herald can keep: give another`,
      'until',
    );
  if (at <= now)
    throw new Problem(422, 'Snooze in the past', `\`until\` (${until}) has passed: give a later time`, 'until');
  return at;
}

/** A page's key as the client carries it: opaque, and checked when it comes back. */
function keyText(key: InboxKey): string {
  return Buffer.from(JSON.stringify([key.createdAtMicros, key.id])).toString('base64url');
}

function pageKey(text: string | undefined): InboxKey | undefined {
  if (text === undefined) return undefined;
  try {
    const [createdAtMicros, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    // Microseconds from 1970 to 9999, and an id the database can hold.
    if (
      typeof createdAtMicros === 'string' &&
      /^[0-9]{1,18}$/.test(createdAtMicros) &&
      Number(createdAtMicros) < 253402300800e6
    )
      if (Number.isInteger(id) && (id as number) > 0 && (id as number) <= MAX_MESSAGE_ID)
        return { createdAtMicros, id: id as number };
  } catch {
    // Not ours: said below.
  }
  throw new Problem(
    422,
    'Unknown page',
    "`after` is not a page key Herald gave: pass the previous page's `next` as it came",
    'after',
  );
}
