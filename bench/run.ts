/**
 * `npm run bench [-- --quick] [-- --temporal-address HOST:PORT]`: Herald on the embedded defaults
 * with loopback providers, measured beside baselines from the same run. Prints one table and writes
 * bench-results/latest.json (or latest-<host>-<port>.json against another Temporal server).
 * --quick is CI's smoke test: small counts, checks that every count adds up, never timing thresholds.
 * --burst N sets the single-recipient burst (10,000 in full mode).
 * --temporal-address runs it all against that Temporal server instead of the embedded dev server,
 * such as the 8-shard one `scripts/temporal-cluster.sh start` runs.
 * --only templates runs the templates section alone, with its own baselines (bench-results/latest-templates.json);
 * --only live-inbox the live inbox's (bench-results/latest-live-inbox.json).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installTemporalRuntime } from '../runtime/temporal';
import { FakeTelegram, TELEGRAM_BOT_TOKEN } from '../test/fakes/chat';
import { FakeSmtpServer } from '../test/fakes/smtp-server';
import { freePort } from '../test/support/temporal';
import { listeningPid, NodeProcess } from '../test/support/processes';
import { postgresPids } from './processes';
import { laneTaskQueues } from '../domain/delivery-policy';
import { notificationWorkflowId } from '../workflows/definitions';
import { pool } from '../domain/pool';
import { phasesOf, type Probe } from './phases';
import { fmt, type Row } from './report';
import { templateStages } from './templates';
import { inboxStreamStages } from './inbox-streams';
import { cpuSecondsSince, cpuTimes, latencySummary, memoryOf, steadyRssMb } from './stats';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const givenTemporal = optionValue('--temporal-address');
const only = optionValue('--only');
if (only !== undefined && only !== 'templates' && only !== 'live-inbox')
  throw new Error(`--only takes templates or live-inbox, not ${only}`);
const sizes = withBurst(
  quick
    ? {
        noop: 20_000,
        refused: 5_000,
        single: 150,
        bulk: 10,
        bulkRecipients: 20,
        trivial: 100,
        perPriority: 10,
        backlog: 100,
        urgent: 10,
        sleeping: 50,
        stalled: 20,
        scheduled: 100,
        broadcast: 2_000,
        templated: 100,
        renders: 200,
        versions: 1_000,
        streams: 200,
        streamProbes: 10,
        streamBurst: 150,
      }
    : {
        noop: 200_000,
        refused: 50_000,
        single: 10_000,
        bulk: 30,
        bulkRecipients: 100,
        trivial: 500,
        perPriority: 60,
        backlog: 500,
        urgent: 30,
        sleeping: 500,
        stalled: 100,
        scheduled: 1_000,
        broadcast: 100_000,
        templated: 1_000,
        renders: 2_000,
        versions: 1_000,
        streams: 1_000,
        streamProbes: 60,
        streamBurst: 2_000,
      },
);
const CONNECTIONS = 16;
/**
 * Latency probes go out at a steady 5 a second: a trickle measures the path a notification takes,
 * where probes sent all at once would mostly measure the queue they make themselves.
 */
const PROBES = { perSecond: 5 };
const API_KEY = 'hk_bench_key';
const problems: string[] = [];
const check = (ok: boolean, what: string) => ok || problems.push(what);

const rows: Row[] = [];
const record = (row: Row) => {
  rows.push(row);
  console.log(
    `  ${row.stage}: ${row.figure} = ${fmt(row.value)} ${row.unit}${row.ratio !== undefined ? ` (×${fmt(row.ratio)} ${row.baseline})` : ''}`,
  );
};

