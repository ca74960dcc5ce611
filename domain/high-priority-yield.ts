export interface YieldOptions {
  /** How long the rest keep giving way after high-priority work ends: the gap between one task and its next. */
  graceMs: number;
  /** How long the rest give way at a stretch at most; 0: never. */
  maxHoldMs: number;
}

/** The share of time the rest give way over a long stream of high-priority work: never more than half. */
const LONG_RUN_SHARE = 0.5;

/**
 * Tells when normal and low priority should give way to high-priority work under way, so a high-priority
 * notification has the machine for its few tasks instead of sharing it with a backlog. Holding draws on a
 * budget of `maxHoldMs` that refills at half a millisecond per millisecond: a stretch of high-priority
 * work holds the rest back for `maxHoldMs` or more, and a steady stream of it half the time at most, so
 * it never stops them. Work counts as under way until `graceMs` after the last high-priority task ends.
 */
export class HighPriorityYield {
  private underWay = 0;
  private lastEnded = -Infinity;
  private budgetMs: number;
  /** When the budget was last brought up to date, and whether the rest were held since then. */
  private settledAt = -Infinity;
  private held = false;

  constructor(private readonly options: YieldOptions) {
    this.budgetMs = options.maxHoldMs;
  }

  began(now = Date.now()): void {
    this.settle(now);
    this.underWay++;
    this.held = this.budgetMs > 0;
  }

  ended(now = Date.now()): void {
    this.settle(now);
    this.underWay = Math.max(0, this.underWay - 1);
    this.lastEnded = now;
  }

  /** True while the rest should wait. */
  holding(now = Date.now()): boolean {
    this.settle(now);
    return this.held;
  }

  /** Spends the budget for the time held since the last look (until the budget ran out), refills it for the rest. */
  private settle(now: number): void {
    const elapsed = Math.max(0, now - this.settledAt);
    let heldMs = 0;
    if (this.held) {
      const activeUntil = this.underWay > 0 ? now : Math.min(now, this.lastEnded + this.options.graceMs);
      heldMs = Math.min(Math.max(0, activeUntil - this.settledAt), this.budgetMs / (1 - LONG_RUN_SHARE));
    }
    this.budgetMs = Math.min(this.options.maxHoldMs, this.budgetMs - heldMs + elapsed * LONG_RUN_SHARE);
    this.settledAt = now;
    this.held = this.active(now) && this.budgetMs > 0;
  }

  private active(now: number): boolean {
    return this.underWay > 0 || now - this.lastEnded < this.options.graceMs;
  }
}
