import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import {
  changeInbox,
  deleteInboxMessage,
  inboxCounts,
  listGroupedInbox,
  listInbox,
  type InboxAction,
  type InboxCounts,
  type InboxFilter,
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
import { BODY_PROBLEMS, NO_NUL, problems, recipientIdSchema, storedMessageFields } from '../schemas';

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
// PostgreSQL's text cannot hold a NUL: one is a 400 naming the field, not a failed query.
const categorySchema = { type: 'string', minLength: 1, maxLength: 128, pattern: NO_NUL } as const;
const groupKeySchema = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  pattern: NO_NUL,
  description: "One group's messages: the `group_key` the notifications were sent with",
} as const;
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
    'group_key',
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
    group_key: { type: ['string', 'null'], description: 'The `group_key` it was sent with; null when none' },
    group: {
      type: 'object',
      required: ['key', 'count', 'unread'],
      description: 'In a grouped list (`grouped=true`), on the newest message of a group: the whole group',
      properties: {
        key: { type: 'string' },
        count: { type: 'integer', description: "The group's messages in the list's view and filters" },
        unread: { type: 'integer', description: 'Those of them not read' },
      },
    },
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
            grouped: {
              type: 'string',
              enum: ['true', 'false'],
              description:
                "true: each group is one entry, at its newest message's place, with the group's count and unread count",
            },
            group_key: groupKeySchema,
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
      const { limit = '50', view = 'feed', category, feed, after, group_key: groupKey } = request.query;
      const grouped = request.query.grouped === 'true';
      if (grouped && groupKey !== undefined)
        throw new Problem(
          422,
          'Grouped or one group',
          '`group_key` lists the messages of one group; `grouped=true` folds every group into one entry: give one of them',
          'group_key',
        );
      const size = Number(limit);
      const page = pageKey(after);
      const recipientId = request.params.id;
      const rows = await inTenant(ctx.db, tenantId, async (db) => {
        const categories = feed === undefined ? {} : await feedCategories(db, tenantId, feed, 'feed');
        const filter: InboxFilter = {
          view,
          category,
          ...categories,
          ...(groupKey !== undefined ? { groupKey } : {}),
          now: new Date(),
        };
        return grouped
          ? listGroupedInbox(db, tenantId, recipientId, filter, size, page)
          : listInbox(db, tenantId, recipientId, filter, size, page?.after);
      });
      const last = rows.at(-1);
      const first = rows[0];
      // A grouped walk keeps where it began, so that later pages leave out what arrived since.
      const upTo = grouped ? (page?.upTo ?? (first && { createdAtMicros: first.key, id: first.id })) : undefined;
      return {
        messages: rows.map((row) => inboxMessageJson(row)),
        ...(rows.length === size && last
          ? { next: keyText({ after: { createdAtMicros: last.key, id: last.id }, upTo }) }
          : {}),
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
            description:
              'The messages: `ids`, or `all` (narrowed by `category`, by a `feed` of the tenant, or to one `group_key`)',
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
              group_key: groupKeySchema,
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
        const body = request.body as TargetBody & { until?: string };
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

/** Which messages a change names, as its body gives them. */
interface TargetBody {
  ids?: number[];
  all?: true;
  category?: string;
  feed?: string;
  group_key?: string;
}

function targetOf(body: TargetBody): InboxTarget {
  if (body.ids && body.all) throw new Problem(422, 'Ids or all', 'Give `ids` or `all`, not both', 'all');
  if (body.ids) {
    for (const field of ['category', 'feed', 'group_key'] as const)
      if (body[field] !== undefined)
        throw new Problem(422, `${field} with ids`, `\`${field}\` narrows \`all\`; with \`ids\`, leave it out`, field);
    return { ids: body.ids };
  }
  if (body.all)
    return {
      all: true,
      ...(body.category !== undefined ? { category: body.category } : {}),
      ...(body.group_key !== undefined ? { groupKey: body.group_key } : {}),
    };
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

/** Where the next page starts: after this entry, and in a grouped walk, among messages up to its first. */
interface PageKey {
  after: InboxKey;
  upTo?: InboxKey;
}

/** A page's key as the client carries it: opaque, and checked when it comes back. */
function keyText({ after, upTo }: PageKey): string {
  const pairs = [after, ...(upTo ? [upTo] : [])].flatMap((key) => [key.createdAtMicros, key.id]);
  return Buffer.from(JSON.stringify(pairs)).toString('base64url');
}

function pageKey(text: string | undefined): PageKey | undefined {
  if (text === undefined) return undefined;
  try {
    const parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    const after = Array.isArray(parts) ? inboxKey(parts[0], parts[1]) : undefined;
    // A grouped page's key carries where its walk began; a plain list's, only the position.
    const upTo = parts.length === 4 ? inboxKey(parts[2], parts[3]) : undefined;
    if (after && (parts.length === 2 || upTo)) return { after, ...(upTo ? { upTo } : {}) };
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

/** Microseconds from 1970 to 9999, and an id the database can hold; undefined for anything else. */
function inboxKey(createdAtMicros: unknown, id: unknown): InboxKey | undefined {
  if (
    typeof createdAtMicros === 'string' &&
    /^[0-9]{1,18}$/.test(createdAtMicros) &&
    Number(createdAtMicros) < 253402300800e6 &&
    typeof id === 'number' &&
    Number.isInteger(id) &&
    id > 0 &&
    id <= MAX_MESSAGE_ID
  )
    return { createdAtMicros, id };
  return undefined;
}
