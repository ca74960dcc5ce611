import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  findExperiment,
  insertExperiment,
  listExperiments,
  runningExperiment,
  stopExperiment,
  variantCounts,
  type ExperimentRow,
} from '../../db/experiments';
import { findTemplate } from '../../db/templates';
import { inTenant } from '../../db/tenant-scope';
import {
  DEFAULT_ALPHA,
  DEFAULT_EXPECTED_LIFT,
  DEFAULT_MIN_SAMPLES,
  evaluateExperiment,
} from '../../domain/experiments/decision';
import { EXPERIMENT_METRICS, evaluationInput } from '../../domain/experiments/experiment';
import { durationMs } from '../../domain/orchestration';
import { experimentWorkflowId, stopExperimentSignal } from '../../workflows/definitions';
import type { experimentWorkflow } from '../../workflows';
import { recordAudit } from '../audit';
import type { ApiContext } from '../context';
import { notFound, Problem } from '../problems';
import { BODY_PROBLEMS, durationSchema, idSchema, problems } from '../schemas';
import { TEMPLATE_KEY_PATTERN } from '../template-schemas';

const MAX_VARIANTS = 5;

const alreadyRunning = (key: string) =>
  new Problem(409, 'Experiment running', `An experiment on ${key} is running: stop it first`, 'key');
/** PostgreSQL's unique_violation: the one-running-experiment-per-template index. */
const isUniqueViolation = (error: unknown) =>
  [error, (error as { cause?: unknown }).cause].some((e) => (e as { code?: string } | undefined)?.code === '23505');
/** How long a stop waits for the final look before answering with what it has. */
const STOP_WAIT_MS = 10_000;

const experimentSchema = {
  type: 'object',
  required: ['id', 'template', 'metric', 'state', 'variants', 'started_at'],
  properties: {
    id: { type: 'string' },
    template: { type: 'string' },
    metric: { type: 'string', enum: EXPERIMENT_METRICS },
    state: {
      type: 'string',
      enum: ['running', 'winner', 'no_winner', 'stopped_srm'],
      description: '`winner`: its version is live; `no_winner`: the control stays; `stopped_srm`: the split was wrong',
    },
    winner: { type: 'string' },
    reason: { type: 'string', description: 'Why it stands where it does, with the figures' },
    alpha: { type: 'number' },
    expected_lift: { type: 'number' },
    min_samples: { type: 'integer' },
    variants: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'version', 'weight', 'exposed', 'outcomes', 'rate', 'state'],
        properties: {
          name: { type: 'string' },
          version: { type: 'integer' },
          weight: { type: 'number' },
          exposed: { type: 'integer', description: 'Recipients who saw it' },
          outcomes: { type: 'integer', description: 'Of them, those who met the metric' },
          rate: { type: 'number' },
          lift: { type: 'number', description: "Relative to the control's rate" },
          p_value: { type: 'number', description: 'Always-valid (mSPRT), Bonferroni-adjusted, against the control' },
          interval: {
            type: 'array',
            items: { type: 'number' },
            description: 'Always-valid confidence interval of its rate minus the control’s',
          },
          state: { type: 'string' },
        },
      },
    },
    sample_ratio: {
      type: 'object',
      properties: { p_value: { type: 'number' }, mismatch: { type: 'boolean' } },
      description: 'χ² test of the exposures against the weights',
    },
    started_at: { type: 'string', format: 'date-time' },
    ended_at: { type: 'string', format: 'date-time' },
  },
} as const;

const params = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;

/**
 * A/B experiments on a template's versions. Recipients are assigned by a hash of the experiment and their
 * id, kept from their first exposure; a workflow per experiment looks at the counts on a schedule and makes
 * a winner live.
 */
