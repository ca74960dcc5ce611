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
  /** The shell that runs the server and stops it when Herald ends. */
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs the server and stops it when this shell's standard input closes. Herald holds the other end of that
 * pipe, and the kernel closes it however Herald ends (its shutdown, SIGKILL, the OOM killer, a crash), so
 * the server never outlives it. A background job's standard input is /dev/null, hence the pipe on fd 3.
 */
const SUPERVISOR = `
exec 3<&0 0</dev/null
"$@" 3<&- &
server=$!
{ while read -r _ <&3; do :; done; kill -TERM "$server"; sleep 10; kill -KILL "$server"; } 2>/dev/null &
watcher=$!
exec 3<&-
wait "$server"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

/** Starts `temporal server start-dev` and waits until its frontend accepts connections. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  // Another process on a port would otherwise answer in its place: a dev server an earlier run left, say.
  await ensureFree(options.port, 'TEMPORAL_DEV_PORT');
  if (options.uiPort) await ensureFree(options.uiPort, 'TEMPORAL_UI_PORT');
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
  // A process group of its own: a Ctrl-C reaches Herald first, which stops the server last.
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'temporal', options.executable, ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  // Ended by stop(), never written: a server that exited first would make the end an EPIPE error.
  child.stdin!.on('error', () => undefined);
  const stopGroup = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  };
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
      stopGroup();
      throw new Error(`Temporal dev server did not listen on ${address} in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // The port opens before the frontend serves: wait until it answers, or the first caller gets "not healthy yet".
  while (!(await answers(address))) {
    if (child.exitCode !== null) throw await exitError();
    if (Date.now() > deadline) {
      stopGroup();
      throw new Error(`Temporal dev server on ${address} did not become healthy in time: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(stopGroup, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Fails naming the port, the variable that sets it and the fix, when another process listens there. */
async function ensureFree(port: number, variable: string): Promise<void> {
  const server = net.createServer();
  const taken = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
  if (taken)
    throw new Error(
      `Port ${port} (${variable}) is taken: another process listens on 127.0.0.1:${port}, perhaps a Temporal ` +
        `dev server an earlier run left. Stop that process, or set ${variable} to a free port`,
    );
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
