import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { newApiKey, upsertTenant } from '../../api/tenants';
import { openDatabase } from '../../db/connect';
import { preferences, recipients } from '../../db/schema';
import { signLink } from '../../domain/signed-links';
import { notificationWorkflowId } from '../../workflows/definitions';
import { eventually } from '../support/herald';
import { NodeProcess } from '../support/processes';
import { freePort } from '../support/temporal';

const LINK_SECRET = 'contact-privacy-link-secret-0123456789abcdef';
const TEXT = 'privacy-text-7f3a: the disk is full';
const ADA = { email: 'ada.private@example.com', phone: '+14155550171' };
const BOB_PHONE = '+14155550172';
/** Unsubscribed under its address before pseudonyms, through a link of that time. */
const LEGACY = 'legacy.unsubscribed@example.com';
/** Clicks such a link only now. */
const OLD_LINK = 'old.link@example.com';
/** A stored profile whose id is an email: its preferences are its own. */
const KEEPER = 'keeper@example.com';
const DETAIL_MARKER = 'detail-marker@example.com';

/**
 * The faults, set up before Herald starts: a check constraint that refuses the accept of category
 * `fault-accept`, and a trigger that fails the first four writes of a `fault-activity` notification's
 * outcome (three tries of the local activity, one of the regular one) with a detail that quotes a value.
 */
const FAULTS = [
  `alter table notifications add constraint privacy_fault_accept check (category is distinct from 'fault-accept')`,
  'create sequence privacy_fault_seq',
  `create function privacy_fault() returns trigger language plpgsql as $$
  begin
    if nextval('privacy_fault_seq') <= 4 then
      raise exception using errcode = 'unique_violation',
        message = 'duplicate key value violates unique constraint "privacy_fault"',
        detail = 'Key (email)=(${DETAIL_MARKER}) already exists.';
    end if;
    return new;
  end $$`,
  `create trigger privacy_fault before update on notifications for each row
    when (new.category = 'fault-activity' and new.status <> 'accepted') execute function privacy_fault()`,
];

interface Outbox {
  messages: { channel: string; recipient: string; text: string; details?: Record<string, unknown> }[];
}
interface Status {
  status: string;
  deliveries: { recipient_id: string; channel: string; status: string }[];
}

/**
 * `npm start` logging at info, sending to inline recipients named by their email or phone alone: their
 * addresses appear in no log line, search attribute, link or status, and a failed query (at accept, in an
 * activity) leaves no value it bound in the logs or the workflow's history.
 */
