import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDevServer } from '../../runtime/dev-server';
import { ensureTemporalBinary } from '../../runtime/temporal-binaries';
import { eventually } from '../support/herald';
import { listeningPid } from '../support/processes';
import { freePort } from '../support/temporal';

const executable = () => ensureTemporalBinary('cli')!;

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the Temporal dev server Herald starts', () => {
  it('that cannot start is reported with its own reason', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-dev-server-'));
    try {
      const dbFile = path.join(dir, 'no-such-folder', 'temporal.sqlite');
      await expect(
        startDevServer({ executable: executable(), port: await freePort(), dbFile, namespace: 'default' }),
      ).rejects.toThrow(/exited \(1\): .*no-such-folder/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on a port another process holds is refused, naming the port, its variable and the fix', async () => {
    const port = await freePort();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startDevServer({ executable: executable(), port, namespace: 'default' })).rejects.toThrow(
        `Port ${port} (TEMPORAL_DEV_PORT) is taken: another process listens on 127.0.0.1:${port}, perhaps a ` +
          'Temporal dev server an earlier run left. Stop that process, or set TEMPORAL_DEV_PORT to a free port',
      );
    } finally {
      taken.close();
    }
  });

  it('is not used in place of a new one when another dev server holds the port; stop() releases it', async () => {
    const port = await freePort();
    const first = await startDevServer({ executable: executable(), port, namespace: 'default' });
    try {
      await expect(startDevServer({ executable: executable(), port, namespace: 'default' })).rejects.toThrow(
        /Port \d+ \(TEMPORAL_DEV_PORT\) is taken/,
      );
    } finally {
      await first.stop();
    }
    expect(listeningPid(first.address)).toBeUndefined();
  }, 120_000);

  it('stops when the process that started it is killed with SIGKILL', async () => {
    const port = await freePort();
    const starter = spawn(
      process.execPath,
      ['--import', 'tsx', path.resolve(__dirname, '../support/dev-server-child.ts'), String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    starter.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let server: number | undefined;
    try {
      await eventually(
        async () => output,
        (text) => text.includes('ready') || starter.exitCode !== null,
        90_000,
      );
      server = listeningPid(`127.0.0.1:${port}`);
      expect(server).toBeDefined();
      starter.kill('SIGKILL');
      // The server stops in its own time once its starter is gone: its port is free and its process ended.
      await eventually(
        async () => ({ running: isRunning(server!), listening: listeningPid(`127.0.0.1:${port}`) }),
        (s) => !s.running && s.listening === undefined,
        30_000,
      );
    } finally {
      starter.kill('SIGKILL');
      // Left running only if this test failed: not for the next test to find.
      if (server && isRunning(server)) process.kill(server, 'SIGKILL');
    }
  }, 150_000);
});
