import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../db/connect';
import { eventually, startTestHerald, type TestHerald, type TestTenant } from '../support/herald';

/**
 * Tables a notification's own path reads per tenant: at accept (stored recipients by id, the template,
 * its versions and a running experiment) and in the deliver activity (the pinned version).
 */
const SCOPED_TABLES = ['recipients', 'templates', 'template_versions', 'experiments'];
const url = process.env.DATABASE_URL;

/**
 * Row-level security binds Herald's own connection on these tables (FORCE, under a database user that
 * is not a superuser and owns them): a query there finds rows only when run in the tenant's scope
 * (`inTenant`). A notification sent by stored recipient ids, rendered from a template in an experiment,
 * goes through, so every query on its path runs with its tenant set. PostgreSQL only: PGlite's one user
 * is a superuser, whom row-level security never binds.
 */
(url ? describe : describe.skip)("a notification's path runs its queries in its tenant's scope", () => {
  const role = `herald_app_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const name = `herald_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  let herald: TestHerald;
  let tenant: TestTenant;

  const onServer = async (database: string, statements: string[]) => {
    const client = new pg.Client({ connectionString: withDatabase(url!, database) });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  };
  const serverDatabase = new URL(url ?? 'postgres://x/x').pathname.slice(1);

  /** The database as a deployment's: migrated, owned by a user that is not a superuser, the tables forced. */
  async function ownedDatabase(): Promise<DatabaseHandle> {
    await onServer(serverDatabase, [`create database ${name}`, `create role ${role} login`]);
    await (await openDatabase({ url: withDatabase(url!, name) })).close();
    await onServer(name, [
      `grant herald_tenant to ${role}`,
      `grant create on database ${name} to ${role}`,
      `alter schema drizzle owner to ${role}`,
      `alter table drizzle.__drizzle_migrations owner to ${role}`,
      `do $$ declare t record; begin
         for t in select tablename from pg_tables where schemaname = 'public' loop
           execute format('alter table public.%I owner to ${role}', t.tablename);
         end loop;
       end $$`,
      ...SCOPED_TABLES.map((table) => `alter table ${table} force row level security`),
    ]);
    const at = new URL(withDatabase(url!, name));
    at.username = role;
    const handle = await openDatabase({ url: at.toString(), poolSize: 4 });
    return {
      ...handle,
      async close() {
        await handle.close();
        await onServer(serverDatabase, [`drop database if exists ${name}`, `drop role if exists ${role}`]);
      },
    };
  }

  beforeAll(async () => {
    herald = await startTestHerald({}, { database: ownedDatabase });
    tenant = await herald.createTenant();
  }, 180_000);
  afterAll(() => herald?.stop());

  const call = (method: 'GET' | 'PUT' | 'POST', path: string, payload?: object) =>
    herald.api.inject({ method, url: path, headers: tenant.auth, ...(payload ? { payload } : {}) });

  it('forgets nothing: an unscoped query on these tables finds no row', async () => {
    expect((await call('PUT', '/recipients/ada', { email: 'ada@example.com' })).statusCode).toBeLessThan(300);
    const { rows } = (await herald.db.execute('select count(*)::int as n from recipients')) as unknown as {
      rows: { n: number }[];
    };
    expect(rows[0]!.n).toBe(0);
  });

  it('accepts, renders and delivers a templated notification to a stored recipient in an experiment', async () => {
    expect(
      (await call('PUT', '/templates/welcome', { in_app: { title: 'Hi', body: 'Hello {{ name }}' } })).statusCode,
    ).toBe(201);
    expect(
      (await call('PUT', '/templates/welcome', { in_app: { title: 'Hi', body: 'Welcome, {{ name }}' } })).statusCode,
    ).toBe(201);
    const experiment = await call('POST', '/templates/welcome/experiments', {
      variants: [
        { name: 'control', version: 1 },
        { name: 'warmer', version: 2 },
      ],
      metric: 'delivered',
    });
    expect(experiment.statusCode).toBe(201);

    const sent = await call('POST', '/notify', {
      channels: ['in_app'],
      recipient_ids: ['ada'],
      template: 'welcome',
      data: { name: 'Ada' },
    });
    expect(sent.json()).toEqual(expect.objectContaining({ notification_id: expect.any(String) }));
    const id = sent.json().notification_id;
    const status = await eventually(
      () => call('GET', `/status/${id}`).then((r) => r.json()),
      (s) => s.deliveries?.[0]?.status === 'delivered',
    );
    expect(status.deliveries[0]).toMatchObject({ recipient_id: 'ada', channel: 'in_app', template: 'welcome' });
    const inbox = (await call('GET', '/recipients/ada/inbox')).json();
    expect(inbox.messages.map((m: { text: string }) => m.text)).toContainEqual(expect.stringMatching(/Ada/));
    const seen = (await call('GET', `/experiments/${experiment.json().id}`)).json();
    expect(seen.variants.reduce((n: number, v: { exposed: number }) => n + v.exposed, 0)).toBe(1);
  });
});

function withDatabase(server: string, database: string): string {
  const at = new URL(server);
  at.pathname = `/${database}`;
  return at.toString();
}