async function main() {
  installTemporalRuntime('ERROR');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  const smtp = await new FakeSmtpServer().start();
  const telegram = await new FakeTelegram().start();
  const port = await freePort();
  const temporalPort = await freePort();
  // A queue of its own: a shared server keeps earlier runs' workflows.
  const taskQueue = `bench-${Date.now()}`;
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

  const server = givenTemporal ? `the Temporal server at ${givenTemporal}` : 'the embedded Temporal dev server';
  console.log(
    `Herald benchmark (${quick ? 'quick' : 'full'} mode${only ? `, ${only} only` : ''}) on ${os.cpus().length} cores, Node ${process.version}, ${server}`,
  );
  // Started as `npm start` starts it; the Herald process is the one serving the API. --profile starts
  // the entry itself, with a V8 CPU profile (for chrome://inspect or speedscope): Node takes --cpu-prof
  // only on its command line, never from NODE_OPTIONS.
  const herald = new NodeProcess(profile ? 'main/embedded.ts' : undefined, {
    direct: profile,
    nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(__dirname, '..', 'bench-results')}`] : [],
    env: {
      MALLOC_ARENA_MAX: '2',
      ...process.env,
      HERALD_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      TEMPORAL_DEV_PORT: String(temporalPort),
      ...(givenTemporal ? { TEMPORAL_ADDRESS: givenTemporal } : {}),
      HERALD_TASK_QUEUE: taskQueue,
      TEMPORAL_UI_PORT: String(await freePort()),
      HERALD_DEV_API_KEY: API_KEY,
      // Limits high enough never to refuse: the bench measures Herald, limiter included, not a tenant's allowance.
      HERALD_TENANT_RATE_PER_SECOND: '1000000',
      HERALD_TENANT_BURST: '1000000',
      SMTP_URL: smtp.url,
      TELEGRAM_BOT_TOKEN,
      TELEGRAM_API_BASE_URL: telegram.url,
      LOG_LEVEL: 'warn',
      HERALD_SDK_METRICS_ADDRESS: '',
    },
  });
  await herald.waitFor('Press Ctrl-C to stop');
  const heraldPid = profile ? herald.child.pid! : onlyChildOf(herald.child.pid!);
  const temporalAddress = givenTemporal ?? `127.0.0.1:${temporalPort}`;
  const temporalPid = listeningPid(temporalAddress);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  /** Settled: every workflow has closed but those of sent emails, which listen for receipts. */
  const settled = (timeoutMs: number) =>
    until(async () => {
      const { count } = await client.workflow.count(
        `HeraldTenant = "dev" AND TaskQueue IN ("${laneTaskQueues(taskQueue).join('", "')}") AND ExecutionStatus = "Running"`,
      );
      return count <= smtp.received.length;
    }, timeoutMs);

  const pidsOf = () => ({
    herald: [heraldPid],
    temporal: temporalPid ? [temporalPid] : [],
    postgres: postgresPids(),
  });
  const serverPids = () => {
    const { temporal, postgres } = pidsOf();
    return [...temporal, ...postgres];
  };

  try {
    if (only === undefined) {
      // 1. Baselines.
      const noop = new NodeProcess('bench/noop-server.ts', { direct: true, env: process.env });
      await noop.waitFor('listening');
      const noopUrl = /listening (\S+)/.exec(noop.output())![1]!;
      const noopRun = await load({
        url: `${noopUrl}/noop`,
        body: '{"x":1}',
        headers: { 'content-type': 'application/json' },
        amount: sizes.noop,
      });
      await noop.stop();
      record({ stage: 'baseline', figure: 'no-op Fastify POST', value: rate(noopRun), unit: 'req/s' });
      record({
        stage: 'baseline',
        figure: 'no-op Fastify latency mean / p99',
        value: noopRun.latency.average,
        unit: `ms / ${fmt(noopRun.latency.p99)} ms`,
      });

      // The server's own CPU (Temporal and, on a cluster, its PostgreSQL) per trivial workflow, against which
      // its CPU per send drained below says how much more work a notification is for it.
      const serverCpuBeforeTrivial = cpuTimes(serverPids());
      const trivial = await trivialWorkflows(temporalAddress, client, sizes.trivial);
      const serverMsPerTrivial = (1000 * cpuSecondsSince(serverCpuBeforeTrivial, serverPids())) / sizes.trivial;
      record({ stage: 'baseline', figure: 'trivial one-activity workflows', value: trivial.perSecond, unit: 'wf/s' });
      record({
        stage: 'baseline',
        figure: 'trivial workflow start→complete p50',
        value: trivial.latency.p50,
        unit: 'ms',
      });

      // Herald has sat idle through the baselines.
      const idle = { rssMb: await steadyRssMb(heraldPid) };
      // Workflows sleeping on receipts, measured before any other load, whose garbage would blur a few
      // hundred KiB each, and after a first few, which pay for what the first sends set up once (connections,
      // compiled code, the workflow thread's heap); all sleep on through the rest of the run, as a live system's would.
      await emails(base, auth, smtp, 'first-sleeping', 20, { concurrency: 16 }, 'low');
      const beforeSleep = await steadyRssMb(heraldPid);
      await emails(base, auth, smtp, 'sleeping', sizes.sleeping, { concurrency: 16 }, 'low');
      const sleeping = await steadyRssMb(heraldPid);

      // 2. Herald's own request path, Temporal left out: key, tenant rate limit, parsing and validation.
      const refusedRun = await load({
        url: `${base}/notify`,
        body: JSON.stringify({ channels: ['pager'], recipients: [{ id: 'r' }], message: 'refused' }),
        headers: auth,
        amount: sizes.refused,
      });
      check(
        refusedRun['4xx'] === sizes.refused,
        `refused requests: ${refusedRun['4xx']}/${sizes.refused} answered 400`,
      );
      record({
        stage: 'api',
        figure: 'POST /notify refused by validation (auth, rate limit, schema)',
        value: rate(refusedRun),
        unit: 'req/s',
        baseline: 'no-op Fastify',
        ratio: rate(refusedRun) / rate(noopRun),
      });

      // 3. Ingest.
      const metrics = async () =>
        (await fetch(`${base}/metrics`, { headers: { ...auth, accept: 'application/json' } }).then((r) =>
          r.json(),
        )) as {
          succeeded: number;
          failed: number;
        };
      // Counts are deltas: a PostgreSQL named by DATABASE_URL may hold an earlier run's deliveries.
      // The load generator may send a few requests past its amount, so what was accepted is read from Herald.
      const startTotals = await metrics();
      const finishedBefore = await sendsFinished(base);
      const startAccepted = await acceptedByPriority(base);
      // The burst is low priority, so high priority can be measured while it drains.
      const single = JSON.stringify({
        channels: ['sms'],
        recipients: [{ phone: '+14155550100' }],
        message: 'bench',
        priority: 'low',
      });
      const ingestStart = performance.now();
      const cpuBefore = Object.fromEntries(Object.entries(pidsOf()).map(([k, pids]) => [k, cpuTimes(pids)]));
      const singleRun = await load({ url: `${base}/notify`, body: single, headers: auth, amount: sizes.single });
      check(singleRun['2xx'] === sizes.single, `single ingest: ${singleRun['2xx']}/${sizes.single} accepted`);
      record({
        stage: 'ingest',
        figure: `burst of ${sizes.single} POST /notify, 1 recipient`,
        value: rate(singleRun),
        unit: 'req/s',
        baseline: 'no-op Fastify',
        ratio: rate(singleRun) / rate(noopRun),
      });
      record({
        stage: 'ingest',
        figure: 'accept latency p50 / p99',
        value: singleRun.latency.p50,
        unit: `ms / ${fmt(singleRun.latency.p99)} ms`,
        baseline: 'no-op mean',
        ratio: singleRun.latency.average / noopRun.latency.average,
      });

      const bulk = JSON.stringify({
        channels: ['sms'],
        recipients: Array.from({ length: sizes.bulkRecipients }, (_, i) => ({ id: `r${i}`, phone: '+14155550100' })),
        message: 'bulk bench',
        priority: 'normal',
      });
      const bulkRun = await load({
        url: `${base}/notify`,
        body: bulk,
        headers: auth,
        amount: sizes.bulk,
        connections: 4,
      });
      check(bulkRun['2xx'] === sizes.bulk, `bulk ingest: ${bulkRun['2xx']}/${sizes.bulk} accepted`);
      record({
        stage: 'ingest',
        figure: `POST /notify, ${sizes.bulkRecipients} recipients`,
        value: rate(bulkRun) * sizes.bulkRecipients,
        unit: 'recipients/s',
        baseline: 'no-op Fastify req/s',
        ratio: (rate(bulkRun) * sizes.bulkRecipients) / rate(noopRun),
      });

      // 4. Drain what was accepted.
      const endAccepted = await acceptedByPriority(base);
      const singles = endAccepted.low - startAccepted.low;
      const bulks = endAccepted.normal - startAccepted.normal;
      check(singles >= sizes.single && bulks >= sizes.bulk, `ingest: ${singles} + ${bulks} accepted, fewer than sent`);
      // High priority while the burst drains: a few emails, accept to the SMTP server.
      const duringBurstProbes = await emails(base, auth, smtp, 'during-burst', sizes.urgent, PROBES, 'high');
      const duringBurst = latencies(duringBurstProbes);
      const expected = singles + bulks * sizes.bulkRecipients + sizes.urgent;
      // Every send finished, by Herald's counters, then every workflow closed, by Temporal's count.
      const drained =
        (await until(async () => (await sendsFinished(base)) - finishedBefore >= expected, 900_000)) &&
        (await settled(60_000));
      const drainSeconds = (performance.now() - ingestStart) / 1000;
      // Each side's CPU over ingest and drain, read before the baseline below adds to the server's.
      const pidsAfter = pidsOf();
      const drainCpu = Object.fromEntries(
        (Object.keys(pidsAfter) as (keyof typeof pidsAfter)[]).map((side) => [
          side,
          cpuSecondsSince(cpuBefore[side]!, pidsAfter[side]),
        ]),
      ) as Record<keyof typeof pidsAfter, number>;
      // The trivial workflow again, on the server as the drain left it: its rate drifts with the machine and
      // with the history the server holds, and one ten-second sample before the drain moved by ×1.3 between runs.
      const trivialAfter = await trivialWorkflows(temporalAddress, client, sizes.trivial);
      const trivialPerSecond = (trivial.perSecond + trivialAfter.perSecond) / 2;
      record({
        stage: 'baseline',
        figure: 'trivial one-activity workflows, after the drain',
        value: trivialAfter.perSecond,
        unit: `wf/s (mean with before: ${fmt(trivialPerSecond)} wf/s)`,
      });
      const totals = await metrics();
      const delivered = totals.succeeded - startTotals.succeeded;
      const failed = totals.failed - startTotals.failed;
      check(
        drained && delivered === expected && failed === 0,
        `drain: ${delivered}/${expected} delivered, ${failed} failed`,
      );
      const notificationsPerMinute = ((singles + bulks) / drainSeconds) * 60;
      record({
        stage: 'end to end',
        figure: 'notifications drained',
        value: notificationsPerMinute,
        unit: '/min',
        baseline: 'trivial wf/min, mean of before and after',
        ratio: notificationsPerMinute / (trivialPerSecond * 60),
      });
      const deliveriesPerMinute = (expected / drainSeconds) * 60;
      // A send is one activity, as the trivial workflow is; a bulk notification is one workflow of 100 sends.
      record({
        stage: 'end to end',
        figure: 'deliveries drained',
        value: deliveriesPerMinute,
        unit: '/min',
        baseline: 'trivial wf/min, mean of before and after',
        ratio: deliveriesPerMinute / (trivialPerSecond * 60),
      });
      // Where the time goes: each side's CPU over ingest and drain, as a share of every core for that time.
      const share = (side: keyof typeof pidsAfter) => (100 * drainCpu[side]) / (drainSeconds * os.cpus().length);
      const serverMsPerSend = (1000 * (drainCpu.temporal + drainCpu.postgres)) / expected;
      record({
        stage: 'profile',
        figure: 'Temporal server CPU per send drained',
        value: serverMsPerSend,
        unit: 'ms',
        baseline: 'per trivial workflow',
        ratio: serverMsPerSend / serverMsPerTrivial,
      });
      const heraldMsPerSend = (1000 * drainCpu.herald) / expected;
      record({
        stage: 'profile',
        figure: 'Herald CPU per send drained (accept included)',
        value: heraldMsPerSend,
        unit: 'ms',
      });
      record({
        stage: 'profile',
        figure: 'CPU over ingest + drain: Herald / Temporal / PostgreSQL',
        value: share('herald'),
        unit: `% / ${fmt(share('temporal'))} % / ${fmt(share('postgres'))} % of ${os.cpus().length} cores`,
      });

      // 5. Accept → provider on an idle system, per priority (email through the loopback SMTP server).
      await emails(base, auth, smtp, 'warm-up', 10, { concurrency: 4 }, 'normal');
      await settled(300_000);
      const idleLatency: Record<string, ReturnType<typeof latencySummary>> = {};
      let idleHighProbes: Probe[] = [];
      for (const priority of ['high', 'normal', 'low']) {
        const probes = await emails(base, auth, smtp, `idle-${priority}`, sizes.perPriority, PROBES, priority);
        idleLatency[priority] = latencies(probes);
        if (priority === 'high') idleHighProbes = probes;
        record({
          stage: 'end to end',
          figure: `${priority}: accept→provider p50 / p95 / p99`,
          value: idleLatency[priority]!.p50,
          unit: `ms / ${fmt(idleLatency[priority]!.p95)} / ${fmt(idleLatency[priority]!.p99)} ms`,
          baseline: 'trivial wf p50',
          ratio: idleLatency[priority]!.p50 / trivial.latency.p50,
        });
      }

      // 6. High priority while a low-priority backlog drains.
      const before = (await metrics()).succeeded;
      const lowBody = JSON.stringify({
        channels: ['sms'],
        recipients: [{ phone: '+14155550100' }],
        message: 'backlog',
        priority: 'low',
      });
      await pool(sizes.backlog, 32, async () => {
        const res = await fetch(`${base}/notify`, { method: 'POST', headers: auth, body: lowBody });
        check(res.status === 202, `backlog: answered ${res.status}`);
      });
      const urgent = latencies(await emails(base, auth, smtp, 'urgent', sizes.urgent, PROBES, 'high'));
      const backlogDone = await until(
        async () => (await metrics()).succeeded >= before + sizes.backlog + sizes.urgent,
        600_000,
      );
      check(backlogDone, 'the low-priority backlog did not drain');
      record({
        stage: 'priority',
        figure: `high p99 behind ${sizes.backlog} low`,
        value: urgent.p99,
        unit: 'ms',
        baseline: 'idle high p99',
        ratio: urgent.p99 / idleLatency.high!.p99,
      });
      record({
        stage: 'priority',
        figure: `high p50 / p99 while the burst of ${sizes.single} low drained`,
        value: duringBurst.p50,
        unit: `ms / ${fmt(duringBurst.p99)} ms`,
        baseline: 'idle high p99',
        ratio: duringBurst.p99 / idleLatency.high!.p99,
      });
      // Where a high-priority notification's time goes, idle and while the burst drains, from its workflow history.
      const idlePhases = await phasesOf(client, 'dev', idleHighProbes);
      const burstPhases = await phasesOf(client, 'dev', duringBurstProbes);
      idlePhases.forEach(({ phase, p50, p99 }, i) =>
        record({
          stage: 'where the time goes',
          figure: `high ${phase}: p50 / p99 idle, p50 / p99 while the burst drained`,
          value: p50,
          unit: `/ ${fmt(p99)} ms, ${fmt(burstPhases[i]!.p50)} / ${fmt(burstPhases[i]!.p99)} ms`,
        }),
      );

      // 7. Memory: the Herald process (API + worker) and the worker holding sleeping workflows.
      record({
        stage: 'memory',
        figure: 'Herald (API + worker) idle RSS, steady after start-up',
        value: idle.rssMb,
        unit: 'MiB',
      });
      const afterLoad = memoryOf(heraldPid);
      record({
        stage: 'memory',
        figure: 'Herald (API + worker) peak RSS',
        value: afterLoad.peakMb,
        unit: 'MiB',
        baseline: 'idle RSS',
        ratio: afterLoad.peakMb / idle.rssMb,
      });
      if (temporalPid)
        record({
          stage: 'memory',
          figure: `Temporal ${givenTemporal ? 'server' : 'dev server'} peak RSS`,
          value: memoryOf(temporalPid).peakMb,
          unit: 'MiB',
        });
      record({
        stage: 'memory',
        figure: `RSS with ${sizes.sleeping} more workflows sleeping on receipts, before any other load`,
        value: sleeping,
        unit: 'MiB',
        baseline: 'RSS before',
        ratio: sleeping / beforeSleep,
      });
      record({
        stage: 'memory',
        figure: 'RSS per sleeping workflow',
        value: ((sleeping - beforeSleep) * 1024) / sizes.sleeping,
        unit: 'KiB',
      });

      // 8. Channel isolation: email while every request to the Telegram provider hangs.
      telegram.down = { hang: true };
      await pool(sizes.stalled, 16, async (i) => {
        const res = await fetch(`${base}/notify`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            channels: ['telegram'],
            recipients: [{ id: `t${i}`, telegram_chat_id: String(i + 1) }],
            message: 'stalled',
          }),
        });
        check(res.status === 202, `stalled telegram ${i}: answered ${res.status}`);
      });
      // Measured once every stalled send hangs at the provider, not while their workflows are still starting.
      await until(async () => telegram.requests.length >= sizes.stalled, 120_000);
      const isolated = latencies(await emails(base, auth, smtp, 'isolated', sizes.perPriority, PROBES, 'normal'));
      record({
        stage: 'isolation',
        figure: `normal accept→provider p50 / p99, ${sizes.stalled} Telegram sends hanging`,
        value: isolated.p50,
        unit: `ms / ${fmt(isolated.p99)} ms`,
        baseline: 'idle normal p50',
        ratio: isolated.p50 / idleLatency.normal!.p50,
      });
      telegram.down = undefined;
      // The hung sends time out, are retried and go through, once each.
      const released = await until(
        async () => new Set(telegram.sent.map((m) => m.chatId)).size >= sizes.stalled,
        180_000,
      );
      check(
        released,
        `isolation: ${new Set(telegram.sent.map((m) => m.chatId)).size}/${sizes.stalled} Telegram messages went through`,
      );
      check(
        telegram.sent.length === sizes.stalled,
        `isolation: ${telegram.sent.length} Telegram messages for ${sizes.stalled} sends`,
      );

      const duplicates = smtp.received.length - new Set(smtp.received.map((m) => m.subject)).size;
      check(duplicates === 0, `${duplicates} emails arrived more than once`);

      // 9. A scheduled notification: its recipients wake at send_at on one timer and have their preferences read once.
      const scheduledBefore = await metrics();
      const sendAt = Date.now() + 3_000;
      const scheduledRes = await fetch(`${base}/notify`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          channels: ['sms'],
          recipients: Array.from({ length: sizes.scheduled }, (_, i) => ({ id: `s${i}`, phone: '+14155550100' })),
          message: 'scheduled',
          send_at: new Date(sendAt).toISOString(),
        }),
      });
      check(scheduledRes.status === 202, `scheduled: answered ${scheduledRes.status}`);
      const { notification_id: scheduledId } = (await scheduledRes.json()) as { notification_id: string };
      const scheduledDone = await until(
        async () => (await metrics()).succeeded - scheduledBefore.succeeded >= sizes.scheduled,
        600_000,
      );
      const scheduledSeconds = (Date.now() - sendAt) / 1000;
      const scheduledAfter = await metrics();
      check(
        scheduledDone &&
          scheduledAfter.succeeded - scheduledBefore.succeeded === sizes.scheduled &&
          scheduledAfter.failed === scheduledBefore.failed,
        `scheduled: ${scheduledAfter.succeeded - scheduledBefore.succeeded}/${sizes.scheduled} delivered`,
      );
      const scheduledPerMinute = (sizes.scheduled / scheduledSeconds) * 60;
      record({
        stage: 'scheduled',
        figure: `${sizes.scheduled} recipients at send_at: deliveries, send_at to last send`,
        value: scheduledPerMinute,
        unit: '/min',
        baseline: "single notifications' deliveries/min",
        ratio: scheduledPerMinute / deliveriesPerMinute,
      });
      const scheduledHistory = await client.workflow
        .getHandle(notificationWorkflowId('dev', scheduledId))
        .fetchHistory();
      record({
        stage: 'scheduled',
        figure: 'events in its workflow history',
        value: scheduledHistory.events!.length,
        unit: 'events',
      });

      // 10. A broadcast: one request to many recipients, accepted, sent in chunks, each recipient once.
      const audience = Array.from({ length: sizes.broadcast }, (_, i) => ({ id: `b${i}`, email: `b${i}@example.com` }));
      const broadcastBody = JSON.stringify({
        channels: ['email'],
        recipients: audience,
        message: { subject: 'broadcast', text: 'To everyone' },
      });
      const broadcastStart = performance.now();
      const accepted = await fetch(`${base}/broadcasts`, { method: 'POST', headers: auth, body: broadcastBody });
      const broadcastAcceptMs = performance.now() - broadcastStart;
      check(accepted.status === 202, `broadcast: answered ${accepted.status}`);
      const { status_url } = (await accepted.json()) as { status_url: string };
      const broadcastDone = await until(async () => {
        const progress = await fetch(`${base}${status_url}`, { headers: auth });
        return ((await progress.json()) as { status: string }).status === 'completed';
      }, 3_600_000);
      const broadcastSeconds = (performance.now() - broadcastStart) / 1000;
      const broadcastMails = smtp.received.filter((m) => m.subject === 'broadcast').map((m) => m.to[0]);
      check(
        broadcastDone && broadcastMails.length === sizes.broadcast && new Set(broadcastMails).size === sizes.broadcast,
        `broadcast: ${broadcastMails.length} emails to ${new Set(broadcastMails).size} of ${sizes.broadcast} recipients`,
      );
      record({
        stage: 'broadcast',
        figure: `${sizes.broadcast} recipients: request (${(broadcastBody.length / 2 ** 20).toFixed(1)} MiB) accepted in`,
        value: broadcastAcceptMs,
        unit: 'ms',
      });
      const broadcastPerMinute = (sizes.broadcast / broadcastSeconds) * 60;
      record({
        stage: 'broadcast',
        figure: 'deliveries drained, accept to last send',
        value: broadcastPerMinute,
        unit: '/min',
        baseline: "single notifications' deliveries/min",
        ratio: broadcastPerMinute / deliveriesPerMinute,
      });
    }

    // 11. Live inboxes: many open streams, their memory, accept → event, and a burst beside them.
    if (only !== 'templates') {
      const burst = async (size: number) => {
        // Low priority, as the burst above: the probes beside it are normal.
        const body = JSON.stringify({
          channels: ['sms'],
          recipients: [{ phone: '+14155550100' }],
          message: 'bench',
          priority: 'low',
        });
        const before = await smsFinished(base);
        const run = await load({ url: `${base}/notify`, body, headers: auth, amount: size });
        check(run['2xx'] === size, `burst beside live inboxes: ${run['2xx']}/${size} accepted`);
        const drained = await until(async () => (await smsFinished(base)) - before >= size, 900_000);
        check(drained, `burst beside live inboxes: ${size} not drained`);
        return rate(run);
      };
      await inboxStreamStages({ base, auth, heraldPid, burst }, sizes, { record, check });
    }

    // 12. Templates: rendered at send time against finished text, per channel, and their cache's memory.
    if (only !== 'live-inbox') {
      const pids = () => ({ herald: [heraldPid], server: serverPids() });
      await templateStages({ base, auth, smtp, pids }, sizes, { record, check });
    }
  } finally {
    await connection.close();
    await herald.stop();
    await smtp.stop();
    await telegram.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  printTable();
  const outDir = path.resolve(__dirname, '..', 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const result = {
    mode: quick ? 'quick' : 'full',
    ...(only ? { only } : {}),
    temporal: givenTemporal ?? 'embedded dev server',
    at: new Date().toISOString(),
    cores: os.cpus().length,
    node: process.version,
    rows,
    problems,
  };
  const name = `latest${only ? `-${only}` : ''}${givenTemporal ? `-${givenTemporal.replace(/[^\w.-]+/g, '-')}` : ''}.json`;
  writeFileSync(path.join(outDir, name), JSON.stringify(result, null, 2));
  if (problems.length) {
    console.log(`\nCounts did not add up:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nAll counts add up: every accepted notification was delivered once.');
  }
}

