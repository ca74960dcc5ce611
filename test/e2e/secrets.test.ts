import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../support/herald';
import { startFakeProviders, type FakeProviders } from '../support/fake-providers';
import { NodeProcess } from '../support/processes';
import { keyIdOf } from '../../api/tenants';

const ADMIN_TOKEN = 'admin-token-never-logged-0123456789';
const LINK_SECRET = 'link-secret-never-logged-0123456789abcdef';
const RECEIPT_SECRET = 'receipt-secret-never-logged';

/**
 * `npm start` with every provider configured and logging at debug: credentials, keys and contact data
 * appear in no log line, no error and no status, even when providers fail.
 */
describe('secrets stay out of logs, errors and status', () => {
  let fakes: FakeProviders;
  let herald: NodeProcess;
  let dataDir: string;
  let base: string;

  beforeAll(async () => {
    fakes = await startFakeProviders();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-secrets-'));
    base = fakes.env.HERALD_PUBLIC_URL!;
    herald = new NodeProcess(undefined, {
      env: {
        ...process.env,
        ...fakes.env,
        TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
        HERALD_TASK_QUEUE: `secrets-${path.basename(dataDir)}`,
        HERALD_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
        HERALD_LINK_SECRET: LINK_SECRET,
        HERALD_WEBHOOK_SECRET: RECEIPT_SECRET,
        HERALD_WEBHOOK_ALLOW_PRIVATE: 'true',
        HERALD_SDK_METRICS_ADDRESS: '',
        HERALD_SHUTDOWN_GRACE_SECONDS: '1',
      },
    });
    await herald.waitFor('Press Ctrl-C to stop');
  });
  afterAll(async () => {
    await herald?.stop('SIGINT');
    await fakes?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('whatever happens to a notification', async () => {
    const answers: string[] = [];
    const call = async (method: string, url: string, auth: string, body?: object, keep = true) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (keep) answers.push(text);
      return { status: res.status, json: () => JSON.parse(text) };
    };

    // The answers that exist to hand a secret over are the only places it may appear.
    const created = await call(
      'POST',
      '/admin/tenants',
      ADMIN_TOKEN,
      { id: `secretive-${path.basename(dataDir).slice(-6).toLowerCase()}` },
      false,
    );
    const key = created.json().api_key.key as string;
    const hook = await call('PUT', '/settings/webhook', key, { url: `${fakes.receiver.url}/hook` }, false);
    const webhookSecret = hook.json().secret as string;

    // Providers refuse Herald's credentials, fail, and succeed.
    fakes.twilio.faults.push({ status: 401, body: { code: 20003, message: 'Authenticate' } });
    fakes.vonage.faults.push({ status: 500, body: {} });
    fakes.telegram.faults.push({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
    const sent = await call('POST', '/notify', key, {
      channels: ['email', 'sms', 'push', 'telegram', 'slack', 'webhook', 'voice', 'in_app'],
      recipients: [
        {
          id: 'ada',
          email: 'ada.secret@example.com',
          phone: '+14155550123',
          push_tokens: ['device-token-secret'],
          telegram_chat_id: '99887766',
          slack_webhook_url: 'https://hooks.slack.com/services/T0/B0/slack-secret-path',
        },
      ],
      message: { subject: 'Disk', text: 'Disk full' },
      escalation: { steps: [{ after: '1h', channels: ['email'] }] },
    });
    expect(sent.status).toBe(202);
    const id = sent.json().notification_id as string;
    await eventually(
      () => call('GET', `/status/${id}`, key, undefined, false).then((r) => r.json()),
      (s) => s.deliveries.every((d: { status: string }) => !['pending', 'sending'].includes(d.status)),
      40_000,
    );
    await call('GET', `/status/${id}`, key);
    await call('GET', '/audit', key);
    await call('GET', '/keys', key);
    await call('GET', `/status/${id}`, `${key}x`);
    await call('GET', '/admin/tenants', `${ADMIN_TOKEN}x`);
    await call('POST', '/notifications/nope/ack', key, { by: 'x' });
    await call('POST', '/notify', key, { channels: ['sms'], recipients: [{ phone: '+1 nope' }], message: 'x' });

    const secrets = [
      ADMIN_TOKEN,
      LINK_SECRET,
      RECEIPT_SECRET,
      key,
      // The secret part alone; base64url secrets may hold `_` themselves.
      key.slice(keyIdOf(key).length + 1),
      webhookSecret,
      fakes.env.TWILIO_AUTH_TOKEN!,
      fakes.env.SENDGRID_API_KEY!,
      fakes.env.VONAGE_API_SECRET!,
      fakes.env.FCM_ACCESS_TOKEN!,
      fakes.env.TELEGRAM_BOT_TOKEN!,
      'slack-secret-path',
      'ada.secret@example.com',
      '+14155550123',
      'device-token-secret',
    ];
    const logs = herald.output();
    expect(logs).toMatch(/"msg":"notification accepted"/);
    for (const secret of secrets) {
      expect({ secret, inLogs: logs.includes(secret) }).toEqual({ secret, inLogs: false });
      const answer = answers.find((a) => a.includes(secret));
      expect({ secret, inAnswer: answer }).toEqual({ secret, inAnswer: undefined });
    }
  });
});
