import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { changePreferences, readPreferences, type VersionedPreferences } from '../../db/preferences';
import { CHANNELS, type Channel } from '../../domain/channels';
import { unsubscribed, type ChannelSwitches, type Preferences } from '../../domain/preferences';
import type { ApiContext } from '../context';
import { Problem } from '../problems';
import { BODY_PROBLEMS, NO_NUL, problems, recipientIdSchema, timezoneSchema } from '../schemas';
import { inTenant } from '../../db/tenant-scope';

const channelSwitches = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(CHANNELS.map((c) => [c, { type: 'boolean' }])) as Record<Channel, { type: 'boolean' }>,
} as const;

const switches = {
  enabled: { type: 'boolean', description: 'false turns everything off (critical notifications still arrive)' },
  channels: channelSwitches,
} as const;

const categoryName = { type: 'string', minLength: 1, maxLength: 64, pattern: NO_NUL } as const;
const clock = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const;

const preferencesFields = {
  ...switches,
  categories: {
    type: 'object',
    maxProperties: 100,
    additionalProperties: { type: 'object', additionalProperties: false, properties: switches },
    description: 'Per category; a category switch beats the global channel switch',
  },
  quiet_hours: {
    type: 'object',
    additionalProperties: false,
    required: ['start', 'end'],
    description: "Non-critical notifications wait until the window ends, in the recipient's time zone",
    properties: {
      start: clock,
      end: clock,
      timezone: timezoneSchema("Overrides the recipient's own"),
    },
  },
} as const;

const preferencesSchema = {
  type: 'object',
  required: ['recipient_id', 'version'],
  properties: {
    recipient_id: { type: 'string' },
    version: { type: 'integer', description: 'Send it back as `If-Match` to change only what you read' },
    ...preferencesFields,
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const params = { type: 'object', required: ['id'], properties: { id: recipientIdSchema } } as const;

/** A recipient's preferences: global, per channel, per category and quiet hours, changed under a version. */
export const preferenceRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  const answer = (
    reply: { header: (k: string, v: string) => unknown },
    recipientId: string,
    saved: VersionedPreferences,
  ) => {
    reply.header('etag', `"${saved.version}"`);
    const p = saved.preferences;
    return {
      recipient_id: recipientId,
      version: saved.version,
      enabled: p.enabled,
      channels: p.channels,
      categories: p.categories,
      quiet_hours: p.quietHours,
      updated_at: saved.updatedAt?.toISOString(),
    };
  };

  app.get(
    '/recipients/:id/preferences',
    {
      schema: {
        summary: "A recipient's preferences and their version (also the ETag)",
        tags: ['preferences'],
        security: [{ bearer: [] }],
        params,
        response: { 200: preferencesSchema, ...problems(400, 401) },
      },
    },
    async (request, reply) =>
      answer(
        reply,
        request.params.id,
        await inTenant(ctx.db, request.tenantId, (db) => readPreferences(db, request.tenantId, request.params.id)),
      ),
  );

  app.put(
    '/recipients/:id/preferences',
    {
      schema: {
        summary: "Replace a recipient's preferences; with If-Match, only if nobody changed them since",
        tags: ['preferences'],
        security: [{ bearer: [] }],
        params,
        headers: {
          type: 'object',
          properties: {
            'if-match': {
              type: 'string',
              pattern: '^(W/)?"?[0-9]{1,9}"?$',
              description: 'The version read, e.g. `"3"`',
            },
          },
        },
        body: { type: 'object', additionalProperties: false, properties: preferencesFields },
        response: { 200: preferencesSchema, ...problems(...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => {
      const ifMatch = request.headers['if-match'];
      const expected = ifMatch === undefined ? undefined : Number(ifMatch.replace(/\D/g, ''));
      const b = request.body;
      rejectBadCategoryNames(Object.keys(b.categories ?? {}));
      const next: Preferences = {
        ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
        ...(b.channels ? { channels: b.channels } : {}),
        ...(b.categories ? { categories: b.categories as Record<string, ChannelSwitches> } : {}),
        ...(b.quiet_hours ? { quietHours: b.quiet_hours } : {}),
      };
      const saved = await changePreferences(ctx.db, request.tenantId, request.params.id, () => next, expected);
      if (saved === 'conflict') throw versionConflict();
      return answer(reply, request.params.id, saved);
    },
  );

  app.post(
    '/recipients/:id/unsubscribe',
    {
      schema: {
        summary: 'Unsubscribe a recipient from a category, a channel, both, or (with neither) everything',
        tags: ['preferences'],
        security: [{ bearer: [] }],
        params,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { category: categoryName, channel: { type: 'string', enum: CHANNELS } },
        },
        response: { 200: preferencesSchema, ...problems(...BODY_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const { category, channel } = request.body ?? {};
      const saved = await changePreferences(ctx.db, request.tenantId, request.params.id, (p) =>
        channel ? withChannelOff(p, category, channel) : unsubscribed(p, category),
      );
      if (saved === 'conflict') throw versionConflict();
      return answer(reply, request.params.id, saved);
    },
  );
};

/** Category names are what notifications carry: 1 to 64 characters, no NUL (JSON Schema 3.0 has no propertyNames). */
function rejectBadCategoryNames(names: string[]): void {
  const bad = names.find((n) => n.length === 0 || n.length > 64 || n.includes('\u0000'));
  if (bad !== undefined)
    throw new Problem(
      422,
      'Invalid category name',
      `"${bad}" is not a category name: 1 to 64 characters`,
      'categories',
    );
}

function versionConflict() {
  return new Problem(
    409,
    'Preferences changed',
    'The preferences changed since the version in If-Match: read them again and reapply the change',
    'if-match',
  );
}

function withChannelOff(p: Preferences, category: string | undefined, channel: Channel): Preferences {
  if (!category) return { ...p, channels: { ...p.channels, [channel]: false } };
  const current = p.categories?.[category] ?? {};
  return {
    ...p,
    categories: { ...p.categories, [category]: { ...current, channels: { ...current.channels, [channel]: false } } },
  };
}