describe('contact details stay out of logs, search attributes, links and histories', () => {
  const apiKey = newApiKey().key;
  let herald: NodeProcess;
  let base: string;
  let temporal: Connection;
  let client: Client;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const prepared = await prepareDatabase(apiKey);
    cleanup = prepared.cleanup;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    herald = new NodeProcess(undefined, {
      env: {
        ...process.env,
        ...prepared.env,
        TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
        HERALD_TASK_QUEUE: `privacy-${randomUUID()}`,
        HERALD_DEV_API_KEY: apiKey,
        HERALD_LINK_SECRET: LINK_SECRET,
        HERALD_PUBLIC_URL: base,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        HERALD_SDK_METRICS_ADDRESS: '',
        HERALD_SHUTDOWN_GRACE_SECONDS: '1',
        // Notifications close once sent: no wait for receipts or an operator's retry.
        HERALD_RECEIPT_WINDOW_SECONDS: '0',
        HERALD_RETRY_WINDOW_SECONDS: '0',
      },
    });
    await herald.waitFor('Press Ctrl-C to stop', 240_000);
    temporal = await Connection.connect({ address: process.env.HERALD_TEST_TEMPORAL_ADDRESS! });
    client = new Client({ connection: temporal });
  }, 300_000);

  afterAll(async () => {
    await temporal?.close();
    await herald?.stop('SIGINT');
    await cleanup?.();
  });

  const call = async (method: string, url: string, body?: object) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as unknown };
  };
  const notify = async (body: object) => {
    const res = await call('POST', '/notify', body);
    expect(res.status).toBe(202);
    return (res.json() as { notification_id: string }).notification_id;
  };
  const settled = (id: string) =>
    eventually(
      () => call('GET', `/status/${id}`).then((r) => r.json() as Status),
      (s) => s.deliveries.length > 0 && s.deliveries.every((d) => !['pending', 'sending'].includes(d.status)),
      60_000,
    );
  const emailTo = async (address: string) => {
    const id = await notify({ channels: ['email'], recipients: [{ email: address }], message: 'Again' });
    return (await settled(id)).deliveries[0]!.status;
  };

  it('everywhere a notification to inline recipients goes, and wherever a query fails', async () => {
    const addresses = [ADA.email, ADA.phone, BOB_PHONE];
    const id = await notify({
      channels: ['email', 'sms'],
      recipients: [ADA, { phone: BOB_PHONE }],
      message: { subject: 'Disk', text: TEXT },
      escalation: { steps: [{ after: '1h', channels: ['sms'] }] },
    });
    const status = await settled(id);
    const ids = [...new Set(status.deliveries.map((d) => d.recipient_id))];
    expect(ids).toHaveLength(2);
    for (const recipientId of ids) expect(recipientId).toMatch(/^anon_[0-9a-f]{32}$/);

    // The workflow's search attributes name the pseudonyms only.
    const handle = client.workflow.getHandle(notificationWorkflowId('dev', id));
    const listed = JSON.stringify((await handle.describe()).searchAttributes);
    for (const address of addresses) expect(listed).not.toContain(address);
    expect(listed).toContain(ids[0]);

    // The links the messages carry: their payloads name the pseudonyms, and they work.
    const outbox = (await call('GET', `/dev/outbox?notification_id=${id}`)).json() as Outbox;
    const links = [...JSON.stringify(outbox).matchAll(/\/(ack|unsubscribe)\/([\w-]+)\.([\w-]+)/g)];
    expect(new Set(links.map((l) => l[1]))).toEqual(new Set(['ack', 'unsubscribe']));
    for (const [, , payload] of links) {
      const claim = Buffer.from(payload!, 'base64url').toString('utf8');
      for (const address of addresses) expect(claim).not.toContain(address);
      expect(JSON.parse(claim).recipientId).toMatch(/^anon_/);
    }
    const [ack] = links.filter((l) => l[1] === 'ack');
    expect((await fetch(`${base}/ack/${ack![2]}.${ack![3]}`, { method: 'POST' })).status).toBe(200);
    await expect(handle.result()).resolves.toBeDefined();
    const [unsubscribe] = links.filter((l) => l[1] === 'unsubscribe');
    expect((await fetch(`${base}/unsubscribe/${unsubscribe![2]}.${unsubscribe![3]}`, { method: 'POST' })).status).toBe(
      200,
    );
    // The same address is the same recipient in the next notification: the unsubscribe holds.
    expect(await emailTo(ADA.email)).toBe('suppressed');

    // Unsubscribes made under an address by an earlier version hold, made before or after this one started.
    expect(await emailTo(LEGACY)).toBe('suppressed');
    const oldLink = signLink(LINK_SECRET, { purpose: 'unsubscribe', tenantId: 'dev', recipientId: OLD_LINK });
    expect((await fetch(`${base}/unsubscribe/${oldLink}`, { method: 'POST' })).status).toBe(200);
    expect(await emailTo(OLD_LINK)).toBe('suppressed');
    // A profile that has an email as its id keeps its own preferences, where they were.
    const kept = await call('GET', `/recipients/${KEEPER}/preferences`);
    expect(kept.json()).toMatchObject({ recipient_id: KEEPER, enabled: false });

    // A failed accept: the statement bound the whole request.
    const refused = await call('POST', '/notify', {
      channels: ['email'],
      recipients: [ADA],
      message: TEXT,
      category: 'fault-accept',
    });
    expect(refused.status).toBe(500);
    for (const value of [...addresses, TEXT]) expect(refused.text).not.toContain(value);

    // A failed record of the outcome: tried again until the database takes it, each failure kept.
    const faulty = await notify({ channels: ['email'], recipients: [ADA], message: TEXT, category: 'fault-activity' });
    const faultyHandle = client.workflow.getHandle(notificationWorkflowId('dev', faulty));
    // Started by the dispatcher a moment after the accept.
    await eventually(
      () =>
        faultyHandle.describe().then(
          (d) => d.status.name,
          () => 'not started',
        ),
      (state) => state === 'COMPLETED',
      60_000,
    );
    // Every failure the history keeps (the local tries' marker, the regular try's last failure).
    const failures: string[] = [];
    JSON.stringify(await faultyHandle.fetchHistory(), (key, value: unknown) => {
      if ((key === 'failure' || key === 'lastFailure') && value) failures.push(JSON.stringify(value));
      return value;
    });
    const failed = failures.join('\n');
    expect(failed).toContain('violates unique constraint \\"privacy_fault\\"');
    // The statement bound the notification's row (its id among the values) and its deliveries'.
    for (const bound of [faulty, ADA.email, DETAIL_MARKER, 'Failed query', 'params'])
      expect(failed).not.toContain(bound);

    // Erasing an address erases what its pseudonym has: its unsubscribe goes with it.
    const erased = await call('DELETE', `/recipients/${encodeURIComponent(ADA.email)}`);
    expect(erased.json()).toMatchObject({ deleted: { preferences: true } });
    expect(await emailTo(ADA.email)).toBe('delivered');

    // Everything Herald printed: the API's request logs, the worker's and the SDK's warnings.
    const logs = herald.output();
    for (const value of [...addresses, LEGACY, OLD_LINK, TEXT, DETAIL_MARKER, oldLink, 'Failed query', 'params'])
      expect(logs).not.toContain(value);
    // Both failures were logged, the server's words kept.
    expect(logs).toContain('violates check constraint \\"privacy_fault_accept\\"');
    expect(logs).toContain('violates unique constraint \\"privacy_fault\\"');
  }, 180_000);
});

