/**
 * The fault loop: while the load runs, a random worker that is up is killed every few seconds (its
 * supervisor starts it again at once), and each one-off fault happens at its moment of the plan.
 * Every fault is logged with its time, which is what explains a duplicate later.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeraldProcess } from './herald-processes';
import type { Plan } from './plan';
import type { Providers } from './providers';
import type { Shape } from './shape';

export type FaultKind =
  | 'worker-sigkill'
  | 'api-sigkill'
  | 'worker-sigterm'
  | 'api-sigterm'
  | 'temporal-restart'
  | 'postgres-restart'
  | 'redis-stop'
  | 'twilio-outage'
  | 'unasked-exit';

export interface FaultEvent {
  kind: FaultKind;
  target: string;
  /** Wall-clock milliseconds: when it began, and when what it broke was back. */
  at: number;
  endedAt?: number;
  /** When a stopped process exited: a SIGTERM cuts the sends still in flight then, at its grace time's end. */
  exitedAt?: number;
  /** The worker it stopped or killed: its process group, as the providers' logs name senders. */
  pid?: number;
  detail?: string;
}

export class FaultLog {
  readonly events: FaultEvent[] = [];
  constructor(private readonly origin: number) {}

  begin(kind: FaultKind, target: string, detail?: string): FaultEvent {
    const event: FaultEvent = { kind, target, at: Date.now(), ...(detail ? { detail } : {}) };
    this.events.push(event);
    console.log(`[chaos] ${this.clock(event.at)} ${kind} ${target}${detail ? `: ${detail}` : ''}`);
    return event;
  }

  end(event: FaultEvent, detail?: string): void {
    event.endedAt = Date.now();
    if (detail) event.detail = event.detail ? `${event.detail}; ${detail}` : detail;
    console.log(
      `[chaos] ${this.clock(event.endedAt)} ${event.kind} ${event.target}: back${detail ? ` (${detail})` : ''}`,
    );
  }

  /** Seconds since the load began, as the log prints them. */
  clock(at: number): string {
    return `+${((at - this.origin) / 1000).toFixed(1)}s`;
  }
}

/** The one-off graceful stops, measured elsewhere (graceful.ts) but timed by the loop. */
export interface GracefulStops {
  worker(): Promise<void>;
  rollingRestart(): Promise<void>;
  api(): Promise<void>;
}

export async function runFaults(
  plan: Plan,
  shape: Shape,
  providers: Providers,
  log: FaultLog,
  graceful: GracefulStops,
  loadStart: number,
): Promise<void> {
  const at = async (seconds: number, fault: () => Promise<void>) => {
    await sleep(Math.max(0, loadStart + seconds * 1000 - Date.now()));
    await fault();
  };
  const killUntil = loadStart + (plan.loadSeconds - plan.quietBeforeEndSeconds) * 1000;
  await Promise.all([
    killWorkers(shape.workers, plan.workerKillEverySeconds, killUntil, log),
    ...plan.at.apiKills.map((seconds, i) =>
      at(seconds, async () => {
        const api = shape.apis[i % shape.apis.length]!;
        const event = log.begin('api-sigkill', api.name);
        await api.signal('SIGKILL');
        await until(() => api.ready);
        log.end(event);
      }),
    ),
    at(plan.at.twilioOutage, async () => {
      const event = log.begin('twilio-outage', 'twilio', 'every request answered 503');
      providers.twilioDown(true);
      await sleep(plan.twilioOutageSeconds * 1000);
      providers.twilioDown(false);
      log.end(event);
    }),
    at(plan.at.workerSigterm, () => graceful.worker()),
    at(plan.at.rollingRestart, () => graceful.rollingRestart()),
    at(plan.at.temporalRestart, async () => {
      const event = log.begin('temporal-restart', shape.temporal.kind);
      await shape.temporal.stop();
      await shape.temporal.start();
      log.end(event);
    }),
    at(plan.at.postgresRestart, async () => {
      const event = log.begin('postgres-restart', 'postgres', 'down 5 s');
      await shape.postgres.stop();
      await sleep(5_000);
      await shape.postgres.start();
      log.end(event);
    }),
    at(plan.at.redisStop, async () => {
      const event = log.begin('redis-stop', 'redis', `down ${plan.redisDownSeconds} s`);
      await shape.redis.stop();
      await sleep(plan.redisDownSeconds * 1000);
      await shape.redis.start();
      log.end(event);
    }),
    at(plan.at.apiSigterm, () => graceful.api()),
  ]);
}

/**
 * Kills a random worker every few seconds, as long as another one is up: a worker takes longer to
 * start (bundling its workflows) than the interval, and with both down nothing would be left to
 * recover the work of the one killed.
 */
async function killWorkers(workers: HeraldProcess[], everySeconds: number, until: number, log: FaultLog) {
  for (;;) {
    await sleep(everySeconds * 1000);
    if (Date.now() >= until) return;
    const up = workers.filter((w) => w.ready && !w.reserved);
    if (up.length < 2) {
      console.log(`[chaos] ${log.clock(Date.now())} worker kill skipped: ${up.length} worker up`);
      continue;
    }
    const victim = up[Math.floor(Math.random() * up.length)]!;
    const event = log.begin('worker-sigkill', victim.name, `pid ${victim.pid}`);
    event.pid = victim.pid;
    await victim.signal('SIGKILL');
    void victim.restart().then(() => log.end(event));
  }
}

export async function until(done: () => boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(100);
  }
}