export const experimentRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  /** The experiment now: a running one is evaluated on the spot (always-valid, so looking is free). */
  const view = async (db: typeof ctx.db, row: ExperimentRow) => {
    const result =
      row.state === 'running'
        ? evaluateExperiment(evaluationInput(row, await variantCounts(db, row.tenantId, row.id), new Date(), false))
        : row.result;
    const byName = new Map(result?.variants.map((v) => [v.name, v]));
    return {
      id: row.id,
      template: row.templateKey,
      metric: row.metric,
      state: row.state as 'running',
      ...(result?.winner && row.state === 'winner' ? { winner: result.winner } : {}),
      ...(result
        ? { reason: result.reason, sample_ratio: { p_value: result.srm.pValue, mismatch: result.srm.mismatch } }
        : {}),
      alpha: row.alpha,
      ...(row.expectedLift !== null ? { expected_lift: row.expectedLift } : {}),
      min_samples: row.minSamples,
      variants: row.variants.map((v) => {
        const r = byName.get(v.name);
        return {
          name: v.name,
          version: v.version,
          weight: v.weight,
          exposed: r?.exposed ?? 0,
          outcomes: r?.outcomes ?? 0,
          rate: r?.rate ?? 0,
          ...(r?.lift !== undefined && Number.isFinite(r.lift) ? { lift: r.lift } : {}),
          ...(r?.pValue !== undefined ? { p_value: r.pValue } : {}),
          ...(r?.interval ? { interval: r.interval } : {}),
          state: r?.state ?? 'inconclusive',
        };
      }),
      started_at: row.startedAt.toISOString(),
      ...(row.endedAt ? { ended_at: row.endedAt.toISOString() } : {}),
    };
  };
  const found = async (tenantId: string, id: string) => {
    const row = await inTenant(ctx.db, tenantId, (db) => findExperiment(db, tenantId, id));
    if (!row) throw notFound(`No experiment ${id}`);
    return row;
  };

  app.post(
    '/templates/:key/experiments',
    {
      // What every recipient is sent, and which version goes live: the `admin` scope decides.
      config: { scope: 'admin' },
      schema: {
        summary: 'Start an A/B experiment between versions of the template; the first variant is the control',
        tags: ['experiments'],
        security: [{ bearer: [] }],
        params: {
          type: 'object',
          required: ['key'],
          properties: { key: { type: 'string', pattern: TEMPLATE_KEY_PATTERN } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['variants', 'metric'],
          properties: {
            variants: {
              type: 'array',
              minItems: 2,
              maxItems: MAX_VARIANTS,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'version'],
                properties: {
                  name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,32}$' },
                  version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
                  weight: { type: 'number', minimum: 0, maximum: 10_000, default: 1 },
                },
              },
            },
            metric: { type: 'string', enum: EXPERIMENT_METRICS, description: 'What counts as a success per recipient' },
            alpha: { type: 'number', minimum: 0.001, maximum: 0.2, default: DEFAULT_ALPHA },
            expected_lift: {
              type: 'number',
              minimum: 0.01,
              maximum: 100,
              default: DEFAULT_EXPECTED_LIFT,
              description:
                'The relative lift over the control you expect (0.1 = +10 %): the test is tuned to find it soonest',
            },
            min_samples: {
              type: 'integer',
              minimum: 1,
              maximum: 10_000_000,
              default: DEFAULT_MIN_SAMPLES,
              description: 'Recipients every variant needs before a winner',
            },
            min_duration: durationSchema('No winner before it has run this long, e.g. `7d`; none when absent'),
            max_duration: durationSchema('It ends then: the control stays unless a variant has won'),
            guardrails: {
              type: 'object',
              additionalProperties: false,
              description: 'How much higher than the control’s a variant’s rate may be (absolute) before it cannot win',
              properties: {
                failed: { type: 'number', minimum: 0, maximum: 1 },
                unsubscribed: { type: 'number', minimum: 0, maximum: 1 },
              },
            },
          },
        },
        response: { 201: experimentSchema, ...problems(...BODY_PROBLEMS, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { tenantId } = request;
      const { key } = request.params;
      const body = request.body;
      const names = body.variants.map((v) => v.name);
      const repeated = names.findIndex((n, i) => names.indexOf(n) !== i);
      if (repeated >= 0)
        throw new Problem(
          422,
          'Variant repeated',
          `Two variants are named "${names[repeated]}"`,
          `variants[${repeated}].name`,
        );
      if ((body.variants[0]!.weight ?? 1) === 0)
        throw new Problem(
          422,
          'Control without weight',
          'The control (the first variant) needs a weight above 0',
          'variants[0].weight',
        );
      if (body.variants.slice(1).every((v) => (v.weight ?? 1) === 0))
        throw new Problem(
          422,
          'Nothing to compare',
          'At least one variant besides the control needs a weight above 0',
          'variants',
        );
      const minDurationMs = body.min_duration ? durationMs(body.min_duration) : 0;
      const maxDurationMs = body.max_duration ? durationMs(body.max_duration) : undefined;
      if (maxDurationMs !== undefined && maxDurationMs < minDurationMs)
        throw new Problem(422, 'Ends too soon', 'max_duration is shorter than min_duration', 'max_duration');
      const id = randomUUID();
      const row = await inTenant(ctx.db, tenantId, async (db) => {
        const template = await findTemplate(db, tenantId, key);
        if (!template) throw notFound(`No template ${key}`);
        body.variants.forEach((v, i) => {
          if (!template.versions.some((t) => t.version === v.version))
            throw new Problem(
              422,
              'Unknown version',
              `Template ${key} has no version ${v.version}`,
              `variants[${i}].version`,
            );
        });
        if (await runningExperiment(db, tenantId, key)) throw alreadyRunning(key);
        return insertExperiment(db, {
          id,
          tenantId,
          templateKey: key,
          variants: body.variants.map((v) => ({ name: v.name, version: v.version, weight: v.weight ?? 1 })),
          metric: body.metric,
          alpha: body.alpha ?? DEFAULT_ALPHA,
          expectedLift: body.expected_lift ?? DEFAULT_EXPECTED_LIFT,
          minSamples: body.min_samples ?? DEFAULT_MIN_SAMPLES,
          minDurationSeconds: Math.ceil(minDurationMs / 1000),
          maxDurationSeconds: maxDurationMs !== undefined ? Math.ceil(maxDurationMs / 1000) : null,
          guardrails: body.guardrails ?? null,
          state: 'running',
        }).catch((error: unknown) => {
          // Another request started one on the template at the same moment.
          if (isUniqueViolation(error)) throw alreadyRunning(key);
          throw error;
        });
      });
      try {
        await ctx.temporal.workflow.start<typeof experimentWorkflow>('experimentWorkflow', {
          workflowId: experimentWorkflowId(tenantId, id),
          taskQueue: ctx.taskQueue,
          args: [
            {
              tenantId,
              experimentId: id,
              evaluateEveryMs: ctx.experimentEvaluateEveryMs,
              ...(maxDurationMs !== undefined
                ? { endsAt: new Date(row.startedAt.getTime() + maxDurationMs).toISOString() }
                : {}),
            },
          ],
        });
      } catch (error) {
        // Without its evaluator it would never decide: it does not run at all.
        await inTenant(ctx.db, tenantId, (db) => stopExperiment(db, tenantId, id));
        throw error;
      }
      await recordAudit(ctx.db, request, 'experiment.started', undefined, `${key}:${id}`);
      return reply.code(201).send(await inTenant(ctx.db, tenantId, (db) => view(db, row)));
    },
  );

  app.get(
    '/experiments',
    {
      schema: {
        summary: "The tenant's experiments, newest first",
        tags: ['experiments'],
        security: [{ bearer: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { template: { type: 'string', pattern: TEMPLATE_KEY_PATTERN } },
        },
        response: {
          200: {
            type: 'object',
            required: ['experiments'],
            properties: {
              experiments: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'template', 'metric', 'state', 'started_at'],
                  properties: {
                    id: { type: 'string' },
                    template: { type: 'string' },
                    metric: { type: 'string' },
                    state: { type: 'string' },
                    started_at: { type: 'string', format: 'date-time' },
                    ended_at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          ...problems(400, 401),
        },
      },
    },
    async (request) => {
      const rows = await inTenant(ctx.db, request.tenantId, (db) =>
        listExperiments(db, request.tenantId, request.query.template),
      );
      return {
        experiments: rows.map((r) => ({
          id: r.id,
          template: r.templateKey,
          metric: r.metric,
          state: r.state,
          started_at: r.startedAt.toISOString(),
          ...(r.endedAt ? { ended_at: r.endedAt.toISOString() } : {}),
        })),
      };
    },
  );

  app.get(
    '/experiments/:id',
    {
      schema: {
        summary: 'An experiment: per variant, who saw it, outcomes, rate, always-valid p-value and interval',
        tags: ['experiments'],
        security: [{ bearer: [] }],
        params,
        response: { 200: experimentSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const row = await found(request.tenantId, request.params.id);
      return inTenant(ctx.db, request.tenantId, (db) => view(db, row));
    },
  );

  app.post(
    '/experiments/:id/stop',
    {
      // What every recipient is sent, and which version goes live: the `admin` scope decides.
      config: { scope: 'admin' },
      schema: {
        summary: 'End an experiment now: a variant that has won goes live, otherwise the control stays',
        tags: ['experiments'],
        security: [{ bearer: [] }],
        params,
        response: { 200: experimentSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { tenantId } = request;
      const { id } = request.params;
      const before = await found(tenantId, id);
      if (before.state === 'running') {
        const handle = ctx.temporal.workflow.getHandle(experimentWorkflowId(tenantId, id));
        try {
          await handle.signal(stopExperimentSignal);
          // The final look is quick; if it is not done soon, the answer shows the experiment still running.
          await Promise.race([
            handle.result().catch(() => undefined),
            new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref()),
          ]);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          // Its evaluator is gone (terminated by an operator): it ends here, the control staying.
          await inTenant(ctx.db, tenantId, (db) => stopExperiment(db, tenantId, id));
        }
        await recordAudit(ctx.db, request, 'experiment.stopped', undefined, `${before.templateKey}:${id}`);
      }
      const row = await found(tenantId, id);
      return inTenant(ctx.db, tenantId, (db) => view(db, row));
    },
  );
};
