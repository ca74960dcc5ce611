import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/herald';
import { NodeProcess } from '../support/processes';
import { freePort } from '../support/temporal';

const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/**
 * As a new user tries it: `npm start`, two tenants from the admin CLI (its token read from the data
 * folder), a send with each key, no way into the other's notifications, a clean 429, plain errors.
 */
describe('a new user with the admin CLI', () => {
  let herald: NodeProcess;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-new-user-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
      HERALD_TASK_QUEUE: `new-user-${port}`,
      HERALD_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      HERALD_SDK_METRICS_ADDRESS: '',
      HERALD_SHUTDOWN_GRACE_SECONDS: '1',
    };
    // A new user's npm start: embedded PGlite in the data folder, no configured admin token.
    delete env.HERALD_ADMIN_TOKEN;
    delete env.DATABASE_URL;
    herald = new NodeProcess(undefined, { env });
    await herald.waitFor('Press Ctrl-C to stop');
  }, 180_000);
  afterAll(async () => {
    await herald?.stop('SIGINT');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const admin = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], { cwd: root, env }).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (error: { code: number; stderr: string }) => ({ code: error.code, out: error.stderr }),
    );
  const api = async (key: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const keyOf = (out: string) => /API key (hk_\S+)/.exec(out)![1]!;

  it('creates two tenants, keeps them apart, limits them and explains every refusal', async () => {
    const acme = await admin('tenants', 'create', 'acme', '--name', 'Acme Inc');
    expect(acme).toMatchObject({ code: 0, out: expect.stringContaining('acme  "Acme Inc"') });
    const globex = await admin('tenants', 'create', 'globex');
    const [acmeKey, globexKey] = [keyOf(acme.out), keyOf(globex.out)];
    expect((await admin('tenants', 'create', 'acme')).out).toMatch(/409 There is already a tenant acme/);

    const send = (key: string, text: string) =>
      api(key, 'POST', '/notify', { channels: ['in_app'], recipients: [{ id: 'ada' }], message: text });
    const fromAcme = await send(acmeKey, 'for acme');
    const fromGlobex = await send(globexKey, 'for globex');
    expect([fromAcme.status, fromGlobex.status]).toEqual([202, 202]);
    const acmeId = fromAcme.body.notification_id as string;
    expect((await api(acmeKey, 'GET', `/status/${acmeId}`)).status).toBe(200);
    expect((await api(globexKey, 'GET', `/status/${acmeId}`)).status).toBe(404);
    expect((await api(globexKey, 'POST', `/notifications/${acmeId}/cancel`)).status).toBe(404);
    // Delivery runs after the 202: wait for globex's message, then see it is globex's alone.
    const inbox = await eventually(
      () => api(globexKey, 'GET', '/recipients/ada/inbox').then((r) => r.body.messages as unknown[]),
      (messages) => messages.length > 0,
    );
    expect(inbox).toEqual([expect.objectContaining({ text: 'for globex' })]);

    expect((await admin('tenants', 'limits', 'globex', '--rate', '1', '--burst', '2')).out).toContain(
      'rate 1/s  burst 2',
    );
    const burst = await Promise.all(Array.from({ length: 10 }, () => api(globexKey, 'GET', '/audit')));
    const refused = burst.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(10 - 4);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.body).toMatchObject({ title: 'Too many requests', status: 429 });
    // Acme's allowance is its own.
    expect((await api(acmeKey, 'GET', '/audit')).status).toBe(200);

    const garbage = await api(acmeKey, 'POST', '/notify', {
      channels: ['email'],
      recipients: [{ email: 'not an address' }],
      message: 'x',
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject({ field: 'recipients[0].email', detail: expect.stringMatching(/email/) });
    const wrongKey = await api(`${acmeKey}x`, 'GET', '/audit');
    expect(wrongKey).toMatchObject({ status: 401, body: { field: 'authorization' } });

    const keys = await admin('keys', 'list', 'acme');
    expect(keys.out).toMatch(/^hk_[0-9a-f]{10} {2}default {2}\[send,read,admin\]$/m);
    expect((await admin('keys', 'revoke', 'acme', 'nope')).out).toMatch(
      /400 key_id is not valid: A key id, e\.g\. `hk_0a1b2c3d4e`/,
    );
    const revoked = await admin('keys', 'revoke', 'acme', acmeKey.split('_').slice(0, 2).join('_'));
    expect(revoked).toMatchObject({ code: 0 });
    expect((await api(acmeKey, 'GET', '/audit')).status).toBe(401);
    expect((await admin('frobnicate')).code).toBe(2);
  });

  /** The `language` block of a Markdown file that holds `marker`. */
  const codeBlock = (file: string, marker: string, language = 'sh') => {
    const blocks = readFileSync(path.join(root, file), 'utf8').split(`\`\`\`${language}\n`).slice(1);
    const block = blocks.map((b) => b.split('\n```')[0]!).find((b) => b.includes(marker));
    if (!block) throw new Error(`${file} has no ${language} block with ${marker}`);
    return block;
  };

  it('runs the README quick start, then the templates walkthrough, as pasted (only the address changed)', async () => {
    const script = [codeBlock('README.md', 'export HERALD_KEY'), codeBlock('docs/api.md', 'H=(-H')]
      .join('\n')
      .replaceAll('localhost:8080', base.replace('http://', ''));
    // A folder as the reader's clone: .herald is where npm start keeps its data.
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'herald-readme-'));
    symlinkSync(dataDir, path.join(cwd, '.herald'));
    try {
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
        cwd,
        env: { ...env, HERALD_KEY: '' },
      });
      expect(stdout.match(/"notification_id":"[^"]+"/g)).toHaveLength(3);
      expect(stdout).toMatch(/"deliveries":\[/);
      expect(stdout).toMatch(/"key":"order-shipped","version":1/);
      expect(stdout).toMatch(/Allô Lou: 3 articles https:\/\/shop\.example\/o\/A-17/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('type-checks the README TypeScript example, then runs it as pasted (only the address changed)', async () => {
    const address = base.replace('http://', '');
    const source = codeBlock('README.md', 'createHeraldClient', 'ts').replaceAll('localhost:8080', address);
    // A reader's app with the client installed: its package name leads to the client's sources.
    const app = mkdtempSync(path.join(os.tmpdir(), 'herald-readme-ts-'));
    const [file, tsconfig] = [path.join(app, 'example.mts'), path.join(app, 'tsconfig.json')];
    writeFileSync(file, source);
    const compilerOptions = {
      strict: true,
      target: 'ES2022',
      module: 'nodenext',
      lib: ['ES2023'],
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
      skipLibCheck: true,
      noEmit: true,
      paths: { '@herald/client': [path.join(root, 'clients/node/src/index.ts')] },
    };
    writeFileSync(tsconfig, JSON.stringify({ compilerOptions, files: [file] }));
    try {
      await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig]).catch(
        (error: { stdout: string }) => {
          throw new Error(`The README's TypeScript does not type-check:\n${error.stdout}`);
        },
      );
      const key = readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8').trim();
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        env: { ...env, HERALD_KEY: key, TSX_TSCONFIG_PATH: tsconfig },
      });
      const [, id, status] = /^(\S+) (\S+)\n$/.exec(stdout) ?? [];
      expect(status).toMatch(/^(accepted|sending|delivered)$/);
      const delivered = await eventually(
        () => api(key, 'GET', `/status/${id}`),
        (r) => r.body.status === 'delivered',
      );
      expect(delivered.body.deliveries).toEqual([
        expect.objectContaining({ recipient_id: 'ada', channel: 'email', provider: 'dev-outbox' }),
      ]);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('fails a first send to fail-once.invalid in the dev outbox, so a newcomer can see a retry deliver it', async () => {
    const key = readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8').trim();
    const sent = await api(key, 'POST', '/notify', {
      channels: ['email'],
      recipients: [{ email: 'ada@fail-once.invalid' }],
      message: 'Try me again',
    });
    expect(sent.status).toBe(202);
    const id = (sent.body as { notification_id: string }).notification_id;
    const status = async () =>
      (await api(key, 'GET', `/status/${id}`)).body as { status: string; deliveries: { error?: string }[] };
    const failed = await eventually(status, (s) => s.status === 'failed');
    expect(failed.deliveries[0]!.error).toMatch(/fails the first send to an address at fail-once\.invalid/);
    expect((await api(key, 'POST', `/notifications/${id}/retry`, {})).status).toBe(202);
    expect((await eventually(status, (s) => s.status === 'delivered')).status).toBe('delivered');
  });
});
