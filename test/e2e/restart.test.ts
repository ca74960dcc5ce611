import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually } from '../support/herald';
import { listeningPid, NodeProcess } from '../support/processes';
import { freePort } from '../support/temporal';

const API_KEY = 'hk_restart_test_key';

interface Body {
  notification_id: string;
  status: string;
  deliveries: { status: string; provider?: string; attempts: number }[];
}

/** `npm start` as a user runs it: the whole embedded Herald in a process tree of its own. */
class HeraldProcess {
  private process?: NodeProcess;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  get output(): string {
    return this.process?.output() ?? '';
  }

  async start(): Promise<void> {
    this.process = new NodeProcess(undefined, { env: this.env, detached: true });
    await this.process.waitFor('Press Ctrl-C to stop');
  }

  /** Ctrl-C: the signal goes to the whole foreground process group. */
  interrupt(): Promise<number | null> {
    return this.process!.stop('SIGINT');
  }

  /** A crash: SIGKILL to Herald's process group and to the Temporal dev server, which runs in a group of its own. */
  async kill(temporalPort: string): Promise<void> {
    killTemporal(temporalPort);
    await this.process!.stop('SIGKILL');
  }
}

/** SIGKILL to the Temporal dev server alone: Herald's API stays up without it. */
function killTemporal(temporalPort: string): void {
  const devServer = listeningPid(`127.0.0.1:${temporalPort}`);
  if (devServer) process.kill(devServer, 'SIGKILL');
}

