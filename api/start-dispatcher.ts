import type { FastifyBaseLogger } from 'fastify';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdReusePolicy, type SignalDefinition } from '@temporalio/common';
import type { Database } from '../db/connect';
import {
  acceptNotifications,
  claimPendingStarts,
  deletePendingStarts,
  findPendingStart,
  pendingStartsNaming,
  type Acceptance,
  type PendingStart,
} from '../db/pending-starts';
import { GroupCommit } from '../domain/group-commit';
import type { NotificationRequest } from '../domain/notification';
import { pool } from '../domain/pool';
import { eagerWorkflowStarts, workflowStartFailures } from '../observability/metrics';
import { inCarriedTrace, traceCarrier } from '../observability/tracing';
import { notificationWorkflowId } from '../workflows/definitions';
import type { notificationWorkflow } from '../workflows';
import { workflowStartOptions } from './notification-request';

export interface DispatcherOptions {
  db: Database;
  temporal: Client;
  taskQueue: string;
  /** Ask for eager workflow start: only when the client shares a worker's connection. */
  eagerStart: boolean;
  log: FastifyBaseLogger;
  /** Starts in flight at once; also how many pending starts one claim takes. */
  concurrency?: number;
  /** How often to look for starts other processes left behind (crashed, or accepted without waking us). */
  pollMs?: number;
  /** How long a claim keeps other dispatchers away; a start that failed is tried again after it. */
  claimMs?: number;
}

/** One start's bound: a Temporal server that does not answer must not hold the dispatcher. */
const START_DEADLINE_MS = 10_000;

/**
 * Accepts notifications and turns them into workflows. The API answers 202 once a notification and its
 * pending start are committed (many requests' in one transaction under load); this then starts the
 * workflow and deletes the pending start. Starts are idempotent (the workflow id is the notification's,
 * and a used id is refused), so a start repeated after a crash or by another dispatcher is harmless.
 */
export class StartDispatcher {
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly claimMs: number;
  private woken = false;
  private stopping = false;
  private wakeUp?: () => void;
  private readonly running: Promise<void>;
  private readonly accepts: GroupCommit<Acceptance, boolean>;
  private readonly aside = new Set<Promise<unknown>>();

  constructor(private readonly options: DispatcherOptions) {
    this.accepts = new GroupCommit((acceptances) => acceptNotifications(options.db, acceptances));
    this.concurrency = options.concurrency ?? 32;
    this.pollMs = options.pollMs ?? 1000;
    this.claimMs = options.claimMs ?? 10_000;
    this.running = this.loop();
  }

  /**
   * Stores the notification, its pending start and its audit event; false when one with its id was
   * accepted first. Durable once this returns: the start follows, here or, after a crash, in any dispatcher.
   */
  async accept(request: NotificationRequest, actor: string): Promise<boolean> {
    const trace = traceCarrier();
    const stored = await this.accepts.add({ request, taskQueue: this.options.taskQueue, actor, trace });
    if (!stored) return false;
    // High priority does not wait for the batch of starts in flight: it starts now, beside it.
    if (request.priority === 'high') this.startAside({ request, trace });
    else this.wake();
    return true;
  }

  private startAside(pending: PendingStart): void {
    const started = this.startAndDelete(pending).finally(() => this.aside.delete(started));
    this.aside.add(started);
  }

  /** Starts one pending notification; left pending if Temporal refuses, for the loop to try again. */
  private async startAndDelete(pending: PendingStart): Promise<void> {
    const { tenantId, notificationId } = pending.request;
    if (!(await this.start(pending))) return;
    await deletePendingStarts(this.options.db, [notificationWorkflowId(tenantId, notificationId)]).catch(
      (error: unknown) => this.options.log.warn({ err: error }, 'could not delete a started workflow start'),
    );
  }

  /** A start was just committed: look now rather than at the next poll. */
  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Finishes the starts in flight; anything still pending waits in the database for the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all([this.running, ...this.aside]);
  }

  /** The tenant's notifications naming the recipient whose starts are still pending here. */
  pendingNaming(tenantId: string, recipientId: string): Promise<PendingStart[]> {
    return pendingStartsNaming(this.options.db, this.options.taskQueue, tenantId, recipientId);
  }

  /** This notification's start, if it is still pending here. */
  findPending(workflowId: string): Promise<PendingStart | undefined> {
    return findPendingStart(this.options.db, this.options.taskQueue, workflowId);
  }

  /**
   * Starts a pending notification with a signal already in its history, so its first task sees it
   * before sending anything (a cancel, a deleted recipient). Signals it if it started meanwhile; one
   * that has closed since fails as a signal to a closed workflow does, with WorkflowNotFoundError.
   */
  async startWithSignal<Args extends unknown[]>(
    pending: PendingStart,
    signal: SignalDefinition<Args>,
    signalArgs: Args,
  ): Promise<void> {
    const { temporal } = this.options;
    const { tenantId, notificationId } = pending.request;
    const done = () => deletePendingStarts(this.options.db, [notificationWorkflowId(tenantId, notificationId)]);
    try {
      await inCarriedTrace(pending.trace, () =>
        temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
          temporal.workflow.signalWithStart<typeof notificationWorkflow, unknown[]>('notificationWorkflow', {
            ...this.startOptions(pending.request),
            signal: signal.name,
            signalArgs,
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      // Started and closed meanwhile: nothing is pending any more.
      await done();
      throw new WorkflowNotFoundError('The notification closed meanwhile', error.workflowId, undefined);
    }
    await done();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      const claimed = await claimPendingStarts(
        this.options.db,
        this.options.taskQueue,
        this.concurrency,
        this.claimMs,
      ).catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'could not read pending workflow starts');
        return [];
      });
      const started: string[] = [];
      await pool(claimed.length, this.concurrency, async (i) => {
        const { request } = claimed[i]!;
        if (await this.start(claimed[i]!))
          started.push(notificationWorkflowId(request.tenantId, request.notificationId));
      });
      await deletePendingStarts(this.options.db, started).catch((error: unknown) =>
        // Left behind, they are started again later: the start is refused as a duplicate and the row goes.
        this.options.log.warn({ err: error }, 'could not delete started workflow starts'),
      );
      if (claimed.length === 0 || started.length < claimed.length) await this.idle();
    }
  }

  /** True once the workflow exists: started now, or earlier by anyone. */
  private async start({ request, trace }: PendingStart): Promise<boolean> {
    const { temporal, eagerStart } = this.options;
    const workflowId = notificationWorkflowId(request.tenantId, request.notificationId);
    try {
      const handle = await inCarriedTrace(trace, () =>
        temporal.withDeadline(Date.now() + START_DEADLINE_MS, () =>
          temporal.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
            ...this.startOptions(request),
            requestEagerStart: eagerStart,
          }),
        ),
      );
      if (handle.eagerlyStarted) eagerWorkflowStarts.inc();
      return true;
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return true;
      workflowStartFailures.inc();
      this.options.log.warn({ err: error, workflow_id: workflowId }, 'could not start a notification workflow');
      return false;
    }
  }

  private startOptions(request: NotificationRequest) {
    return {
      ...workflowStartOptions(request, this.options.taskQueue),
      workflowId: notificationWorkflowId(request.tenantId, request.notificationId),
      args: [{ ...request, recordedByApi: true }] as [NotificationRequest],
      // A closed workflow keeps its id: a start repeated after it closed must not deliver again.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      memo: { requestHash: request.requestHash },
    };
  }

  /** Waits for a wake-up or the next poll, whichever comes first. */
  private async idle(): Promise<void> {
    if (this.woken || this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.pollMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
  }
}
