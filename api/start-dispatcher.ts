import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdReusePolicy, type SignalDefinition } from '@temporalio/common';
import { acceptBroadcast, type BroadcastAcceptance } from '../db/broadcasts';
import type { Database } from '../db/connect';
import {
  acceptNotifications,
  claimPendingStarts,
  deletePendingStarts,
  findPendingBroadcastStart,
  findPendingStart,
  pendingStartsNaming,
  stillAccepted,
  type Acceptance,
  type PendingBroadcastStart,
  type PendingStart,
} from '../db/pending-starts';
import { broadcastWorkflowId, type BroadcastRequest } from '../domain/broadcast';
import { BurstHold } from '../domain/burst';
import { laneTaskQueue, PRIORITY_KEYS } from '../domain/delivery-policy';
import type { HighPriorityYield } from '../domain/high-priority-yield';
import { GroupCommit } from '../domain/group-commit';
import type { NotificationRequest } from '../domain/notification';
import { pool } from '../domain/pool';
import { eagerWorkflowStarts, workflowStartFailures } from '../observability/metrics';
import { inCarriedTrace, traceCarrier } from '../observability/tracing';
import type { broadcastWorkflow } from '../workflows/broadcast';
import { notificationWorkflowId, searchAttributes } from '../workflows/definitions';
import type { notification } from '../workflows';
import { endAbandonedBroadcasts } from './abandoned-broadcasts';
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
  /** Notifications started and not yet under way that Temporal may hold at once; the rest wait here. */
  window?: number;
  /**
   * How long a started notification counts against the window at most, whatever its row says: sends held
   * in retries by a provider's outage slow the window down to `window` starts per this time, never to zero.
   */
  inFlightMs?: number;
  /**
   * How long low-priority starts give way to a burst of accepts at most, so the API has the machine while
   * one arrives and answers in milliseconds; 0: they never do. Accepts are durable before they are started.
   */
  burstHoldMs?: number;
  /** Accepts within `burstSpanMs` that make a burst; BURST_THRESHOLD by default. */
  burstThreshold?: number;
  /** The span those accepts fall within; BURST_SPAN_MS by default. */
  burstSpanMs?: number;
  /**
   * A worker's yield in this process: a high-priority notification counts as under way from its accept
   * until its workflow has started, so the worker's main lane gives way before its first task arrives.
   */
  highPriority?: HighPriorityYield;
  /** How often to look for broadcasts whose workflow closed without finishing, to delete their contacts. */
  sweepMs?: number;
}

/** A notification's workflow id: the key of its pending start and of the window. */
const workflowIdOf = (n: { tenantId: string; notificationId: string }) =>
  notificationWorkflowId(n.tenantId, n.notificationId);
/** The workflow id of a pending start's notification or broadcast. */
const startedIdOf = (pending: PendingStart | PendingBroadcastStart) =>
  'broadcast' in pending
    ? broadcastWorkflowId(pending.broadcast.tenantId, pending.broadcast.broadcastId)
    : workflowIdOf(pending.request);

/** One start's bound: a Temporal server that does not answer must not hold the dispatcher. */
const START_DEADLINE_MS = 10_000;
/** How often a full window looks again for notifications under way. */
const WINDOW_POLL_MS = 50;
/** A burst: this many accepts within BURST_SPAN_MS (over 100 a second). Held starts are looked at as often. */
const BURST_THRESHOLD = 32;
const BURST_SPAN_MS = 250;

