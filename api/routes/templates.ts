import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import stringify from 'safe-stable-stringify';
import {
  deleteTemplate,
  findTemplate,
  findTemplateVersion,
  listTemplates,
  publishTemplateVersion,
  saveTemplateVersion,
  type TemplateVersionRow,
} from '../../db/templates';
import { inTenant } from '../../db/tenant-scope';
import { runningExperiment, stopExperiment } from '../../db/experiments';
import { CHANNELS } from '../../domain/channels';
import { sha256 } from '../../domain/sha256';
import type { TemplateContent } from '../../domain/templates/content';
import { recordAudit } from '../audit';
import type { ApiContext } from '../context';
import { notFound, Problem } from '../problems';
import { TemplateRenderError, type TemplatePreview } from '../../domain/templates/render';
import { BODY_PROBLEMS, problems, timezoneSchema } from '../schemas';
import { pinTemplate, templateSources, unknownReferences } from '../template-pins';
import { templateContentSchema, TEMPLATE_KEY_PATTERN } from '../template-schemas';

/** Versions are numbered in a PostgreSQL integer. */
const MAX_VERSION = 2_147_483_647;

const keyParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', pattern: TEMPLATE_KEY_PATTERN } },
} as const;
const versionParams = {
  type: 'object',
  required: ['key', 'version'],
  properties: { ...keyParams.properties, version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } },
} as const;

const missingTranslationsSchema = {
  type: 'object',
  description: 'Per locale, the translation keys it lacks (they fall back along the chain)',
  additionalProperties: { type: 'array', items: { type: 'string' } },
} as const;

const versionSummarySchema = {
  type: 'object',
  required: ['version', 'created_at'],
  properties: {
    version: { type: 'integer' },
    content_hash: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    missing_translations: missingTranslationsSchema,
  },
} as const;

const savedSchema = {
  type: 'object',
  required: ['key', 'version', 'created', 'live', 'missing_translations', 'warnings'],
  properties: {
    key: { type: 'string' },
    version: { type: 'integer' },
    created: {
      type: 'boolean',
      description: 'False when a version with the same content existed: that one is the answer',
    },
    live: { type: 'boolean', description: 'Whether new notifications use it (the first version goes live at once)' },
    missing_translations: missingTranslationsSchema,
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

const warningSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    channel: { type: 'string' },
    field: { type: 'string' },
  },
} as const;

const summaryOf = (v: TemplateVersionRow) => ({
  version: v.version,
  content_hash: v.contentHash,
  created_at: v.createdAt.toISOString(),
  missing_translations: v.missingTranslations,
});

/**
 * Templates: each save is an immutable version (the same content twice is the same version); one version
 * is live, and a notification pins the version live when it is accepted.
 */
