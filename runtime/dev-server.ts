import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { Connection } from '@temporalio/client';

export interface DevServerOptions {
  executable: string;
  port: number;
  /** Web UI port, or undefined for a headless server. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFile?: string;
  namespace: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` and waits until its frontend accepts connections. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    ...(options.dbFile ? ['--db-filename', options.dbFile] : []),
    ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
  ];
  // Its own process group: a Ctrl-C reaches Herald first, which stops the server last.
  const child = spawn(options.executable, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  const stderrClosed = once(child.stderr!, 'close').catch(() => undefined);
  // Its exit can be seen before the last of its stderr, which says why: wait a moment for the reason.
  const exitError = async () => {
    await Promise.race([stderrClosed, new Promise((r) => setTimeout(r, 1000))]);
    return new Error(`Temporal dev server exited (${child.exitCode}): ${stderr.trim()}`);
  };
  const address = `127.0.0.1:${options.port}`;

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await canConnect(options.port))) {
    if (child.exitCode !== null) throw await exitError();
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server did not listen on ${address} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // The port opens before the frontend serves: wait until it answers, or the first caller gets "not healthy yet".
  while (!(await answers(address))) {
    if (child.exitCode !== null) throw await exitError();
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server on ${address} did not become healthy in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return {
    address,
    process: child,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 2000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
