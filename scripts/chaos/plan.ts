/** What one chaos run does and when: the load's size and the moments of its one-off faults. */

export type Mode = 'full' | 'short';

export interface Plan {
  mode: Mode;
  /** How long notifications are sent. */
  loadSeconds: number;
  /** Notifications accepted per second, spread over the kinds in load.ts. */
  perSecond: number;
  broadcastRecipients: number;
  /** The full cluster (built from Go, on PostgreSQL) or the CLI's dev server (SQLite). */
  temporal: 'cluster' | 'dev-server';
  /** A random worker that is up is killed this often while the load runs. */
  workerKillEverySeconds: number;
  redisDownSeconds: number;
  /** How long the end waits for every notification to settle. */
  settleSeconds: number;
  /** One-off faults, in seconds from the load's start. */
  at: {
    broadcast: number;
    apiKills: number[];
    twilioOutage: number;
    workerSigterm: number;
    /** Every worker stopped and started again in turn, as an upgrade does while escalations wait. */
    rollingRestart: number;
    temporalRestart: number;
    postgresRestart: number;
    redisStop: number;
    apiSigterm: number;
  };
  twilioOutageSeconds: number;
  /** The worker kill loop stops this long before the load ends, so the end sees no kill it cannot wait out. */
  quietBeforeEndSeconds: number;
}

/**
 * The short mode fits CI's budget on two cores (start-up, load, settle and checks within 4 minutes):
 * every fault once, a smaller load and broadcast, and the dev server, which starts in seconds.
 */
export function planFor(mode: Mode): Plan {
  if (mode === 'short')
    return {
      mode,
      loadSeconds: 60,
      perSecond: 2.5,
      broadcastRecipients: 1_000,
      temporal: 'dev-server',
      workerKillEverySeconds: 10,
      redisDownSeconds: 30,
      settleSeconds: 120,
      at: {
        broadcast: 8,
        apiKills: [12],
        twilioOutage: 16,
        workerSigterm: 22,
        rollingRestart: 32,
        temporalRestart: 28,
        postgresRestart: 40,
        redisStop: 20,
        apiSigterm: 55,
      },
      twilioOutageSeconds: 15,
      quietBeforeEndSeconds: 10,
    };
  return {
    mode,
    loadSeconds: 300,
    perSecond: 4,
    broadcastRecipients: 10_000,
    temporal: 'cluster',
    workerKillEverySeconds: 10,
    redisDownSeconds: 30,
    settleSeconds: 600,
    at: {
      broadcast: 30,
      apiKills: [50, 200],
      twilioOutage: 70,
      workerSigterm: 100,
      rollingRestart: 160,
      temporalRestart: 130,
      postgresRestart: 170,
      redisStop: 220,
      apiSigterm: 270,
    },
    twilioOutageSeconds: 30,
    quietBeforeEndSeconds: 0,
  };
}
