/**
 * Undoes start-up in reverse order, one named step at a time, so a shutdown that hangs can say what
 * it is waiting for.
 */
export class Shutdown {
  private readonly steps: { name: string; run: () => unknown }[] = [];
  private current: string | undefined;
  private running: Promise<void> | undefined;

  /** Registers a step; steps run last-registered first. */
  add(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  /** The step under way, if any. */
  get pending(): string | undefined {
    return this.current;
  }

  /** Runs every step once; later calls wait for the same run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        this.current = step.name;
        await step.run();
      }
      this.current = undefined;
    })();
    return this.running;
  }
}

/**
 * Stops on SIGINT or SIGTERM and exits 0; exits 1 naming the step it waits for if stopping takes
 * longer than `deadlineMs`, so an orchestrator's kill never comes unexplained.
 */
export function stopOnSignals(name: string, shutdown: Shutdown, deadlineMs: number): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    // `npm start` passes on the terminal's Ctrl-C, which reached this process already.
    if (stopping) return;
    stopping = true;
    console.log(`[${name}] ${signal}: stopping ...`);
    setTimeout(() => {
      console.error(
        `[${name}] ${signal}: still waiting for ${shutdown.pending ?? 'exit'} after ${deadlineMs / 1000} s; exiting`,
      );
      process.exit(1);
    }, deadlineMs).unref();
    shutdown.run().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[${name}] shutdown failed`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