describe('npm start survives a restart', () => {
  let smtp: FakeSmtpServer;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  const running: HeraldProcess[] = [];

  beforeAll(async () => {
    smtp = await new FakeSmtpServer().start();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-restart-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      HERALD_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      HERALD_DEV_API_KEY: API_KEY,
      HERALD_SHUTDOWN_GRACE_SECONDS: '1',
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
      HERALD_SDK_METRICS_ADDRESS: '',
    };
  });
  afterAll(async () => {
    for (const p of running) await p.interrupt().catch(() => undefined);
    await smtp?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (method: string, url: string, body?: object) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: () => res.json() as Promise<Body> };
  };
  const statusOf = (id: string) => api('GET', `/status/${id}`).then((r) => r.json());
  /** One email per subject, all at once; each must be answered 202. Their notification ids. */
  const acceptAll = async (subjects: string[], email: string) => {
    const accepted = await Promise.all(
      subjects.map((subject) =>
        api('POST', '/notify', { channels: ['email'], recipients: [{ email }], message: { subject, text: 'once' } }),
      ),
    );
    expect(accepted.map((r) => r.status)).toEqual(subjects.map(() => 202));
    return Promise.all(accepted.map(async (r) => (await r.json()).notification_id));
  };

  it('keeps its data and delivers an email that was in flight at Ctrl-C exactly once after restart', async () => {
    const first = new HeraldProcess(env);
    running.push(first);
    await first.start();

    const sms = await api('POST', '/notify', {
      channels: ['sms'],
      recipients: [{ phone: '+14155550100' }],
      message: 'before',
    });
    expect(sms.status).toBe(202);
    const smsId = (await sms.json()).notification_id;
    await eventually(
      () => statusOf(smsId),
      (s) => s.status === 'delivered',
    );

    // The SMTP server takes the connection and then never answers MAIL FROM: the send is in flight.
    smtp.script.push('hang');
    const before = smtp.mailFromCount;
    const email = await api('POST', '/notify', {
      channels: ['email'],
      recipients: [{ email: 'durable@example.com' }],
      message: { subject: 'Survives restarts', text: 'exactly once' },
    });
    expect(email.status).toBe(202);
    const emailId = (await email.json()).notification_id;
    await smtp.waitFor(() => smtp.mailFromCount > before);

    expect(await first.interrupt()).toBe(0);
    expect(first.output).toContain('stopped');
    expect(smtp.received.filter((m) => m.subject === 'Survives restarts')).toHaveLength(0);

    const second = new HeraldProcess(env);
    running.push(second);
    await second.start();

    expect(await statusOf(smsId)).toMatchObject({ status: 'delivered' });
    const settled = await eventually(
      () => statusOf(emailId),
      (s) => s.status === 'delivered',
      90_000,
    );
    expect(settled.deliveries[0]).toMatchObject({ status: 'sent', provider: 'smtp' });
    expect(settled.deliveries[0]!.attempts).toBeGreaterThanOrEqual(2);
    const mails = smtp.received.filter((m) => m.subject === 'Survives restarts');
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ to: ['durable@example.com'], text: 'exactly once' });
    expect(await second.interrupt()).toBe(0);
  }, 300_000);

  it('resumes an escalation interrupted by Ctrl-C at the step it had reached, until it is acknowledged', async () => {
    const first = new HeraldProcess(env);
    running.push(first);
    await first.start();
    const alert = await api('POST', '/notify', {
      channels: ['push'],
      recipients: [{ id: 'oncall', push_tokens: ['device-1'], phone: '+14155550100' }],
      message: 'Database down',
      escalation: {
        steps: [
          { after: '6s', channels: ['sms'] },
          { after: '10m', channels: ['voice'] },
        ],
      },
    });
    expect(alert.status).toBe(202);
    const id = (await alert.json()).notification_id;
    await eventually(
      () => statusOf(id),
      (s) => s.deliveries[0]?.status === 'delivered',
    );
    expect(await first.interrupt()).toBe(0);

    const second = new HeraldProcess(env);
    running.push(second);
    await second.start();
    const escalated = await eventually(
      () => statusOf(id),
      (s) => s.deliveries.length === 2 && s.deliveries[1]!.status === 'delivered',
      90_000,
    );
    expect(escalated.deliveries.map((d) => (d as { channel?: string }).channel)).toEqual(['push', 'sms']);
    expect((await api('POST', `/notifications/${id}/ack`, { by: 'ada' })).status).toBe(202);
    const acknowledged = (await eventually(
      () => statusOf(id),
      (s) => (s as { timeline?: { event: string }[] }).timeline?.some((e) => e.event === 'skipped') ?? false,
    )) as Body & { acknowledgement?: { by: string }; timeline: { event: string; step?: number }[] };
    expect(acknowledged.acknowledgement).toMatchObject({ by: 'ada' });
    expect(acknowledged.timeline.map((e) => [e.event, e.step])).toEqual([
      ['step', 0],
      ['step', 1],
      ['acknowledged', undefined],
      ['skipped', 2],
    ]);
    expect(await second.interrupt()).toBe(0);
  }, 300_000);

  it('lets a send in flight at Ctrl-C finish within the grace time, so it is not sent again', async () => {
    const graceful = new HeraldProcess({ ...env, HERALD_SHUTDOWN_GRACE_SECONDS: '20' });
    running.push(graceful);
    await graceful.start();

    smtp.script.push({ delayMs: 2000 });
    const before = smtp.mailFromCount;
    const email = await api('POST', '/notify', {
      channels: ['email'],
      recipients: [{ email: 'graceful@example.com' }],
      message: { subject: 'Finishes during shutdown', text: 'once' },
    });
    const { notification_id } = await email.json();
    await smtp.waitFor(() => smtp.mailFromCount > before);

    expect(await graceful.interrupt()).toBe(0);
    expect(smtp.received.filter((m) => m.subject === 'Finishes during shutdown')).toHaveLength(1);

    const after = new HeraldProcess(env);
    running.push(after);
    await after.start();
    const s = await eventually(
      () => statusOf(notification_id),
      (b) => b.status === 'delivered',
      60_000,
    );
    expect(s.deliveries[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(smtp.received.filter((m) => m.subject === 'Finishes during shutdown')).toHaveLength(1);
    expect(await after.interrupt()).toBe(0);
  }, 300_000);

  it('delivers every notification answered 202 just before kill -9, once each, after a restart', async () => {
    const first = new HeraldProcess(env);
    running.push(first);
    await first.start();
    // Every send hangs in the SMTP session, so nothing is delivered before the crash.
    const burst = Array.from({ length: 20 }, (_, i) => `Accepted before the crash ${i}`);
    smtp.script.push(...burst.map(() => 'hang' as const));
    const ids = await acceptAll(burst, 'crash@example.com');
    await first.kill(env.TEMPORAL_DEV_PORT!);
    const ofBurst = () => smtp.received.map((m) => m.subject ?? '').filter((subject) => burst.includes(subject));
    expect(ofBurst()).toHaveLength(0);
    smtp.script.length = 0;

    const second = new HeraldProcess(env);
    running.push(second);
    await second.start();
    for (const id of ids)
      await eventually(
        () => statusOf(id),
        (b) => b.status === 'delivered',
        120_000,
      );
    expect(ofBurst().sort()).toEqual([...burst].sort());
    expect(await second.interrupt()).toBe(0);
  }, 300_000);

  it('accepts while Temporal is down and, after kill -9 and a restart, delivers each accepted notification once', async () => {
    const first = new HeraldProcess(env);
    running.push(first);
    await first.start();
    killTemporal(env.TEMPORAL_DEV_PORT!);
    const burst = Array.from({ length: 20 }, (_, i) => `Accepted without Temporal ${i}`);
    const ids = await acceptAll(burst, 'outage@example.com');
    // Its status comes from the database meanwhile.
    expect(await statusOf(ids[0]!)).toMatchObject({ status: 'accepted', deliveries: [] });
    await first.kill(env.TEMPORAL_DEV_PORT!);

    const second = new HeraldProcess(env);
    running.push(second);
    await second.start();
    for (const id of ids)
      await eventually(
        () => statusOf(id),
        (b) => b.status === 'delivered',
        120_000,
      );
    const ofBurst = smtp.received.map((m) => m.subject ?? '').filter((subject) => burst.includes(subject));
    expect(ofBurst.sort()).toEqual([...burst].sort());
    expect(await second.interrupt()).toBe(0);
  }, 300_000);
});
