/**
 * `npm run chaos [-- --short] [-- --temporal cluster|dev-server]`: Herald's promise (an accepted
 * notification is never lost and never reaches someone it should not) checked on the production
 * shape while things die. Starts PostgreSQL, a Temporal server, Redis, two APIs and two workers in
 * front of misbehaving loopback providers; sends a mixed load while a fault loop kills and restarts
 * them; then checks what the providers took against what was accepted. Exits 1 when a check fails.
 * `--short` is CI's: a smaller load, every fault once, the dev server. `--cleanup` stops what a
 * killed run left behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { check, verdicts, type RecordedDelivery } from './checks';
import { HeraldClient } from './client';
import { FaultLog, runFaults, until } from './faults';
import { keepEvidence } from './evidence';
import { gracefulStops, type GracefulFigures } from './graceful';
import { Load } from './load';
import { chaosDir, cleanUp } from './manifest';
import { planFor, type Plan } from './plan';
import { startProviders } from './providers';
import { printSummary, writeReport } from './report';
import { settle } from './settle';
import { createTenant, startShape, type Shape } from './shape';

async function main(): Promise<number> {
  mkdirSync(chaosDir, { recursive: true });
  // What a run killed before its end left running.
  cleanUp();
  if (process.argv.includes('--cleanup')) return 0;
  const plan = withTemporalOption(planFor(process.argv.includes('--short') ? 'short' : 'full'));
  const started = Date.now();
  const runDir = path.join(chaosDir, new Date(started).toISOString().replace(/[:.]/g, '-'));
  mkdirSync(runDir, { recursive: true });
  console.log(`[chaos] ${plan.mode} mode on ${os.cpus().length} cores, Temporal ${plan.temporal}; logs in ${runDir}`);

  const providers = await startProviders();
  let shape: Shape | undefined;
  const stopAll = async () => {
    for (const p of [...(shape?.apis ?? []), ...(shape?.workers ?? [])]) p.release();
    await Promise.all([...(shape?.apis ?? []), ...(shape?.workers ?? [])].map((p) => p.signal('SIGTERM')));
    await shape?.temporal.stop().catch(() => undefined);
    await Promise.all([shape?.postgres.stop(), shape?.redis.stop()]).catch(() => undefined);
    await providers.stop();
    cleanUp();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.log(`[chaos] ${signal}: stopping everything`);
      cleanUp();
      process.exit(1);
    });
  process.once('uncaughtException', (error) => {
    console.error('[chaos] failed:', error);
    cleanUp();
    process.exit(1);
  });

  try {
    shape = await startShape(plan, runDir, providers);
    const workers = shape.workers;
    providers.traceSenders(() => workers.flatMap((w) => w.pid ?? []));
    const tenant = await createTenant(shape, `${providers.webhook.url}/hook`);
    const client = new HeraldClient(
      shape.apis.map((a) => a.url!),
      { authorization: `Bearer ${tenant.apiKey}` },
    );
    const load = new Load(client, tenant.id);
    const loadStart = Date.now();
    const startUp = (loadStart - started) / 1000;
    console.log(`[chaos] up after ${startUp.toFixed(0)} s; load for ${plan.loadSeconds} s`);
    const log = new FaultLog(loadStart);
    for (const p of [...shape.apis, ...shape.workers]) {
      p.supervise();
      p.onUnexpectedExit = (name, detail) => log.begin('unasked-exit', name, detail);
    }
    const graceful: GracefulFigures = {
      graceSeconds: Number(process.env.HERALD_SHUTDOWN_GRACE_SECONDS ?? 10),
      workers: [],
      apis: [],
    };
    const faults = runFaults(plan, shape, providers, log, gracefulStops(shape, load, client, log, graceful), loadStart);
    const broadcast = sleep(plan.at.broadcast * 1000).then(() => load.sendBroadcast(plan.broadcastRecipients));
    await load.run(plan.loadSeconds, plan.perSecond);
    await Promise.all([faults, broadcast]);
    await load.settled();
    const loadEnd = Date.now();
    const everyone = [...shape.apis, ...shape.workers];
    await until(() => everyone.every((p) => p.ready), 300_000);

    console.log('[chaos] load done; waiting for every notification to settle');
    const end = await settle(load, client, plan.settleSeconds * 1000);
    const settledAt = Date.now();
    // Late duplicates: a send retried after its worker died arrives before its notification settles.
    const arrivals = providers.arrivals();
    // What each side said, for whoever diagnoses a failed check.
    writeFileSync(
      path.join(runDir, 'statuses.json'),
      JSON.stringify(
        load.orders.map((o) => ({ ...o, herald: end.outcomes.get(o) })),
        null,
        1,
      ),
    );
    writeFileSync(path.join(runDir, 'arrivals.json'), JSON.stringify(arrivals, null, 1));
    await keepEvidence(end.unsettled, {
      runDir,
      tenantId: tenant.id,
      temporalAddress: shape.temporal.address,
      databaseUrl: shape.postgres.url,
    }).catch((error: unknown) => console.log(`[chaos] could not keep the evidence: ${String(error)}`));
    const findings = check({
      orders: load.orders,
      outcomes: end.outcomes,
      broadcast: load.broadcast && {
        order: load.broadcast,
        snapshot: end.broadcast,
        recorded: load.broadcast.id ? await recordedDeliveries(shape.postgres.url, tenant.id, load.broadcast.id) : [],
      },
      arrivals,
      faults: log.events,
      clock: (at) => log.clock(at),
    });
    const answeredInTheEnd =
      load.orders.every((o) => o.answer?.status !== undefined) &&
      load.orders.every((o) => !o.ack || o.ack.status !== undefined) &&
      (!load.broadcast || load.broadcast.answer?.status !== undefined);
    const report = {
      mode: plan.mode,
      at: new Date(started).toISOString(),
      temporal:
        plan.temporal === 'cluster'
          ? 'the Temporal server built from source, on PostgreSQL'
          : 'the Temporal CLI dev server',
      cores: os.cpus().length,
      node: process.version,
      plan,
      seconds: {
        startUp,
        load: (loadEnd - loadStart) / 1000,
        settle: (settledAt - loadEnd) / 1000,
        total: (Date.now() - started) / 1000,
      },
      settled: end.settled,
      faults: log.events.map((e) => ({ ...e, clock: log.clock(e.at) })),
      providerFaults: providers.faultsServed(),
      findings,
      graceful,
      verdicts: verdicts(
        findings,
        {
          workersOk:
            graceful.workers.length > 0 &&
            graceful.workers.every((w) => w.exitCode === 0 && w.secondsToExit <= graceful.graceSeconds + 15),
          apisOk: graceful.apis.length > 0 && graceful.apis.every((a) => a.exitCode === 0 && a.cut === 0),
        },
        answeredInTheEnd,
        plan.mode,
      ),
    };
    await writeReport(report, runDir);
    printSummary(report, runDir);
    return report.verdicts.every((v) => v.ok) ? 0 : 1;
  } finally {
    await stopAll();
  }
}

/** What Herald recorded of each of the broadcast's deliveries. */
async function recordedDeliveries(url: string, tenantId: string, broadcastId: string): Promise<RecordedDelivery[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<RecordedDelivery>(
      'select recipient_id as "recipientId", channel, status from deliveries where tenant_id = $1 and notification_id = $2',
      [tenantId, broadcastId],
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** `--temporal cluster|dev-server` runs either mode on the other server. */
function withTemporalOption(plan: Plan): Plan {
  const at = process.argv.indexOf('--temporal');
  if (at < 0) return plan;
  const value = process.argv[at + 1];
  if (value !== 'cluster' && value !== 'dev-server') throw new Error('--temporal takes cluster or dev-server');
  return { ...plan, temporal: value };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('[chaos] failed:', error);
    cleanUp();
    process.exit(1);
  },
);
