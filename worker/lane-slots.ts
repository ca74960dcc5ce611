import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ActivityInboundCallsInterceptor,
  CustomSlotSupplier,
  SlotInfo,
  SlotPermit,
  SlotReleaseContext,
  SlotReserveContext,
  TunerHolder,
} from '@temporalio/worker';
import { HighPriorityYield, type YieldOptions } from '../domain/high-priority-yield';

/** How often slots held back for high priority look again whether it is done. */
const RECHECK_MS = 20;

/**
 * The worker's slots on both priority lanes. The high lane's tasks tell when high-priority work is under
 * way; while it is, the main lane takes no new tasks and starts no activity it has taken (those running
 * finish), so a high-priority notification's few tasks have the process and the Temporal server to
 * themselves.
 */
export class LaneSlots {
  /** When high-priority work is under way; an API in this process tells it of accepts too. */
  readonly highPriority: HighPriorityYield;
  private clearing?: Promise<void>;

  constructor(options: YieldOptions) {
    this.highPriority = new HighPriorityYield(options);
  }

  /** A worker's tuner: `workflowSlots` workflow tasks and `activitySlots` activities at once on `lane`. */
  tuner(lane: 'high' | 'main', workflowSlots: number, activitySlots: number): TunerHolder {
    return {
      workflowTaskSlotSupplier: this.supplier(lane, workflowSlots),
      activityTaskSlotSupplier: this.supplier(lane, activitySlots),
      // A local activity's slot is taken inside a workflow task already under way: never held back.
      localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_SLOTS.localActivities },
      nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_SLOTS.nexusTasks },
    };
  }

  /**
   * Holds a main-lane activity back while high priority holds the lane: the SDK reserves slots before it
   * polls, so a worker's idle pollers may still take a task or two after the hold begins.
   */
  readonly mainLaneActivities: ActivityInboundCallsInterceptor = {
    execute: async (input, next) => {
      if (this.highPriority.holding()) await this.cleared();
      return next(input);
    },
  };

  private supplier<SI extends SlotInfo>(lane: 'high' | 'main', size: number): CustomSlotSupplier<SI> {
    const role: LaneRole =
      lane === 'high'
        ? {
            held: () => false,
            cleared: () => Promise.resolve(),
            used: () => this.highPriority.began(),
            done: () => this.highPriority.ended(),
          }
        : { held: () => this.highPriority.holding(), cleared: () => this.cleared(), used: () => {}, done: () => {} };
    return new Slots<SI>(size, role);
  }

  /** Resolves once high priority no longer holds the main lane back; one timer for every waiting slot. */
  private cleared(): Promise<void> {
    this.clearing ??= (async () => {
      // Unreferenced: a worker that stops while held must not keep the process alive.
      while (this.highPriority.holding()) await sleep(RECHECK_MS, undefined, { ref: false });
      this.clearing = undefined;
    })();
    return this.clearing;
  }
}

/** The SDK's own defaults, kept for the slots Herald supplies itself. */
export const DEFAULT_SLOTS = { workflowTasks: 40, activities: 100, localActivities: 100, nexusTasks: 100 } as const;

/** What a lane's slots do: the high lane's report its tasks, the main lane's wait while they run. */
interface LaneRole {
  held(): boolean;
  cleared(): Promise<void>;
  used(): void;
  done(): void;
}

/** At most `size` slots at once, none while the lane is held. */
class Slots<SI extends SlotInfo> implements CustomSlotSupplier<SI> {
  readonly type = 'custom';
  private taken = 0;
  private freed?: { promise: Promise<void>; resolve: () => void };

  constructor(
    private readonly size: number,
    private readonly lane: LaneRole,
  ) {}

  async reserveSlot(_ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    for (;;) {
      if (this.lane.held()) await abortable(this.lane.cleared(), abortSignal);
      else if (this.taken >= this.size) await abortable(this.slotFreed(), abortSignal);
      else break;
    }
    this.taken++;
    return {};
  }

  /** Eager tasks (a workflow task handed back with its start) take a slot only if one is free now. */
  tryReserveSlot(): SlotPermit | null {
    if (this.lane.held() || this.taken >= this.size) return null;
    this.taken++;
    return {};
  }

  markSlotUsed(): void {
    this.lane.used();
  }

  releaseSlot(ctx: SlotReleaseContext<SI>): void {
    this.taken--;
    // Only a slot that carried a task was reported used; an unused one is released when a poll times out.
    if (ctx.slotInfo) this.lane.done();
    const freed = this.freed;
    this.freed = undefined;
    freed?.resolve();
  }

  private slotFreed(): Promise<void> {
    if (!this.freed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.freed = { promise, resolve };
    }
    return this.freed.promise;
  }
}

/** `promise`, or the abort's reason as soon as the SDK gives up on the slot. */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
