/**
 * The services under Herald, each on ports and folders of this run's own, so a test suite's
 * PostgreSQL or a benchmark's Temporal server on the same machine is left alone, and each can be
 * stopped and started again on the same address.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { startDevServer, type DevServer } from '../../runtime/dev-server';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { freePort } from '../../test/support/temporal';
import { noteCluster, noteGroup, notePostgres, root } from './manifest';

const run = promisify(execFile);

async function script(args: string[], env: Record<string, string>, log: WriteStream): Promise<string> {
  const child = run('bash', args, { cwd: root, env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const { stdout, stderr } = await child;
  log.write(stderr);
  return stdout.trim();
}

/** A PostgreSQL cluster in `dir`, started and stopped by scripts/test-postgres.sh. */
export class Postgres {
  url = '';
  constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly log: WriteStream,
  ) {}

  async start(): Promise<void> {
    notePostgres(this.dir, this.port);
    this.url = await script(['scripts/test-postgres.sh', 'start', this.dir], this.env(), this.log);
  }

  async stop(): Promise<void> {
    await script(['scripts/test-postgres.sh', 'stop', this.dir], this.env(), this.log);
  }

  private env() {
    return { HERALD_TEST_PG_PORT: String(this.port) };
  }
}

export interface TemporalServer {
  readonly kind: 'cluster' | 'dev-server';
  readonly address: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The Temporal server scripts/temporal-cluster.sh builds and runs, on this run's PostgreSQL. */
export class TemporalCluster implements TemporalServer {
  readonly kind = 'cluster';
  constructor(
    private readonly home: string,
    private readonly port: number,
    private readonly databaseUrl: () => string,
    private readonly log: WriteStream,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    noteCluster(this.home, this.port);
    await script(['scripts/temporal-cluster.sh', 'start'], this.env(), this.log);
  }

  async stop(): Promise<void> {
    await script(['scripts/temporal-cluster.sh', 'stop'], this.env(), this.log);
  }

  private env() {
    return {
      TEMPORAL_CLUSTER_HOME: this.home,
      TEMPORAL_CLUSTER_PORT: String(this.port),
      TEMPORAL_CLUSTER_DATABASE_URL: this.databaseUrl(),
    };
  }
}

/** The Temporal CLI's dev server on a SQLite file, which survives its restarts. */
export class TemporalDevServer implements TemporalServer {
  readonly kind = 'dev-server';
  private server: DevServer | undefined;
  constructor(
    private readonly dbFile: string,
    private readonly port: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const executable = ensureTemporalBinary('cli', () => undefined);
    if (!executable) throw new Error('No Temporal CLI: run npm run temporal:install');
    this.server = await startDevServer({ executable, port: this.port, dbFile: this.dbFile, namespace: 'default' });
    noteGroup(this.server.process.pid!);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}

/** A Redis server without persistence, for the API processes' shared rate limits. */
export class Redis {
  private child: ChildProcess | undefined;
  constructor(
    private readonly executable: string,
    readonly port: number,
    private readonly log: WriteStream,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn(this.executable, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    noteGroup(child.pid!);
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    const deadline = Date.now() + 20_000;
    while (!(await answersPing(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server did not start on ${this.port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

/**
 * A free port whose neighbours at `offsets` are free too (the Temporal cluster's services sit beside
 * its frontend): `freePort`'s pick, kept when no listening socket holds any of the others.
 */
export async function freePortBlock(offsets: number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    const { stdout } = await run('ss', ['-Hltn']);
    const taken = new Set([...stdout.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])));
    if (offsets.every((o) => !taken.has(port + o) && port + o < 65536)) return port;
  }
}

/** The ports the Temporal cluster takes beside its frontend's (see scripts/temporal-cluster.sh). */
export const CLUSTER_PORT_OFFSETS = [0, 1, 2, 6, 10, 100, 101, 102, 106];

export function openLog(file: string): WriteStream {
  return createWriteStream(file, { flags: 'a' });
}
