import { startDevServer, type DevServer } from '../../runtime/dev-server';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
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
