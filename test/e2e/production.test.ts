import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { lintExposition } from '../support/exposition-lint';
import { eventually } from '../support/herald';
import { NodeProcess } from '../support/processes';
import { freePort } from '../support/temporal';

const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);

const databaseUrl = process.env.DATABASE_URL;
const adminToken = `admin-${randomUUID()}`;

describe('production mode: npm run api and npm run worker as separate processes', () => {
  if (!databaseUrl) {
    it('refuses to start without DATABASE_URL, naming it', async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS };
      delete env.DATABASE_URL;
      const api = new NodeProcess('main/api.ts', { env });
      expect(await api.exit()).toBe(1);
      expect(api.output()).toMatch(/DATABASE_URL is required/);
    });
    return;
  }

  let smtp: FakeSmtpServer;
  const processes: NodeProcess[] = [];
  let base: string;
  let apiKey: string;
  let sdkMetrics: string;
  let workerMetrics: string;

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
      HERALD_TASK_QUEUE: `prod-${randomUUID()}`,
      HERALD_WEBHOOK_SECRET: 'prod-secret',
      SMTP_URL: smtp.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      HERALD_ADMIN_TOKEN: adminToken,
    };

    // Two workers share the queues on this host: one serves metrics on the addresses it is given, the other
    // none (the default); one API in front.
    sdkMetrics = `127.0.0.1:${await freePort()}`;
    workerMetrics = `127.0.0.1:${await freePort()}`;
    const workers = [
      new NodeProcess('main/worker.ts', {
        env: { ...env, HERALD_SDK_METRICS_ADDRESS: sdkMetrics, HERALD_WORKER_METRICS_ADDRESS: workerMetrics },
      }),
      new NodeProcess('main/worker.ts', { env }),
    ];
    const api = new NodeProcess('main/api.ts', { env });
    processes.push(...workers, api);
    // Three processes start at once, each bundling or loading its code: minutes on a loaded two-core machine.
    for (const w of workers) await w.waitFor('polling task queue', 180_000);
    await eventually(
      () =>
        fetch(`${base}/docs/json`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      60_000,
    );
    // A tenant as an operator makes one: the admin CLI, against the running API.
    const tenantId = `prod-${randomUUID().slice(0, 8)}`;
    const admin = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
        cwd: root,
        env: { ...env, HERALD_URL: base },
      });
    const { stdout } = await admin('tenants', 'create', tenantId, '--name', 'Production test');
    apiKey = /API key (hk_\S+)/.exec(stdout)![1]!;
    expect((await admin('tenants', 'list')).stdout).toContain(`${tenantId}  "Production test"`);
  }, 300_000);
  afterAll(async () => {
    // Each exits 0 within its stop deadline, or says which step it was waiting for.
    const stopped = await Promise.all(processes.map(async (p) => ({ code: await p.stop(), output: p.output() })));
    for (const { code, output } of stopped) if (code !== 0) throw new Error(`exited ${code}:\n${output}`);
    await smtp?.stop();
  });

  const api = (method: string, url: string, body?: object) =>
    fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('delivers email over SMTP and fails channels with no provider instead of faking them', async () => {
    const res = await api('POST', '/notify', {
      channels: ['email', 'sms'],
      recipients: [{ email: 'ops@example.com', phone: '+14155550100' }],
      message: { subject: 'From production mode', text: 'separate processes' },
    });
    expect(res.status).toBe(202);
    const { notification_id } = (await res.json()) as { notification_id: string };
    const status = await eventually(
      () =>
        api('GET', `/status/${notification_id}`).then(
          (r) => r.json() as Promise<{ status: string; deliveries: object[] }>,
        ),
      (s) => s.status === 'partially_delivered',
    );
    expect(status.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'email', status: 'sent', provider: 'smtp' }),
        expect.objectContaining({
          channel: 'sms',
          status: 'failed',
          error: 'no provider is configured for the sms channel',
        }),
      ]),
    );
    expect(smtp.received.filter((m) => m.subject === 'From production mode')).toHaveLength(1);
    expect((await api('GET', '/dev/outbox')).status).toBe(404);
  });

  it("serves each worker's Herald metrics and the Temporal SDK's runtime metrics on their own endpoints", async () => {
    expect((await fetch(`http://${workerMetrics}/readyz`)).status).toBe(200);
    const herald = await fetch(`http://${workerMetrics}/metrics`).then((r) => r.text());
    const sdk = await fetch(`http://${sdkMetrics}/metrics`).then((r) => r.text());
    expect(herald).toContain('herald_delivery_attempts_total');
    expect(herald).toContain('herald_process_resident_memory_bytes');
    expect(lintExposition(herald)).toEqual([]);
    expect(sdk).toMatch(/^temporal_/m);
  });
});
