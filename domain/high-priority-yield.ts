export interface YieldOptions {
  /** How long the rest keep giving way after high-priority work ends: the gap between one task and its next. */
  graceMs: number;
  /** How long one stretch of high-priority work holds the rest back at most; 0: never. */
  maxHoldMs: number;
}

/**
 * Tells when normal and low priority should give way to high-priority work under way, so a high-priority
 * notification has the machine for its few tasks instead of sharing it with a backlog. A stretch of
 * high-priority work holds the rest back for `maxHoldMs` at most: a steady stream of it slows them once
 * and never stops them. A stretch ends `graceMs` after the last high-priority task does.
 */
export class HighPriorityYield {
  private underWay = 0;
  private lastEnded = -Infinity;
  /** When the stretch under way began. */
  private since?: number;

  constructor(private readonly options: YieldOptions) {}

  began(now = Date.now()): void {
    if (!this.active(now)) this.since = now;
    this.underWay++;
  }

  ended(now = Date.now()): void {
    this.underWay = Math.max(0, this.underWay - 1);
    this.lastEnded = now;
  }

  /** True while the rest should wait. */
  holding(now = Date.now()): boolean {
    return this.active(now) && now - this.since! < this.options.maxHoldMs;
  }

  private active(now: number): boolean {
    return this.underWay > 0 || now - this.lastEnded < this.options.graceMs;
  }
}
