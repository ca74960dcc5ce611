/**
 * Herald's API and worker processes as `npm run api` and `npm run worker` run them (the entry under
 * tsx), each in a process group of its own so a kill reaches everything it started, each logging to
 * a file of its own across restarts.
 */
import type { WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeProcess } from '../../test/support/processes';
import { noteGroup } from './manifest';
import { openLog } from './services';

export type Role = 'api' | 'worker';

/** One API or worker slot: what runs in it now, and whether it is ready for work. */
export class HeraldProcess {
  process: NodeProcess | undefined;
  ready = false;
  /** A graceful stop is being measured: the kill loop and the supervisor leave it alone. */
  reserved = false;
  /** Called when it exits without having been sent a signal. */
  onUnexpectedExit: ((name: string, detail: string) => void) | undefined;
  private readonly log: WriteStream;
  private supervised = false;
  private sentSignal: NodeJS.Signals | undefined;
  private restarting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
    /** The API's base URL (APIs only). */
    readonly url?: string,
  ) {
    this.log = openLog(logFile);
  }

  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  get running(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts it and waits until it takes work: the worker polls, the API answers. */
  async start(): Promise<void> {
    this.ready = false;
    this.sentSignal = undefined;
    const entry = this.role === 'api' ? 'main/api.ts' : 'main/worker.ts';
    const started = new NodeProcess(entry, { env: this.env, direct: true, detached: true });
    this.process = started;
    noteGroup(started.child.pid!);
    this.log.write(`--- ${new Date().toISOString()} started (pid ${started.child.pid})\n`);
    started.child.stdout!.pipe(this.log, { end: false });
    started.child.stderr!.pipe(this.log, { end: false });
    if (this.role === 'worker') await started.waitFor('polling task queue', 180_000);
    else await this.answering(started);
    if (this.process !== started) return;
    this.ready = true;
    started.child.once('exit', (code, signal) => this.exited(started, `${code ?? signal}`));
    this.log.write(`--- ${new Date().toISOString()} up\n`);
  }

  /** From now on it is started again whenever it exits, as an orchestrator's restart policy would. */
  supervise(): void {
    this.supervised = true;
  }

  /** No more restarts: the run is ending. */
  release(): void {
    this.supervised = false;
  }

  /** Starts it, again and again until it is up (a worker cannot start while Temporal is away). */
  restart(): Promise<void> {
    this.restarting ??= (async () => {
      for (let tries = 0; this.supervised || tries === 0; tries++) {
        try {
          await this.start();
          return;
        } catch (error) {
          this.log.write(
            `--- ${new Date().toISOString()} could not start: ${(error as Error).message.split('\n')[0]}\n`,
          );
          await sleep(Math.min(1000 * 2 ** tries, 5000));
        }
      }
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  private exited(process: NodeProcess, how: string): void {
    this.log.write(`--- ${new Date().toISOString()} exited (${how}) after ${this.sentSignal ?? 'no signal'}\n`);
    if (this.process !== process || !this.supervised || this.reserved) return;
    if (!this.sentSignal) this.onUnexpectedExit?.(this.name, `exited (${how}) unasked: ${this.tail(5)}`);
    void this.restart();
  }

  /** Sends `signal` to its process group and resolves with how it exited. */
  async signal(signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }> {
    const started = this.process;
    if (!started) return { code: null, signal: null };
    this.ready = false;
    this.sentSignal = signal;
    const child = started.child;
    if (this.running) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // It exited meanwhile.
      }
    }
    await started.exit();
    return { code: child.exitCode, signal: child.signalCode };
  }

  /** The last lines it printed. */
  tail(lines = 20): string {
    return (this.process?.output() ?? '').trim().split('\n').slice(-lines).join('\n');
  }

  private async answering(started: NodeProcess): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (started.child.exitCode !== null || started.child.signalCode !== null)
        throw new Error(`${this.name} exited while starting:\n${started.output()}`);
      const status = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`${this.name} did not answer in time:\n${started.output()}`);
      await sleep(200);
    }
  }
}
