/**
 * The production shape on this machine: PostgreSQL, a Temporal server, Redis, two API processes and
 * two worker processes in front of the loopback providers, every piece on this run's own ports.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../test/support/temporal';
import { HeraldProcess } from './herald-processes';
import { noteScratch, root } from './manifest';
import type { Plan } from './plan';
import type { Providers } from './providers';
import {
  CLUSTER_PORT_OFFSETS,
  freePortBlock,
  openLog,
  Postgres,
  Redis,
  TemporalCluster,
  TemporalDevServer,
  type TemporalServer,
} from './services';

export interface Shape {
  postgres: Postgres;
  temporal: TemporalServer;
  redis: Redis;
  apis: HeraldProcess[];
  workers: HeraldProcess[];
  adminToken: string;
  taskQueue: string;
  /** Each worker's Temporal SDK metrics address, by worker name. */
  sdkMetrics: Map<string, string>;
}

export async function startShape(plan: Plan, runDir: string, providers: Providers): Promise<Shape> {
  const logs = path.join(runDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'herald-chaos-'));
  noteScratch(scratch);
  // PostgreSQL runs as its own user when this runs as root: it must reach its folder inside.
  chmodSync(scratch, 0o755);

  const postgres = new Postgres(
    path.join(scratch, 'postgres'),
    await freePort(),
    openLog(path.join(logs, 'postgres.log')),
  );
  const temporal: TemporalServer =
    plan.temporal === 'cluster'
      ? new TemporalCluster(
          path.join(runDir, 'temporal-cluster'),
          await freePortBlock(CLUSTER_PORT_OFFSETS),
          () => postgres.url,
          openLog(path.join(logs, 'temporal.log')),
        )
      : new TemporalDevServer(path.join(scratch, 'temporal.sqlite'), await freePort());
  const redisServer = execFileSync('bash', [path.join(root, 'scripts/install-redis.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const redis = new Redis(redisServer, await freePort(), openLog(path.join(logs, 'redis.log')));

  await Promise.all([redis.start(), postgres.start()]);
  await temporal.start();

  const adminToken = randomBytes(24).toString('hex');
  const taskQueue = `chaos-${Date.now().toString(36)}`;
  const apiPorts = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...providers.env,
    DATABASE_URL: postgres.url,
    DATABASE_POOL_SIZE: '10',
    TEMPORAL_ADDRESS: temporal.address,
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    HERALD_TASK_QUEUE: taskQueue,
    HERALD_ADMIN_TOKEN: adminToken,
    HERALD_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64url')}`,
    HERALD_LINK_SECRET: randomBytes(32).toString('hex'),
    HERALD_PUBLIC_URL: `http://127.0.0.1:${apiPorts[0]}`,
    // Workflows of sent messages close soon after, instead of listening for receipts an hour.
    HERALD_RECEIPT_WINDOW_SECONDS: '30',
    HERALD_RETRY_WINDOW_SECONDS: '30',
    HERALD_TENANT_RATE_PER_SECOND: '10000',
    HERALD_TENANT_BURST: '10000',
    LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    MALLOC_ARENA_MAX: '2',
  };
  const apis = apiPorts.map(
    (port, i) =>
      new HeraldProcess(
        `api-${i + 1}`,
        'api',
        { ...env, PORT: String(port), HERALD_SDK_METRICS_ADDRESS: '', HERALD_WORKER_METRICS_ADDRESS: '' },
        path.join(logs, `api-${i + 1}.log`),
        `http://127.0.0.1:${port}`,
      ),
  );
  const sdkMetrics = new Map<string, string>();
  const workers: HeraldProcess[] = [];
  for (const i of [1, 2]) {
    const name = `worker-${i}`;
    const address = `127.0.0.1:${await freePort()}`;
    sdkMetrics.set(name, address);
    workers.push(
      new HeraldProcess(
        name,
        'worker',
        { ...env, HERALD_SDK_METRICS_ADDRESS: address, HERALD_WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}` },
        path.join(logs, `${name}.log`),
      ),
    );
  }
  // The first API migrates the database; the rest start together.
  await apis[0]!.start();
  await Promise.all([apis[1]!.start(), ...workers.map((w) => w.start())]);
  return { postgres, temporal, redis, apis, workers, adminToken, taskQueue, sdkMetrics };
}

/** A tenant as an operator makes one, through the admin API; its webhook endpoint is the fake receiver. */
export async function createTenant(shape: Shape, webhookUrl: string): Promise<{ id: string; apiKey: string }> {
  const id = `chaos-${Date.now().toString(36)}`;
  const base = shape.apis[0]!.url!;
  const created = await fetch(`${base}/admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${shape.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: 'Chaos' }),
  });
  if (created.status !== 201)
    throw new Error(`POST /admin/tenants answered ${created.status}: ${await created.text()}`);
  const apiKey = ((await created.json()) as { api_key: { key: string } }).api_key.key;
  const endpoint = await fetch(`${base}/settings/webhook`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: webhookUrl }),
  });
  if (endpoint.status !== 200)
    throw new Error(`PUT /settings/webhook answered ${endpoint.status}: ${await endpoint.text()}`);
  return { id, apiKey };
}