/**
 * Accepts notifications and broadcasts and turns them into workflows. The API answers 202 once a
 * notification and its pending start are committed (many requests' in one transaction under load); this
 * then starts the workflow and deletes the pending start. Starts are idempotent (the workflow id is the
 * notification's, and a used id is refused), so a start repeated after a crash or by another dispatcher is
 * harmless. A broadcast goes the same way: its row, chunks and pending start are one transaction.
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
  /** Started by this dispatcher and not yet under way: the window's contents, by workflow id. */
  private readonly inFlight = new Map<string, { tenantId: string; notificationId: string; since: number }>();
  private readonly window: number;
  private readonly inFlightMs: number;
  private readonly burst: BurstHold;
  private readonly burstSpanMs: number;
  private readonly sweeps: NodeJS.Timeout;
  /** The sweep under way, if any: one at a time, and a stop ends it between two broadcasts. */
  private sweeping?: Promise<void>;
  private readonly stopped = new AbortController();

  constructor(private readonly options: DispatcherOptions) {
    this.accepts = new GroupCommit((acceptances) => acceptNotifications(options.db, acceptances));
    this.concurrency = options.concurrency ?? 32;
    this.pollMs = options.pollMs ?? 1000;
    this.claimMs = options.claimMs ?? 10_000;
    this.window = options.window ?? 128;
    this.inFlightMs = options.inFlightMs ?? 10_000;
    this.burstSpanMs = options.burstSpanMs ?? BURST_SPAN_MS;
    this.burst = new BurstHold({
      threshold: options.burstThreshold ?? BURST_THRESHOLD,
      spanMs: this.burstSpanMs,
      maxHoldMs: options.burstHoldMs ?? 0,
    });
    this.running = this.loop();
    this.sweeps = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, options.sweepMs ?? 60_000).unref();
  }

  /**
   * Stores the notification, its pending start and its audit event; false when one with its id was
   * accepted first. Durable once this returns: the start follows, here or, after a crash, in any dispatcher.
   */
  async accept(request: NotificationRequest, actor: string): Promise<boolean> {
    this.burst.arrived();
    if (request.priority === 'high') return this.acceptHigh(request, actor);
    const stored = await this.accepts.add({ request, taskQueue: this.options.taskQueue, actor, trace: traceCarrier() });
    if (stored) this.wake();
    return stored;
  }

  /**
   * Stores the broadcast, its chunks, its pending start and its audit event in one transaction; false when
   * one with its id was accepted first. Durable once this returns, as a notification's accept is.
   */
  async acceptBroadcast(acceptance: Omit<BroadcastAcceptance, 'taskQueue' | 'trace'>): Promise<boolean> {
    const stored = await acceptBroadcast(this.options.db, {
      ...acceptance,
      taskQueue: this.options.taskQueue,
      trace: traceCarrier(),
    });
    if (stored) this.wake();
    return stored;
  }

  /** High priority does not wait for the batch of starts in flight: it starts now, beside it. */
  private acceptHigh(request: NotificationRequest, actor: string): Promise<boolean> {
    const { highPriority, taskQueue } = this.options;
    highPriority?.began();
    const trace = traceCarrier();
    const stored = this.accepts.add({ request, taskQueue, actor, trace });
    const started: Promise<unknown> = stored
      .then((yes) => (yes ? this.startAndDelete({ request, trace }) : undefined))
      // A failed accept reaches the caller through `stored`.
      .catch(() => undefined)
      .finally(() => {
        highPriority?.ended();
        this.aside.delete(started);
      });
    this.aside.add(started);
    return stored;
  }

  /** Starts one pending notification; left pending if Temporal refuses, for the loop to try again. */
  private async startAndDelete(pending: PendingStart): Promise<void> {
    if (!(await this.start(pending))) return;
    await deletePendingStarts(this.options.db, [workflowIdOf(pending.request)]).catch((error: unknown) =>
      this.options.log.warn({ err: error }, 'could not delete a started workflow start'),
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
    clearInterval(this.sweeps);
    this.stopped.abort();
    this.wake();
    await Promise.all([this.running, this.sweeping, ...this.aside]);
  }

  /** The tenant's notifications naming the recipient whose starts are still pending here. */
  pendingNaming(tenantId: string, recipientId: string): Promise<PendingStart[]> {
    return pendingStartsNaming(this.options.db, this.options.taskQueue, tenantId, recipientId);
  }

  /** This notification's start, if it is still pending here. */
  findPending(workflowId: string): Promise<PendingStart | undefined> {
    return findPendingStart(this.options.db, this.options.taskQueue, workflowId);
  }

  /** This broadcast's start, if it is still pending here. */
  findPendingBroadcast(workflowId: string): Promise<PendingBroadcastStart | undefined> {
    return findPendingBroadcastStart(this.options.db, this.options.taskQueue, workflowId);
  }

  /**
   * Starts a pending notification or broadcast with a signal already in its history, so its first task
   * sees it before sending anything (a cancel, a deleted recipient). Signals it if it started meanwhile;
   * one that has closed since fails as a signal to a closed workflow does, with WorkflowNotFoundError.
   */
  async startWithSignal<Args extends unknown[]>(
    pending: PendingStart | PendingBroadcastStart,
    signal: SignalDefinition<Args>,
    signalArgs: Args,
  ): Promise<void> {
    const { temporal } = this.options;
    const done = () => deletePendingStarts(this.options.db, [startedIdOf(pending)]);
    const withSignal = { signal: signal.name, signalArgs };
    try {
      await inCarriedTrace(pending.trace, () =>
        temporal.withDeadline<unknown>(Date.now() + START_DEADLINE_MS, () =>
          'broadcast' in pending
            ? temporal.workflow.signalWithStart<typeof broadcastWorkflow, unknown[]>('broadcastWorkflow', {
                ...this.broadcastStartOptions(pending.broadcast),
                ...withSignal,
              })
            : temporal.workflow.signalWithStart<typeof notification, unknown[]>('notification', {
                ...this.startOptions(pending.request),
                ...withSignal,
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
      const room = await this.roomInWindow();
      if (room <= 0) {
        await sleep(WINDOW_POLL_MS);
        continue;
      }
      // While a burst of accepts arrives, low priority waits in the database and the rest go ahead.
      const holdingLow = this.burst.holding();
      const claimed = await claimPendingStarts(
        this.options.db,
        this.options.taskQueue,
        Math.min(this.concurrency, room),
        this.claimMs,
        { above: holdingLow ? 'low' : undefined, broadcasts: true },
      ).catch((error: unknown) => {
        this.options.log.warn({ err: error }, 'could not read pending workflow starts');
        return [];
      });
      const started: string[] = [];
      await pool(claimed.length, this.concurrency, async (i) => {
        const pending = claimed[i]!;
        if (!(await this.start(pending))) return;
        const workflowId = startedIdOf(pending);
        started.push(workflowId);
        // A broadcast's chunks go a few at a time by themselves: the window is for notifications.
        if (!('broadcast' in pending)) {
          const { tenantId, notificationId } = pending.request;
          this.inFlight.set(workflowId, { tenantId, notificationId, since: Date.now() });
        }
      });
      await deletePendingStarts(this.options.db, started).catch((error: unknown) =>
        // Left behind, they are started again later: the start is refused as a duplicate and the row goes.
        this.options.log.warn({ err: error }, 'could not delete started workflow starts'),
      );
      // Held, it looks again at the pace of the burst's span, not at every accept's wake-up.
      if (holdingLow && claimed.length === 0) await sleep(this.burstSpanMs);
      else if (claimed.length === 0 || started.length < claimed.length) await this.idle();
    }
  }

  /**
   * Room for more starts: Temporal gets no more notifications than its workers have under way, so a burst
   * waits here, in priority order, instead of in Temporal's task queue, where a later high or normal
   * notification would queue behind it and every task waiting costs the server a write and a read.
   */
  private async roomInWindow(): Promise<number> {
    if (this.inFlight.size < this.window) return this.window - this.inFlight.size;
    const now = Date.now();
    for (const [id, entry] of this.inFlight) if (now - entry.since > this.inFlightMs) this.inFlight.delete(id);
    const waiting = await stillAccepted(this.options.db, [...this.inFlight.values()]).catch((error: unknown) => {
      this.options.log.warn({ err: error }, 'could not read which notifications are under way');
      return [...this.inFlight.values()];
    });
    const stillWaiting = new Set(waiting.map(workflowIdOf));
    for (const id of this.inFlight.keys()) if (!stillWaiting.has(id)) this.inFlight.delete(id);
    return this.window - this.inFlight.size;
  }

  /** True once the workflow exists: started now, or earlier by anyone. */
  private async start(pending: PendingStart | PendingBroadcastStart): Promise<boolean> {
    const { temporal, eagerStart } = this.options;
    try {
      const handle = await inCarriedTrace(pending.trace, () =>
        temporal.withDeadline<{ eagerlyStarted: boolean }>(Date.now() + START_DEADLINE_MS, () =>
          'broadcast' in pending
            ? temporal.workflow.start<typeof broadcastWorkflow>(
                'broadcastWorkflow',
                this.broadcastStartOptions(pending.broadcast),
              )
            : temporal.workflow.start<typeof notification>('notification', {
                ...this.startOptions(pending.request),
                requestEagerStart: eagerStart,
              }),
        ),
      );
      if (handle.eagerlyStarted) eagerWorkflowStarts.inc();
      return true;
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return true;
      workflowStartFailures.inc();
      this.options.log.warn(
        { err: error, workflow_id: startedIdOf(pending) },
        `could not start a ${'broadcast' in pending ? 'broadcast' : 'notification'} workflow`,
      );
      return false;
    }
  }

  private broadcastStartOptions(request: BroadcastRequest) {
    return {
      taskQueue: laneTaskQueue(this.options.taskQueue, request.priority),
      workflowId: broadcastWorkflowId(request.tenantId, request.broadcastId),
      args: [request] as [BroadcastRequest],
      // A closed workflow keeps its id: a start repeated after it closed must not send again.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      priority: { priorityKey: PRIORITY_KEYS[request.priority] },
      typedSearchAttributes: [
        { key: searchAttributes.tenant, value: request.tenantId },
        { key: searchAttributes.channels, value: request.channels },
        { key: searchAttributes.priority, value: request.priority },
      ],
    };
  }

  /** Broadcasts whose workflow closed without finishing: their end on record, their contacts deleted. */
  private async sweep(): Promise<void> {
    const { db, temporal, log } = this.options;
    await endAbandonedBroadcasts(db, temporal, log, this.stopped.signal).catch((error: unknown) =>
      log.warn({ err: error }, 'could not look for broadcasts that ended without finishing'),
    );
  }

  private startOptions(request: NotificationRequest) {
    return {
      ...workflowStartOptions(request, this.options.taskQueue),
      workflowId: workflowIdOf(request),
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
