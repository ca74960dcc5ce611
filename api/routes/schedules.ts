import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleHandle,
  type ScheduleDescription,
  type ScheduleSummary,
} from '@temporalio/client';
import { notificationWorkflowId, searchAttributes } from '../../workflows/definitions';
import type { ApiContext } from '../context';
import {
  buildNotificationRequest,
  requestHashOf,
  workflowStartOptions,
  type NotifyBody,
} from '../notification-request';
import { notFound, Problem } from '../problems';
import { explainCron } from '../../domain/cron-explain';
import { BODY_PROBLEMS, idSchema, notifyBodySchema, problems, timezoneSchema } from '../schemas';

const scheduleSchema = {
  type: 'object',
  required: ['id', 'paused', 'next_runs'],
  properties: {
    id: { type: 'string' },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    paused: { type: 'boolean' },
    note: { type: 'string' },
    next_runs: { type: 'array', items: { type: 'string', format: 'date-time' } },
    recent_runs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          notification_id: { type: 'string' },
          scheduled_at: { type: 'string', format: 'date-time' },
          started_at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;

const params = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;
const ACTIONS = ['pause', 'unpause', 'trigger'] as const;
const GRPC_INVALID_ARGUMENT = 3;
/** A gRPC status code on the error, or on the cause the client wrapped (as it does over a worker's native connection). */
const grpcCode = (error: unknown) =>
  (error as { code?: number }).code ?? (error as { cause?: { code?: number } }).cause?.code;

/**
 * Recurring notifications on Temporal Schedules: each run starts a notification workflow of its own,
 * with an id made of the schedule's and the time it was due.
 */
export const scheduleRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ApiContext }> = async (app, ctx) => {
  const scheduleId = (tenantId: string, id: string) => `herald/${tenantId}/${id}`;
  const handleOf = (tenantId: string, id: string) => ctx.temporal.schedule.getHandle(scheduleId(tenantId, id));
  /** Does something to one of the tenant's schedules; a schedule that is not there is a 404. */
  const onSchedule = async <T>(tenantId: string, id: string, act: (handle: ScheduleHandle) => Promise<T>) => {
    try {
      return await act(handleOf(tenantId, id));
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) throw notFound(`No schedule ${id}`);
      throw error;
    }
  };
  const describe = async (tenantId: string, id: string) =>
    toResponse(id, await onSchedule(tenantId, id, (handle) => handle.describe()));

  app.post(
    '/schedules',
    {
      schema: {
        summary: 'Send a notification on a cron schedule, in a time zone',
        tags: ['schedules'],
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'cron', 'notification'],
          properties: {
            id: idSchema,
            cron: {
              type: 'string',
              minLength: 9,
              maxLength: 200,
              pattern: '^[0-9A-Za-z*,/?#LW -]+$',
              description: 'Five fields: minute hour day-of-month month day-of-week, e.g. `0 9 * * MON-FRI`',
            },
            timezone: timezoneSchema('IANA name; UTC if absent'),
            notification: { ...notifyBodySchema, description: 'What each run sends, as POST /notify takes it' },
          },
        },
        response: { 201: scheduleSchema, ...problems(...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => {
      const { tenantId } = request;
      const { id, cron, timezone } = request.body;
      const body = request.body.notification as NotifyBody;
      if (body.send_at)
        throw new Problem(422, 'Not for schedules', 'A scheduled notification has no send_at', 'notification.send_at');
      // Each run names itself after its workflow id; the request is resolved once, now.
      const input = await buildNotificationRequest(
        ctx.db,
        tenantId,
        body,
        {
          notificationId: '',
          requestHash: requestHashOf(body),
          createdAt: '',
        },
        { ...ctx, plansAtAccept: false },
      );
      const { priority: _priority, ...startOptions } = workflowStartOptions(input, ctx.taskQueue);
      try {
        await ctx.temporal.schedule.create({
          scheduleId: scheduleId(tenantId, id),
          spec: { cronExpressions: [cron], timezone },
          action: {
            type: 'startWorkflow',
            workflowType: 'notification',
            workflowId: notificationWorkflowId(tenantId, `schedule-${id}`),
            args: [input],
            ...startOptions,
          },
          memo: { cron },
          typedSearchAttributes: [{ key: searchAttributes.tenant, value: tenantId }],
        });
      } catch (error) {
        if (error instanceof ScheduleAlreadyRunning)
          throw new Problem(409, 'Schedule exists', `A schedule ${id} already exists`, 'id');
        // The client checks the cron expression's ranges; the server, its syntax.
        if (error instanceof TypeError || grpcCode(error) === GRPC_INVALID_ARGUMENT)
          throw new Problem(
            422,
            'Invalid cron expression',
            explainCron(cron) ?? `cron: ${(error as Error).message}`,
            'cron',
          );
        throw error;
      }
      return reply.code(201).send(await describe(tenantId, id));
    },
  );

  app.get(
    '/schedules',
    {
      schema: {
        summary: "The tenant's schedules",
        tags: ['schedules'],
        security: [{ bearer: [] }],
        response: {
          200: {
            type: 'object',
            required: ['schedules'],
            properties: { schedules: { type: 'array', items: scheduleSchema } },
          },
          ...problems(401),
        },
      },
    },
    async (request) => {
      const prefix = scheduleId(request.tenantId, '');
      const schedules = [];
      for await (const summary of ctx.temporal.schedule.list()) {
        if (summary.scheduleId.startsWith(prefix))
          schedules.push(toResponse(summary.scheduleId.slice(prefix.length), summary));
      }
      return { schedules };
    },
  );

  app.get(
    '/schedules/:id',
    {
      schema: {
        summary: 'A schedule: its cron, whether it is paused, its next and recent runs',
        tags: ['schedules'],
        security: [{ bearer: [] }],
        params,
        response: { 200: scheduleSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => describe(request.tenantId, request.params.id),
  );

  for (const action of ACTIONS) {
    app.post(
      `/schedules/:id/${action}`,
      {
        schema: {
          summary: {
            pause: 'Pause a schedule',
            unpause: 'Resume a paused schedule',
            trigger: 'Run a schedule now, once',
          }[action],
          tags: ['schedules'],
          security: [{ bearer: [] }],
          params,
          response: { 200: scheduleSchema, ...problems(400, 401, 404) },
        },
      },
      async (request) => {
        const { tenantId } = request;
        const { id } = request.params;
        await onSchedule(tenantId, id, (handle) =>
          action === 'trigger' ? handle.trigger() : handle[action](`${action}d through the API`),
        );
        return describe(tenantId, id);
      },
    );
  }

  app.delete(
    '/schedules/:id',
    {
      schema: {
        summary: 'Delete a schedule; notifications it started go on',
        tags: ['schedules'],
        security: [{ bearer: [] }],
        params,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await onSchedule(request.tenantId, request.params.id, (handle) => handle.delete());
      return reply.code(204).send(null);
    },
  );
};

function toResponse(id: string, s: ScheduleDescription | ScheduleSummary) {
  return {
    id,
    cron: typeof s.memo?.cron === 'string' ? s.memo.cron : undefined,
    timezone: s.spec?.timezone || undefined,
    paused: s.state.paused,
    note: s.state.note || undefined,
    next_runs: s.info.nextActionTimes.map((t) => t.toISOString()),
    recent_runs: s.info.recentActions.map((r) => ({
      notification_id: (r.action as { workflow?: { workflowId?: string } }).workflow?.workflowId?.split('/').pop(),
      scheduled_at: r.scheduledAt.toISOString(),
      started_at: r.takenAt.toISOString(),
    })),
  };
}