export const templateRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  const audit = (
    request: Parameters<typeof recordAudit>[1],
    action: Parameters<typeof recordAudit>[2],
    target: string,
  ) => recordAudit(ctx.db, request, action, undefined, target);

  app.put(
    '/templates/:key',
    {
      // Templates are what every message says: changed with the `admin` scope.
      config: { scope: 'admin' },
      schema: {
        summary: 'Save a version of a template (a layout or a partial too); the first version goes live',
        tags: ['templates'],
        security: [{ bearer: [] }],
        params: keyParams,
        body: templateContentSchema,
        response: { 200: savedSchema, 201: savedSchema, ...problems(...BODY_PROBLEMS, 422) },
      },
    },
    async (request, reply) => {
      const { key } = request.params;
      const content = request.body as TemplateContent;
      rejectEmpty(content);
      const checked = await ctx.renderer.check(content, {}).catch((error: unknown) => {
        // The check itself ran out of time or memory: a template this heavy would not render either.
        if (error instanceof TemplateRenderError)
          throw new Problem(422, 'Template too heavy', `Checking the template failed: ${error.message}`, 'body');
        throw error;
      });
      if (checked.references.includes(key))
        throw new Problem(422, 'Template renders itself', `${key} renders itself, which would never end`, 'body');
      const [problem] = checked.problems;
      if (problem) {
        const field = problem.channel === 'template' ? 'body' : `${problem.channel}.${problem.field}`;
        const where = problem.line ? ` (line ${problem.line}, column ${problem.column ?? 1})` : '';
        throw new Problem(422, 'Template does not parse', `${field}${where}: ${problem.message}`, field);
      }
      const saved = await inTenant(ctx.db, request.tenantId, async (db) => {
        const result = await saveTemplateVersion(db, request.tenantId, key, {
          contentHash: sha256(stringify(content) ?? ''),
          content,
          compiledEmailHtml: checked.compiledEmailHtml,
          references: checked.references,
          missingTranslations: checked.missingTranslations,
        });
        const unknown = await unknownReferences(db, request.tenantId, checked.references);
        return { ...result, unknown };
      });
      if (saved.created) await audit(request, 'template.saved', `${key}@${saved.version}`);
      return reply.code(saved.created ? 201 : 200).send({
        key,
        version: saved.version,
        created: saved.created,
        live: saved.live,
        missing_translations: checked.missingTranslations,
        warnings: saved.unknown.map(
          (name) => `It renders "${name}", which is not a template yet: save it before sending`,
        ),
      });
    },
  );

  app.get(
    '/templates',
    {
      schema: {
        summary: "The tenant's templates",
        tags: ['templates'],
        security: [{ bearer: [] }],
        response: {
          200: {
            type: 'object',
            required: ['templates'],
            properties: {
              templates: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['key', 'latest_version', 'updated_at'],
                  properties: {
                    key: { type: 'string' },
                    live_version: { type: 'integer' },
                    latest_version: { type: 'integer' },
                    updated_at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          ...problems(401),
        },
      },
    },
    async (request) => {
      const rows = await inTenant(ctx.db, request.tenantId, (db) => listTemplates(db, request.tenantId));
      return {
        templates: rows.map((t) => ({
          key: t.key,
          ...(t.liveVersion !== null ? { live_version: t.liveVersion } : {}),
          latest_version: t.latestVersion,
          updated_at: t.updatedAt.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/templates/:key',
    {
      schema: {
        summary: 'A template: its versions, newest first, and which one is live',
        tags: ['templates'],
        security: [{ bearer: [] }],
        params: keyParams,
        response: {
          200: {
            type: 'object',
            required: ['key', 'versions'],
            properties: {
              key: { type: 'string' },
              live_version: { type: 'integer' },
              versions: { type: 'array', items: versionSummarySchema },
            },
          },
          ...problems(400, 401, 404),
        },
      },
    },
    async (request) => {
      const { key } = request.params;
      const template = await inTenant(ctx.db, request.tenantId, (db) => findTemplate(db, request.tenantId, key));
      if (!template) throw notFound(`No template ${key}`);
      return {
        key,
        ...(template.liveVersion !== null ? { live_version: template.liveVersion } : {}),
        versions: template.versions.map(summaryOf),
      };
    },
  );

  app.get(
    '/templates/:key/versions/:version',
    {
      schema: {
        summary: "One version's content",
        tags: ['templates'],
        security: [{ bearer: [] }],
        params: versionParams,
        response: {
          200: {
            type: 'object',
            required: ['key', 'version', 'live', 'content', 'created_at'],
            properties: {
              key: { type: 'string' },
              ...versionSummarySchema.properties,
              live: { type: 'boolean' },
              references: { type: 'array', items: { type: 'string' }, description: 'Layouts and partials it renders' },
              content: { type: 'object', additionalProperties: true },
            },
          },
          ...problems(400, 401, 404),
        },
      },
    },
    async (request) => {
      const { key } = request.params;
      const version = Number(request.params.version);
      const found = await inTenant(ctx.db, request.tenantId, async (db) => {
        const template = await findTemplate(db, request.tenantId, key);
        const row = template && (await findTemplateVersion(db, request.tenantId, key, version));
        return row && { row, live: template.liveVersion === version };
      });
      if (!found) throw notFound(`No version ${version} of template ${key}`);
      return {
        key,
        ...summaryOf(found.row),
        live: found.live,
        references: found.row.references,
        content: found.row.content,
      };
    },
  );

  app.post(
    '/templates/:key/publish',
    {
      // Templates are what every message says: changed with the `admin` scope.
      config: { scope: 'admin' },
      schema: {
        summary: 'Make a version live: notifications accepted from now on render it',
        tags: ['templates'],
        security: [{ bearer: [] }],
        params: keyParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['version'],
          properties: { version: { type: 'integer', minimum: 1, maximum: MAX_VERSION } },
        },
        response: {
          200: {
            type: 'object',
            required: ['key', 'live_version'],
            properties: { key: { type: 'string' }, live_version: { type: 'integer' } },
          },
          ...problems(...BODY_PROBLEMS, 404),
        },
      },
    },
    async (request) => {
      const { key } = request.params;
      const { version } = request.body;
      const published = await inTenant(ctx.db, request.tenantId, (db) =>
        publishTemplateVersion(db, request.tenantId, key, version),
      );
      if (!published) throw notFound(`No version ${version} of template ${key}`);
      await audit(request, 'template.published', `${key}@${version}`);
      return { key, live_version: version };
    },
  );

  app.delete(
    '/templates/:key',
    {
      // Templates are what every message says: changed with the `admin` scope.
      config: { scope: 'admin' },
      schema: {
        summary: 'Delete a template; notifications already accepted still render the version they pinned',
        tags: ['templates'],
        security: [{ bearer: [] }],
        params: keyParams,
        response: { 204: { description: 'Deleted', type: 'null' }, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { key } = request.params;
      const { deleted, experiment } = await inTenant(ctx.db, request.tenantId, async (db) => {
        const gone = await deleteTemplate(db, request.tenantId, key);
        // An experiment on it ends with it: no variant can go live on a template that is gone.
        const running = gone ? await runningExperiment(db, request.tenantId, key) : undefined;
        if (running) await stopExperiment(db, request.tenantId, running.id);
        return { deleted: gone, experiment: running };
      });
      if (!deleted) throw notFound(`No template ${key}`);
      await audit(request, 'template.deleted', key);
      if (experiment) await audit(request, 'experiment.stopped', `${key}:${experiment.id}`);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/templates/:key/preview',
    {
      schema: {
        summary: 'Render a version for one channel and locale, with warnings; never sends anything',
        tags: ['templates'],
        security: [{ bearer: [] }],
        params: keyParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['channel'],
          properties: {
            version: { type: 'integer', minimum: 1, maximum: MAX_VERSION, description: 'The live version when absent' },
            channel: { type: 'string', enum: CHANNELS },
            locale: { type: 'string', minLength: 2, maxLength: 35 },
            timezone: timezoneSchema('IANA name, e.g. Europe/Paris'),
            data: { type: 'object', maxProperties: 200 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['key', 'version', 'channel', 'locale', 'rendered', 'warnings'],
            properties: {
              key: { type: 'string' },
              version: { type: 'integer' },
              channel: { type: 'string' },
              locale: { type: 'string', description: 'The locale the text came from' },
              rendered: {
                type: 'object',
                properties: {
                  subject: { type: 'string' },
                  text: { type: 'string' },
                  html: { type: 'string' },
                  action_url: { type: 'string' },
                  data: { type: 'object', additionalProperties: { type: 'string' } },
                  payload: {},
                  blocks: { type: 'array' },
                },
              },
              warnings: { type: 'array', items: warningSchema },
              problems: {
                type: 'array',
                description: 'Why it could not render, where: `rendered` is then empty',
                items: {
                  type: 'object',
                  required: ['channel', 'field', 'message'],
                  properties: {
                    channel: { type: 'string' },
                    field: { type: 'string' },
                    line: { type: 'integer' },
                    column: { type: 'integer' },
                    message: { type: 'string' },
                  },
                },
              },
            },
          },
          ...problems(...BODY_PROBLEMS, 404),
        },
      },
    },
    async (request) => {
      const { key } = request.params;
      const { channel, locale, timezone, data } = request.body;
      const job = await inTenant(ctx.db, request.tenantId, async (db) => {
        const pin = await pinTemplate(db, request.tenantId, key, request.body.version, 'version', { lenient: true });
        return { pin, ...(await templateSources(db, request.tenantId, pin)) };
      });
      const preview = await ctx.renderer
        .preview({
          content: job.content,
          compiledEmailHtml: job.compiledEmailHtml,
          channel,
          data: (data ?? {}) as Record<string, unknown>,
          locale,
          tenantDefaultLocale: job.tenantDefaultLocale,
          timeZone: timezone,
          sources: job.sources,
          lenient: true,
        })
        // Out of time or memory on its thread: said as the reason it did not render, never a 500.
        .catch((error: unknown): TemplatePreview => {
          if (!(error instanceof TemplateRenderError)) throw error;
          const problem = { channel, field: 'template', message: error.message };
          return { rendered: { text: '' }, locale: locale ?? '', warnings: [], problems: [problem] };
        });
      const { actionUrl, ...rendered } = preview.rendered;
      return {
        key,
        version: job.pin.version,
        channel,
        locale: preview.locale,
        rendered: { ...rendered, ...(actionUrl ? { action_url: actionUrl } : {}) },
        warnings: preview.warnings,
        problems: preview.problems,
      };
    },
  );
};

/** A template says something on some channel, or is a layout or a partial. */
function rejectEmpty(content: TemplateContent): void {
  const bodies = [...CHANNELS, 'layout', 'partial'].filter(
    (name) => content[name as keyof TemplateContent] !== undefined,
  );
  if (bodies.length === 0)
    throw new Problem(
      422,
      'Empty template',
      'Give a body for at least one channel (email, sms, …), a layout or a partial',
      'body',
    );
}