/** The one process `scripts/start.mjs` started (Linux). */
function onlyChildOf(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  if (children.length !== 1) throw new Error(`expected one child of ${pid}, found ${children.join(', ')}`);
  return Number(children[0]);
}

/** `--burst N`: the single-recipient burst's size in either mode. */
function withBurst<T extends { single: number }>(sizes: T): T {
  const burst = optionValue('--burst');
  return burst ? { ...sizes, single: Number(burst) } : sizes;
}

function optionValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** A fixed number of requests, so every one is answered and can be counted. */
  amount: number;
  connections?: number;
}

/** A load run, timed from its start to its last answer. */
type LoadResult = autocannon.Result & { seconds: number };

/**
 * autocannon's own duration ends at its next one-second sample after the last answer, which turned a
 * burst answered in 9.1 s into 10 s: rates here divide by the time to the last answer instead.
 */
async function load(options: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  let lastAnswer = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(
      {
        url: options.url,
        method: 'POST',
        body: options.body,
        headers: options.headers,
        connections: options.connections ?? CONNECTIONS,
        amount: options.amount,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    run.on('response', () => {
      lastAnswer = performance.now();
    });
  });
  return { ...result, seconds: (lastAnswer - started) / 1000 };
}

const rate = (run: LoadResult) => run.requests.total / run.seconds;

