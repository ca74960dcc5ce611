import type { Context } from '@temporalio/activity';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { Tracing } from '../observability/tracing';
import type { Activities } from '../activities';
import { CHANNELS, type Channel } from '../domain/channels';
import { channelTaskQueue, laneTaskQueue, laneTaskQueues } from '../domain/delivery-policy';
import type { HighPriorityYield } from '../domain/high-priority-yield';
import { DEFAULT_SLOTS, LaneSlots } from './lane-slots';

export interface HeraldWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /**
   * The workflows and their interceptors (`bundleWorkflows`, or the file `npm run build` wrote): tests
   * build it once for every worker.
   */
  workflowBundle: WorkflowBundleOption;
  shutdownGraceMs: number;
  tracing: Tracing;
  maxCachedWorkflows?: number;
  /**
   * How long one call into a workflow's code may run before its task fails as a deadlock (and is retried),
   * so a workflow caught in a loop fails its task instead of holding the workflow thread; the SDK's 5 s
   * when absent.
   */
  workflowDeadlockMs?: number;
  /** Sends per second per channel in this worker: with several worker processes, each takes its share. */
  rateLimits?: Partial<Record<Channel, number>>;
  /** Sends in flight per channel in this worker. */
  channelConcurrency?: Partial<Record<Channel, number>>;
  /**
   * The budget for normal and low priority giving way to high-priority work under way in this worker,
   * refilled at half a second per second (`HighPriorityYield`); 0 (the default): they never do.
   */
  highPriorityYieldMs?: number;
}

/** The gap between one task of a high-priority notification and its next that still counts as under way. */
const HIGH_PRIORITY_GRACE_MS = 250;

/**
 * Runs workflows and bookkeeping on each priority lane's queue, and each channel's sends on a queue of
 * its own per lane.
 */
export class HeraldWorker {
  private constructor(
    private readonly workers: Worker[],
    private readonly running: Promise<void[]>,
    /** When high-priority work is under way here: the main lane gives way to it. */
    readonly highPriority: HighPriorityYield,
  ) {}

  static async start(options: HeraldWorkerOptions): Promise<HeraldWorker> {
    const { connection, namespace, taskQueue, activities, shutdownGraceMs, tracing } = options;
    const slots = new LaneSlots({ graceMs: HIGH_PRIORITY_GRACE_MS, maxHoldMs: options.highPriorityYieldMs ?? 0 });
    const traced = (ctx: Context) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) });
    const yielding = () => ({ inbound: slots.mainLaneActivities });
    const workers = await Promise.all(
      laneTaskQueues(taskQueue).flatMap((queue) => {
        const lane = queue === laneTaskQueue(taskQueue, 'high') ? 'high' : 'main';
        const activityInterceptors = { activity: lane === 'high' ? [traced] : [yielding, traced] };
        return [
          Worker.create({
            connection,
            namespace,
            taskQueue: queue,
            workflowBundle: options.workflowBundle,
            activities: {
              recordNotification: activities.recordNotification,
              planRecipient: activities.planRecipient,
              planRecipients: activities.planRecipients,
              finishBroadcast: activities.finishBroadcast,
              evaluateExperiment: activities.evaluateExperiment,
            },
            interceptors: activityInterceptors,
            sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
            maxCachedWorkflows: options.maxCachedWorkflows,
            tuner: slots.tuner(lane, DEFAULT_SLOTS.workflowTasks, DEFAULT_SLOTS.activities),
            // Left out when absent: an option given as undefined replaces the SDK's default.
            ...(options.workflowDeadlockMs ? { isolateExecutionTimeout: options.workflowDeadlockMs } : {}),
            shutdownGraceTime: shutdownGraceMs,
          }),
          ...CHANNELS.map((channel) =>
            Worker.create({
              connection,
              namespace,
              taskQueue: channelTaskQueue(queue, channel),
              activities: {
                deliver: activities.deliver,
                deliverBatch: activities.deliverBatch,
                sendBroadcastChunk: activities.sendBroadcastChunk,
              },
              interceptors: activityInterceptors,
              // This worker's own limiter keeps the backlog in Temporal, and the deliver activity's pacer spaces
              // the burst it lets through after idling (shared by both lanes, so together they keep the
              // limit); the dev server's task-queue limit dispatched in 0.8 s batches that fell 25% short,
              // and both limiters together undershot by 30%.
              maxActivitiesPerSecond: options.rateLimits?.[channel],
              tuner: slots.tuner(
                lane,
                DEFAULT_SLOTS.workflowTasks,
                options.channelConcurrency?.[channel] ?? DEFAULT_SLOTS.activities,
              ),
              shutdownGraceTime: shutdownGraceMs,
            }),
          ),
        ];
      }),
    );
    return new HeraldWorker(workers, Promise.all(workers.map((w) => w.run())), slots.highPriority);
  }

  /** Resolves when every worker has stopped; rejects if one fails. */
  get done(): Promise<void[]> {
    return this.running;
  }

  /** Stops polling, lets in-flight activities finish within the grace time, then returns. */
  async shutdown(): Promise<void> {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await this.running;
  }
}
