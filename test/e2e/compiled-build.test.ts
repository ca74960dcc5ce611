import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { eventually } from '../support/herald';
import { ownPostgres } from '../support/own-postgres';
import { NodeProcess } from '../support/processes';
import { freePort } from '../support/temporal';

const root = path.resolve(__dirname, '../..');
const dist = path.join(root, 'dist');
const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

/** The packages a compiled file requires by name (`@scope/name` or `name`, without a subpath). */
function requiredPackages(code: string): string[] {
  // Static imports compile to require("…"), lazy `await import('…')` to require('…').
  const names = [...code.matchAll(/require\((['"])([^'".][^'"]*)\1\)/g)].map((m) => m[2]!);
  return names.map((name) =>
    name
      .split('/')
      .slice(0, name.startsWith('@') ? 2 : 1)
      .join('/'),
  );
}

function compiledFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js') && !entry.name.startsWith('workflow-bundle'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('the compiled build: npm run build, then plain node on dist/', () => {
  beforeAll(async () => {
    await run(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root });
  }, 300_000);

  it('says on --help what each entry point needs', async () => {
    for (const [entry, needs] of [
      ['api', /DATABASE_URL.*TEMPORAL_ADDRESS/s],
      ['worker', /DATABASE_URL.*TEMPORAL_ADDRESS/s],
      ['migrate', /DATABASE_URL/],
      ['embedded', /embedded defaults/],
    ] as const) {
      const { stdout } = await run(process.execPath, [path.join(dist, 'main', `${entry}.js`), '--help']);
      expect(stdout).toMatch(needs);
    }
  });

  it('requires no dev dependency (the image installs production ones only) and never tsx', () => {
    const allowed = new Set([...Object.keys(packageJson.dependencies), ...builtinModules]);
    // npm start's last resort without a Temporal CLI (the SDK's own download) is for a development
    // checkout, where dev dependencies are installed; the image never runs it.
    const development: Record<string, string[]> = { 'main/embedded.js': ['@temporalio/testing'] };
    const strays = compiledFiles(dist).flatMap((file) =>
      requiredPackages(readFileSync(file, 'utf8'))
        .filter((name) => !name.startsWith('node:') && !allowed.has(name))
        .filter((name) => !development[path.relative(dist, file)]?.includes(name))
        .map((name) => `${path.relative(dist, file)} requires ${name}`),
    );
    expect(strays).toEqual([]);
    expect(compiledFiles(dist).length).toBeGreaterThan(100);
    // tsx runs the sources only: it is a dev dependency, so nothing compiled may need it.
    expect(allowed.has('tsx')).toBe(false);
  });

  describe('against PostgreSQL and Temporal', () => {
    let postgres: Awaited<ReturnType<typeof ownPostgres>>;
    let smtp: FakeSmtpServer;
    const processes: NodeProcess[] = [];
    beforeAll(async () => {
      [postgres, smtp] = await Promise.all([ownPostgres(), new FakeSmtpServer().start()]);
    }, 120_000);
    afterAll(async () => {
      const codes = await Promise.all(processes.map((p) => p.stop()));
      await Promise.all([postgres?.remove(), smtp?.stop()]);
      expect(codes.every((code) => code === 0)).toBe(true);
    });

    it('migrates once with three migrators starting together, then delivers from dist/', async () => {
      const env = { ...process.env, DATABASE_URL: postgres.url, LOG_LEVEL: 'warn' };
      const migrators = [1, 2, 3].map(() => new NodeProcess('main/migrate.ts', { env, compiled: true }));
      expect(await Promise.all(migrators.map((m) => m.exit()))).toEqual([0, 0, 0]);
      for (const m of migrators) expect(m.output()).toContain('the schema is up to date');
      const journal = JSON.parse(readFileSync(path.join(root, 'db/migrations/meta/_journal.json'), 'utf8')) as {
        entries: unknown[];
      };
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      const { rows } = await client.query('select count(*)::int as n from drizzle.__drizzle_migrations');
      await client.end();
      expect(rows[0].n).toBe(journal.entries.length);

      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const adminToken = `admin-${randomUUID()}`;
      const serving = {
        ...env,
        TEMPORAL_ADDRESS: process.env.HERALD_TEST_TEMPORAL_ADDRESS,
        HERALD_TASK_QUEUE: `compiled-${randomUUID()}`,
        HERALD_WEBHOOK_SECRET: 'compiled-secret',
        HERALD_ADMIN_TOKEN: adminToken,
        SMTP_URL: smtp.url,
        PORT: String(port),
        HOST: '127.0.0.1',
      };
      const worker = new NodeProcess('main/worker.ts', { env: serving, compiled: true });
      const api = new NodeProcess('main/api.ts', { env: serving, compiled: true });
      processes.push(worker, api);
      await worker.waitFor('polling task queue', 180_000);
      expect(worker.output()).toContain(`workflows from ${path.join('dist', 'workflow-bundle.js')}`);
      await eventually(
        () =>
          fetch(`${base}/readyz`).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200,
        60_000,
      );

      const { stdout } = await run(
        process.execPath,
        [path.join(dist, 'scripts/admin.js'), 'tenants', 'create', 'compiled', '--name', 'Compiled'],
        { env: { ...serving, HERALD_URL: base } },
      );
      const apiKey = /API key (hk_\S+)/.exec(stdout)![1]!;
      const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const accepted = await fetch(`${base}/notify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          channels: ['email'],
          recipients: [{ email: 'ops@example.com' }],
          message: { subject: 'From the compiled build', text: 'node dist/main/worker.js' },
        }),
      });
      expect(accepted.status).toBe(202);
      const { notification_id } = (await accepted.json()) as { notification_id: string };
      await eventually(
        () =>
          fetch(`${base}/status/${notification_id}`, { headers }).then((r) => r.json() as Promise<{ status: string }>),
        (s) => s.status === 'delivered' || s.status === 'sent',
      );
      expect(smtp.received.filter((m) => m.subject === 'From the compiled build')).toHaveLength(1);
    }, 300_000);
  });
});
