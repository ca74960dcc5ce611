export interface BurstOptions {
  /** Arrivals that make a burst when they all fall within `spanMs`. */
  threshold: number;
  spanMs: number;
  /** How long one burst holds low-priority work back at most; 0: never. */
  maxHoldMs: number;
}

/**
 * Tells when requests arrive as a burst (`threshold` of them within `spanMs`), so low-priority work can
 * give way to them. A burst holds it back for `maxHoldMs` at most: a steady stream of requests slows
 * that work once and never stops it. The hold ends `spanMs` after the burst does.
 */
export class BurstHold {
  /** The last `threshold` arrival times, oldest at `next` once full. */
  private readonly arrivals: number[] = [];
  private next = 0;
  /** When the burst under way began. */
  private since?: number;

  constructor(private readonly options: BurstOptions) {}

  arrived(now = Date.now()): void {
    const last = this.arrivals[(this.next + this.options.threshold - 1) % this.options.threshold];
    // A quiet span ends the burst, whether or not anyone asked meanwhile.
    if (last === undefined || now - last >= this.options.spanMs) this.since = undefined;
    this.arrivals[this.next] = now;
    this.next = (this.next + 1) % this.options.threshold;
  }

  /** True while low-priority work should wait. */
  holding(now = Date.now()): boolean {
    const { threshold, spanMs, maxHoldMs } = this.options;
    const oldest = this.arrivals.length === threshold ? this.arrivals[this.next]! : -Infinity;
    if (now - oldest >= spanMs) {
      this.since = undefined;
      return false;
    }
    this.since ??= now;
    return now - this.since < maxHoldMs;
  }
}
