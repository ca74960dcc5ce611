/**
 * Graceful shutdown under load, measured: a worker's SIGTERM (it finishes its activities or hands
 * them back within HERALD_SHUTDOWN_GRACE_SECONDS) and an API's SIGTERM (it answers the requests it
 * has; nothing it accepted goes unanswered), each timed from the signal to the exit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Attempt, HeraldClient } from './client';
import type { FaultLog, GracefulStops } from './faults';
import type { HeraldProcess } from './herald-processes';
import type { Load } from './load';
import type { Shape } from './shape';

export interface WorkerStop {
  worker: string;
  at: number;
  secondsToExit: number;
  exitCode: number | null;
  /** Activity slots in use just before the signal, by the SDK's own metrics. */
  activitiesInFlight: number | undefined;
  /** What it printed while stopping. */
  said: string[];
}

export interface ApiStop {
  api: string;
  at: number;
  secondsToExit: number;
  exitCode: number | null;
  /** Requests it had in hand at the signal, and what became of them. */
  inFlight: number;
  answered: number;
  accepted: number;
  cut: number;
  /**
   * Requests sent to it after the signal, before it exited: answered, refused (it no longer listened:
   * never read, sent again elsewhere), or cut (connected, then no answer).
   */
  afterSignal: { answered: number; refused: number; cut: number };
}

export interface GracefulFigures {
  graceSeconds: number;
  workers: WorkerStop[];
  apis: ApiStop[];
}

/** An API's requests in flight when it is stopped: a burst of this many accepts, then the signal. */
const BURST = 40;

export function gracefulStops(
  shape: Shape,
  load: Load,
  client: HeraldClient,
  log: FaultLog,
  figures: GracefulFigures,
): GracefulStops {
  /** A worker's SIGTERM, timed from the signal to its exit, then the worker started again. */
  async function stopAndRestart(worker: HeraldProcess, detail: string, inFlight?: number): Promise<void> {
    worker.reserved = true;
    const event = log.begin('worker-sigterm', worker.name, detail);
    event.pid = worker.pid;
    const before = worker.process!.output().length;
    const { code } = await worker.signal('SIGTERM');
    event.exitedAt = Date.now();
    const secondsToExit = (event.exitedAt - event.at) / 1000;
    figures.workers.push({
      worker: worker.name,
      at: event.at,
      secondsToExit,
      exitCode: code,
      activitiesInFlight: inFlight,
      said: linesOf(worker, before),
    });
    worker.reserved = false;
    await worker.restart();
    log.end(event, `exited ${code} after ${secondsToExit.toFixed(1)} s`);
  }

  return {
    async worker() {
      // With another worker up to take back what this one hands back.
      await upToTwo(shape.workers);
      const busy = await busiestWorker(shape);
      if (!busy) return void console.log('[chaos] no worker up for the graceful stop');
      await stopAndRestart(busy.worker, `${busy.inFlight ?? 'unknown'} activities in flight`, busy.inFlight);
    },
    // An upgrade's rolling restart: each worker in turn stopped, and started again before the next.
    async rollingRestart() {
      for (const [i, worker] of shape.workers.entries()) {
        await upToTwo(shape.workers);
        await stopAndRestart(worker, `rolling restart ${i + 1} of ${shape.workers.length}`);
      }
    },

    async api() {
      await upToTwo(shape.apis);
      const index = shape.apis.findIndex((a) => a.ready && !a.reserved);
      const api = shape.apis[index];
      if (!api) return void console.log('[chaos] no API up for the graceful stop');
      api.reserved = true;
      const burst = load.burst(BURST, index);
      await sleep(15);
      const event = log.begin('api-sigterm', api.name, `after a burst of ${BURST} accepts`);
      const inHand = client.attempts.filter((a) => a.api === index && a.endedAt === undefined);
      const sentBefore = new Set(client.attempts);
      const { code } = await api.signal('SIGTERM');
      const exitedAt = Date.now();
      await burst;
      const after = client.attempts.filter(
        (a: Attempt) => a.api === index && !sentBefore.has(a) && a.startedAt <= exitedAt,
      );
      const answered = inHand.filter((a) => typeof a.outcome === 'number');
      figures.apis.push({
        api: api.name,
        at: event.at,
        secondsToExit: (exitedAt - event.at) / 1000,
        exitCode: code,
        inFlight: inHand.length,
        answered: answered.length,
        accepted: answered.filter((a) => a.outcome === 202).length,
        cut: inHand.length - answered.length,
        afterSignal: {
          answered: after.filter((a) => typeof a.outcome === 'number').length,
          refused: after.filter((a) => a.outcome === 'ECONNREFUSED').length,
          cut: after.filter((a) => typeof a.outcome !== 'number' && a.outcome !== 'ECONNREFUSED').length,
        },
      });
      api.reserved = false;
      await api.restart();
      log.end(event, `exited ${code} after ${((exitedAt - event.at) / 1000).toFixed(1)} s`);
    },
  };
}

/** Waits (a minute at most) until both processes of a role are up: a stop then leaves one working. */
async function upToTwo(processes: HeraldProcess[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!processes.every((p) => p.ready) && Date.now() < deadline) await sleep(250);
}

/** The worker's activity slots in use, summed over its task queues, from the Temporal SDK's Prometheus endpoint. */
/**
 * The ready worker with the most activities under way: a stop is only measured under load if it has
 * some. Looks for 20 s at most (the load keeps sends in flight most of the time), then takes the
 * busiest it saw.
 */
async function busiestWorker(
  shape: Shape,
): Promise<{ worker: HeraldProcess; inFlight: number | undefined } | undefined> {
  const deadline = Date.now() + 20_000;
  let best: { worker: HeraldProcess; inFlight: number | undefined } | undefined;
  do {
    best = undefined;
    for (const worker of shape.workers.filter((w) => w.ready && !w.reserved)) {
      const inFlight = await activitySlotsUsed(shape.sdkMetrics.get(worker.name)!);
      if (!best || (inFlight ?? 0) > (best.inFlight ?? 0)) best = { worker, inFlight };
    }
    if (best && (best.inFlight ?? 0) > 0) return best;
    await sleep(200);
  } while (Date.now() < deadline);
  return best;
}

async function activitySlotsUsed(address: string): Promise<number | undefined> {
  try {
    const text = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text());
    let total: number | undefined;
    for (const [, labels, value] of text.matchAll(/^temporal_worker_task_slots_used\{([^}]*)\} (\S+)$/gm))
      if (/worker_type="ActivityWorker"/.test(labels!)) total = (total ?? 0) + Number(value);
    return total;
  } catch {
    return undefined;
  }
}

function linesOf(process: HeraldProcess, from: number): string[] {
  return (process.process?.output() ?? '')
    .slice(from)
    .split('\n')
    .filter((l) => l.includes('[herald-'))
    .slice(0, 10);
}