/**
 * A database of its own, prepared as an earlier version left it: the dev tenant, an unsubscribe kept under
 * an address, a profile with an email as its id; and the faults. PostgreSQL when DATABASE_URL is set.
 */
async function prepareDatabase(apiKey: string) {
  const url = process.env.DATABASE_URL;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-privacy-'));
  let own: string | undefined;
  if (url) {
    const name = `herald_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await onServer(url, `create database ${name}`);
    const at = new URL(url);
    at.pathname = `/${name}`;
    own = at.toString();
  }
  const cleanup = async () => {
    if (own) await onServer(url!, `drop database if exists ${new URL(own).pathname.slice(1)}`);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const handle = await openDatabase(own ? { url: own } : { dataDir: path.join(dataDir, 'pg') });
    await upsertTenant(handle.db, 'dev', 'Development tenant', apiKey);
    await handle.db.insert(recipients).values({ tenantId: 'dev', id: KEEPER, email: KEEPER });
    await handle.db.insert(preferences).values([
      { tenantId: 'dev', recipientId: LEGACY, preferences: { enabled: false }, version: 1 },
      { tenantId: 'dev', recipientId: KEEPER, preferences: { enabled: false }, version: 1 },
    ]);
    for (const statement of FAULTS) await handle.db.execute(sql.raw(statement));
    await handle.close();
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { env: { HERALD_DATA_DIR: dataDir, ...(own ? { DATABASE_URL: own } : {}) }, cleanup };
}

async function onServer(url: string, statement: string) {
  const server = new pg.Client({ connectionString: url });
  await server.connect();
  await server.query(statement);
  await server.end();
}