async function trivialWorkflows(address: string, client: Client, count: number) {
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `bench-trivial-${Date.now()}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./trivial/workflows'),
    activities: await import('./trivial/activities'),
  });
  const running = worker.run();
  const latencies: number[] = [];
  const started = performance.now();
  await pool(count, 64, async (i) => {
    const t0 = performance.now();
    await client.workflow.execute('trivialWorkflow', { taskQueue, workflowId: `${taskQueue}-${i}` });
    latencies.push(performance.now() - t0);
  });
  const perSecond = count / ((performance.now() - started) / 1000);
  worker.shutdown();
  await running;
  await nativeConnection.close();
  return { perSecond, latency: latencySummary(latencies) };
}

/**
 * Sends `count` emails, `concurrency` requests at a time or `perSecond` on a schedule, and returns
 * them as probes: when each request was sent and when the SMTP server had it (wall-clock ms).
 */
async function emails(
  base: string,
  auth: Record<string, string>,
  smtp: FakeSmtpServer,
  tag: string,
  count: number,
  sending: { concurrency: number } | { perSecond: number },
  priority: string,
): Promise<Probe[]> {
  const sent = new Map<string, { sentAt: number; notificationId: string }>();
  const send = async (i: number) => {
    const subject = `${tag}-${i}`;
    const sentAt = performance.now();
    const res = await fetch(`${base}/notify`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        channels: ['email'],
        recipients: [{ email: `${subject}@bench.test` }],
        message: { subject, text: 'bench' },
        priority,
      }),
    });
    check(res.status === 202, `${subject}: answered ${res.status}`);
    const { notification_id } = (await res.json()) as { notification_id: string };
    sent.set(subject, { sentAt, notificationId: notification_id });
  };
  if ('concurrency' in sending) await pool(count, sending.concurrency, send);
  else {
    const start = performance.now();
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await new Promise((r) => setTimeout(r, start + (i * 1000) / sending.perSecond - performance.now()));
        await send(i);
      }),
    );
  }
  const arrived = () => smtp.received.filter((m) => m.subject && sent.has(m.subject));
  await until(async () => arrived().length >= count, 300_000);
  check(arrived().length === count, `${tag}: ${arrived().length}/${count} emails arrived`);
  // The SMTP server and this process time with performance.now(): the same origin turns both into wall-clock time.
  const wall = (t: number) => performance.timeOrigin + t;
  return arrived().map((m) => {
    const { sentAt, notificationId } = sent.get(m.subject!)!;
    return { notificationId, sentAt: wall(sentAt), receivedAt: wall(m.receivedAt) };
  });
}

const latencies = (probes: Probe[]) => latencySummary(probes.map((p) => p.receivedAt - p.sentAt));

/**
 * Herald's own operational metrics (Prometheus text), read once: cheap to read while a drain runs, unlike a
 * count of Temporal's workflows. Returns the sum of a counter over the samples whose labels match.
 */
async function heraldCounters(base: string): Promise<(name: string, labels: RegExp) => number> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text());
  return (name, labels) => {
    let total = 0;
    for (const [, sampleLabels, value] of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm')))
      if (labels.test(sampleLabels!)) total += Number(value);
    return total;
  };
}

/** Notifications accepted so far by priority. */
async function acceptedByPriority(base: string): Promise<Record<'high' | 'normal' | 'low', number>> {
  const sum = await heraldCounters(base);
  const count = (priority: string) =>
    sum('herald_notifications_accepted_total', new RegExp(`(^|,)priority="${priority}"(,|$)`));
  return { high: count('high'), normal: count('normal'), low: count('low') };
}

/**
 * Sends finished for good (sent, delivered or failed), where counting Temporal's open workflows would be a
 * visibility query on the server under test (≈26 ms each on the dev server, four a second, during the drain).
 */
async function sendsFinished(base: string): Promise<number> {
  return (await heraldCounters(base))('herald_delivery_attempts_total', /(^|,)outcome="(sent|delivered|failed)"(,|$)/);
}

/** SMS sends finished for good: the bursts beside live inboxes, whose in-app probes are sends too. */
async function smsFinished(base: string): Promise<number> {
  return (await heraldCounters(base))(
    'herald_delivery_attempts_total',
    /^(?=.*(^|,)channel="sms"(,|$))(?=.*(^|,)outcome="(sent|delivered|failed)"(,|$))/,
  );
}

async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}

function printTable() {
  const header = ['stage', 'figure', 'value', 'unit', 'ratio to baseline'];
  const lines = rows.map((r) => [
    r.stage,
    r.figure,
    fmt(r.value),
    r.unit,
    r.ratio !== undefined ? `×${fmt(r.ratio)} ${r.baseline}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const l of lines) console.log(line(l));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
