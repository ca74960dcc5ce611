import { startDevServer, type DevServer } from '../../runtime/dev-server';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import net from 'node:net';
import type { NotificationSnapshot } from '../../domain/notification';
import { statusQuery } from '../../workflows/definitions';

/**
 * A port free now, below Linux's ephemeral range (32768 and up): a port the system hands out itself can
 * be taken meanwhile as the local end of any outgoing connection, and a test that restarts a server on
 * its port would then find it in use.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The dev server the whole test run shares; each test file works on task queues of its own. */
export async function startSharedDevServer(): Promise<DevServer> {
  const executable = ensureTemporalBinary('cli', (line) => console.log(line));
  if (!executable) throw new Error('No Temporal CLI: set TEMPORAL_CLI or run npm run temporal:install');
  return startDevServer({ executable, port: await freePort(), namespace: 'default' });
}

/** The time-skipping test server, as `createTimeSkipping` wants it named. */
export function timeSkippingExecutable() {
  const path = ensureTemporalBinary('test-server');
  return path ? { type: 'existing-path' as const, path } : undefined;
}

/** Queries a workflow until its status matches, in real time (a query does not skip test-server time). */
export async function waitForQuery(
  handle: { query: (q: typeof statusQuery) => Promise<NotificationSnapshot> },
  done: (s: NotificationSnapshot) => boolean,
): Promise<NotificationSnapshot> {
  for (let i = 0; i < 200; i++) {
    const s = await handle.query(statusQuery);
    if (done(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`status never matched; last: ${JSON.stringify(await handle.query(statusQuery))}`);
}
